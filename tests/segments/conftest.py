from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import CustomerFactory, ProductFactory, make_order

NEWEST = datetime(2026, 10, 1, 12, tzinfo=UTC)


@pytest.fixture
def small_shop(db):
    """Twelve customers whose RFM standing can be read off by eye.

    c0..c3 buy often, recently and big; c8..c11 bought once, long ago, little.
    One order is cancelled (must not count) and one has a return.
    """
    coffee = ProductFactory(name="Espresso Beans", category="Coffee")
    frother = ProductFactory(name="Milk Frother", category="Equipment")
    syrup = ProductFactory(name="Vanilla Syrup", category="Syrups")
    tea = ProductFactory(name="Green Tea", category="Tea")
    customers = [CustomerFactory(first_name=f"C{i}") for i in range(12)]
    for i, customer in enumerate(customers):
        orders = max(1, 8 - i)  # c0: 8 orders ... c7..c11: 1 order
        last = NEWEST - timedelta(days=3 + 25 * i)
        for n in range(orders):
            when = last - timedelta(days=30 * n)
            lines = [(coffee, 1 + (i < 4), "20.00")]
            if i % 2 == 0:
                lines.append((frother, 1, "35.00"))
                lines.append((syrup, 1, "6.50"))
            if i % 3 == 0:
                lines.append((tea, 2, "8.00"))
            make_order(customer, when, lines)
    cancelled = make_order(customers[11], NEWEST - timedelta(days=1), [(coffee, 5, "20.00")])
    cancelled.is_cancelled = True
    cancelled.save(update_fields=["is_cancelled"])
    returned = make_order(customers[5], NEWEST - timedelta(days=200), [(frother, 1, "35.00")])
    returned.returned_total = 35
    returned.net_total = 0
    returned.save(update_fields=["returned_total", "net_total"])
    # The newest (non-cancelled) order defines "now" for the analysis.
    return {"customers": customers, "products": [coffee, frother, syrup, tea]}
