from __future__ import annotations

import pandas as pd

from segments.analysis.overview import monthly_revenue, order_totals


def _orders(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "ordered_at": pd.to_datetime([r[1] for r in rows], utc=True),
        "net_total": [r[2] for r in rows],
    })


ORDERS = _orders([
    (1, "2026-01-05T10:00:00Z", 10.10),
    (1, "2026-02-07T10:00:00Z", 20.20),
    (2, "2026-02-28T23:59:59Z", 0.10),
    (2, "2026-02-28T23:59:59Z", 0.20),  # two first orders at the same moment: both new
    (3, "2026-03-01T00:00:00Z", 5.00),
    (1, "2026-03-31T12:00:00Z", 1.00),
])


def test_order_totals_count_orders_revenue_active_buyers_and_repeaters():
    totals = order_totals(ORDERS, newest=pd.Timestamp("2026-03-31T12:00:00Z"))

    assert totals.orders == 6
    assert totals.revenue == 36.6  # exactly the decimal sum, not 36.599999…
    assert totals.active_customers == 3  # all within 90 days of the newest order
    assert totals.repeat_rate == 2 / 3  # customers 1 and 2


def test_active_customers_leave_out_those_quiet_for_90_days():
    totals = order_totals(ORDERS, newest=pd.Timestamp("2026-06-01T00:00:00Z"))

    assert totals.active_customers == 1  # only customer 1 (March 31st)


def test_monthly_revenue_splits_new_and_returning_customers_by_utc_month():
    months = monthly_revenue(ORDERS)

    assert [m["month"] for m in months] == ["2026-01", "2026-02", "2026-03"]
    january, february, march = months
    assert january == {"month": "2026-01", "revenue": 10.1, "orders": 1, "new_revenue": 10.1,
                       "returning_revenue": 0.0, "new_customers": 1, "returning_customers": 0}
    assert (february["revenue"], february["orders"]) == (20.5, 3)
    assert (february["new_revenue"], february["new_customers"]) == (0.3, 1)
    assert february["returning_customers"] == 1
    assert (march["new_customers"], march["returning_customers"]) == (1, 1)
    assert march["new_revenue"] == 5.0


def test_no_orders_give_zeros_and_no_months():
    empty = _orders([])

    assert order_totals(empty, newest=pd.Timestamp("2026-01-01T00:00:00Z")).orders == 0
    assert monthly_revenue(empty) == []


def test_returns_and_orders_of_nothing_are_not_purchases_but_their_money_counts():
    orders = _orders([
        (1, "2026-03-01T10:00:00Z", 20.0),
        (1, "2026-03-03T10:00:00Z", -20.0),  # the same customer sends it back
        (2, "2026-03-04T10:00:00Z", -5.0),  # a refund only
        (3, "2026-03-05T10:00:00Z", 0.0),  # an order of 0.00
    ]).assign(gross_total=[20.0, 0.0, 0.0, 0.0])

    totals = order_totals(orders, newest=pd.Timestamp("2026-03-05T10:00:00Z"))

    assert totals.orders == 1
    assert totals.revenue == -5.0
    assert totals.active_customers == 1
    assert totals.repeat_rate == 0.0  # customer 1 bought once, then returned it
    assert [(m["orders"], m["revenue"]) for m in monthly_revenue(orders)] == [(1, -5.0)]


def test_monthly_revenue_counts_an_order_in_the_month_it_was_in_the_shops_time_zone():
    # 23:30 on 28 February in New York is 04:30 on 1 March in UTC
    orders = _orders([(1, "2025-03-01T04:30:00Z", 20.15), (1, "2025-03-02T04:30:00Z", 21.15)])

    months = monthly_revenue(orders, time_zone="America/New_York")

    assert [(m["month"], m["revenue"], m["new_revenue"]) for m in months] == [
        ("2025-02", 20.15, 20.15), ("2025-03", 21.15, 0.0)]
