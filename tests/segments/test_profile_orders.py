"""A long order history on a customer's profile: listed a page at a time, totalled in full.

Grocery households have hundreds of orders and thousands of lines; the profile lists
the latest orders and says how many there are, and every figure on it is of all orders.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ingest.models import Order, OrderLine
from profiler_site.core.templatetags.money import money
from tests.factories import CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db

START = datetime(2025, 1, 6, 9, tzinfo=UTC)
ORDER_NUMBER = re.compile(r"<td class=\"order-number\">(#H\d+-\w+)")


def _history(orders: int, lines_per_order: int, *, tag: str = "a"):
    """A customer with `orders` weekly orders of `lines_per_order` lines each, in bulk."""
    customer = CustomerFactory()
    products = [ProductFactory(name=f"Groceries {tag}{n}") for n in range(lines_per_order)]
    rows = []
    for n in range(orders):
        # Cents that differ per order, so a total of a page differs from a total of all.
        gross = Decimal(10 * lines_per_order) + Decimal(n % 97) / 100
        net = Decimal(0) if n == 3 else gross  # a cancelled order's net, as the import stores it
        rows.append(Order(customer=customer, order_key=f"#H{n:04d}-{tag}",
                          ordered_at=START + timedelta(days=7 * n), gross_total=gross,
                          net_total=net, is_cancelled=(n == 3)))
    created = Order.objects.bulk_create(rows)
    OrderLine.objects.bulk_create(
        OrderLine(order=order, product=product, quantity=1, unit_price=Decimal(10),
                  line_total=Decimal(10))
        for order in created for product in products)
    return customer


def _timeline(client, customer, page: int | None = None) -> str:
    url = reverse("customer-detail", args=[customer.pk]) + (f"?page={page}" if page else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().split('id="timeline"')[1].split("</section>")[0]


def test_a_long_history_is_listed_fifty_at_a_time_newest_first_each_order_once(owner_client):
    customer = _history(orders=120, lines_per_order=2)
    newest_first = list(Order.objects.filter(customer=customer)
                        .order_by("-ordered_at").values_list("order_key", flat=True))

    pages = [_timeline(owner_client, customer, page) for page in (1, 2, 3)]

    listed = [ORDER_NUMBER.findall(html) for html in pages]
    assert [len(rows) for rows in listed] == [50, 50, 20]
    assert [key for rows in listed for key in rows] == newest_first
    assert "Showing the latest 50 of 120 entries." in pages[0]
    assert "Showing entries 101–120 of 120, newest first." in pages[2]


def test_the_totals_shown_are_of_all_orders_not_of_the_listed_page(owner_client):
    customer = _history(orders=75, lines_per_order=3)
    every_order = Order.objects.filter(customer=customer)
    total = sum(o.net_total for o in every_order)
    first_page = sum(o.net_total for o in every_order.order_by("-ordered_at")[:50])
    assert total != first_page

    html = _timeline(owner_client, customer)

    # One order is cancelled: 74 purchases, as the analysis counts them, and the row it adds.
    assert f"74 orders, {money(total)} in all after returns." in html
    assert "The list also holds 1 return or cancelled order." in html
    assert money(first_page) not in html


def test_the_products_bought_count_every_order_even_those_not_listed(owner_client):
    customer = _history(orders=75, lines_per_order=3)

    page = owner_client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    products = page.split('id="products"')[1].split("</section>")[0]
    # Each product is in all 75 orders, 1 unit each: the table counts all, not the 50 listed,
    # except the cancelled one (the 74 orders the timeline above it counts).
    assert len(re.findall(r'<td class="num">74</td><td class="num">74</td>', products)) == 3


def test_the_profile_reads_the_same_number_of_queries_for_two_orders_or_a_thousand_lines(
        owner_client):
    small = _history(orders=2, lines_per_order=1, tag="s")
    large = _history(orders=130, lines_per_order=8, tag="l")
    owner_client.get(reverse("customer-detail", args=[small.pk]))  # session, settings warm

    counts = []
    for customer in (small, large):
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(reverse("customer-detail", args=[customer.pk]))
        counts.append(len(queries))

    assert counts[0] == counts[1], counts


def test_an_orders_products_are_listed_with_quantities_and_their_names_escaped(owner_client):
    customer = CustomerFactory()
    make_order(customer, START, [(ProductFactory(name="Tea <b>Bags</b>"), 2, "3.00"),
                                 (ProductFactory(name="", sku="SKU-NO-NAME"), 1, "4.00")])

    html = _timeline(owner_client, customer)

    assert "<td>Tea &lt;b&gt;Bags&lt;/b&gt; ×2, SKU-NO-NAME</td>" in html  # in product order
    assert "<b>Bags" not in html


def test_the_profiles_order_count_agrees_with_the_analysis_orders_figure(small_shop, owner_client):
    from tests.segments.helpers import run_refresh

    customer = small_shop["customers"][0]
    # A return exported as its own order: listed, counted in the money, not a purchase.
    Order.objects.create(customer=customer, order_key="R-1", ordered_at=START,
                         gross_total=0, returned_total=Decimal("7.90"),
                         net_total=Decimal("-7.90"))
    run_refresh(rules=False)
    customer.score.refresh_from_db()
    total = sum(o.net_total for o in Order.objects.filter(customer=customer))

    html = _timeline(owner_client, customer)

    assert customer.score.frequency == 8
    assert f"8 orders, {money(total)} in all after returns." in html
    assert "The list also holds 1 return or cancelled order." in html


def test_the_products_table_says_when_it_lists_only_the_most_bought(owner_client):
    customer = _history(orders=2, lines_per_order=60)

    page = owner_client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    products = page.split('id="products"')[1].split("</section>")[0]
    assert "The 50 products bought most often, of 60." in products
    assert products.count("<tr><td><a href=") == 50


def _import(lines: list[dict]) -> None:
    import pandas as pd

    from tests.segments.demo_loader import load_order_lines

    load_order_lines(pd.DataFrame(lines))


def _products_table(client, email: str) -> str:
    from ingest.models import Customer

    customer = Customer.objects.get(email=email)
    page = client.get(reverse("customer-detail", args=[customer.pk])).content.decode()
    return re.sub(r"\s+", " ", page.split('id="products"')[1].split("</section>")[0])


def test_a_cancelled_orders_products_are_not_among_the_products_bought(owner_client):
    # given: one bag bought, then an order of four bags that was cancelled
    line = {"email": "ann@example.com", "sku": "BEANS", "product_name": "Espresso Beans",
            "unit_price": "12.50"}
    _import([{**line, "order_id": "A1", "ordered_at": "2026-03-01 10:00", "quantity": 1,
              "status": "paid"},
             {**line, "order_id": "A2", "ordered_at": "2026-03-09 10:00", "quantity": 4,
              "status": "cancelled"}])

    # when
    products = _products_table(owner_client, "ann@example.com")

    # then: 1 order, 1 unit, as the product page and the analysis count it
    assert re.search(r'Espresso Beans</a>.*?<td class="num">1</td><td class="num">1</td>',
                     products), products


def test_items_bought_from_a_file_without_products_are_the_purchases_not_cancelled_ones(
        owner_client):
    # given: a file naming no products; Bo bought 2 and sent them back, Cy's order of 3 was
    # cancelled before she bought 1
    rows = [("bo", "B1", "2026-02-03", 2, "20.00", "paid"),
            ("bo", "B2", "2026-02-10", -2, "-20.00", "paid"),
            ("cy", "C1", "2026-02-03", 3, "30.00", "cancelled"),
            ("cy", "C2", "2026-03-04", 1, "10.00", "paid")]
    _import([{"email": f"{who}@example.com", "order_id": order, "ordered_at": f"{day} 10:00",
              "quantity": quantity, "amount": amount, "status": status}
             for who, order, day, quantity, amount, status in rows])

    # then: what they bought, as a file with products counts its units (returns do not
    # undo a purchase; a cancelled order is none)
    assert "2 orders: 2 items bought, products unknown." in _products_table(
        owner_client, "bo@example.com")
    assert "2 orders: 1 item bought, products unknown." in _products_table(
        owner_client, "cy@example.com")
