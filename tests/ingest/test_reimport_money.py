"""A file imported again changes no money, whatever its shape (issue 14, item 1)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from ingest.models import Order
from tests.ingest.helpers_db import import_bytes

pytestmark = pytest.mark.django_db(transaction=True)

NO_PRODUCTS = (
    b"Customer No.,Order Date,Qty,Sales ($)\n"
    b"00001,1997-01-01,1,11.77\n"
    b"00002,1997-01-12,1,12.00\n"
    b"00002,1997-01-12,5,77.00\n"
    b"00003,1997-01-02,2,20.76\n"
    b"00003,1997-03-30,2,20.76\n"
)


def test_a_file_without_products_imported_twice_keeps_its_money():
    first = import_bytes(NO_PRODUCTS)
    assert first.status == "succeeded", first.error
    money = Order.objects.aggregate(gross=Sum("gross_total"), net=Sum("net_total"))
    assert money == {"gross": Decimal("142.29"), "net": Decimal("142.29")}

    again = import_bytes(NO_PRODUCTS)

    assert (again.status, again.orders_created, again.orders_existing) == ("succeeded", 0, 4)
    assert Order.objects.aggregate(gross=Sum("gross_total"), net=Sum("net_total")) == money


def test_a_file_without_products_keeps_each_orders_quantity_and_the_profile_says_so(owner_client):
    first = import_bytes(NO_PRODUCTS)
    import_bytes(NO_PRODUCTS)  # and again: quantities are replaced, not added

    # Its report explains the "0 order lines" beside the orders it created.
    report = owner_client.get(f"/uploads/{first.pk}/").content.decode()
    assert first.lines_created == 0 and first.orders_created == 4
    assert 'id="no-products"' in report

    quantities = dict(Order.objects.values_list("customer__key", "unlisted_quantity")
                      .filter(customer__key="id:00002"))
    assert quantities == {"id:00002": 6}  # two rows the same day: one order, 1 + 5 items
    assert sorted(Order.objects.values_list("unlisted_quantity", flat=True)) == [1, 2, 2, 6]

    customer = Order.objects.get(customer__key="id:00002").customer
    page = owner_client.get(f"/customers/{customer.pk}/").content.decode()

    assert "6 items, products not named in the file" in page
    assert "The imported file named no products for 1 order: 6 items bought" in page
    assert "<th>Product</th>" not in page  # no empty product table

    # A file that names its products says nothing of the kind.
    named = import_bytes(b"order_id,email,ordered_at,sku,quantity,line_total\n"
                         b"9001,ann@example.com,2024-01-05,S1,1,5.00\n")
    assert 'id="no-products"' not in owner_client.get(f"/uploads/{named.pk}/").content.decode()


ORDERS = (b"order_id,email,ordered_at,sku,quantity,line_total\n"
          b"1,ann@example.com,2024-01-05,S1,1,10.00\n"
          b"2,bob@example.com,2024-01-06,S2,2,5.50\n")
# A later export: order 2 refunded in part since (a return line), order 3 new.
LATER = (b"order_id,email,ordered_at,sku,quantity,line_total\n"
         b"2,bob@example.com,2024-01-06,S2,2,5.50\n"
         b"2,bob@example.com,2024-01-06,S2,-1,-2.75\n"
         b"3,cy@example.com,2024-01-07,S3,1,1.25\n")


def _revenue_sentence(client, job) -> str:
    page = client.get(f"/uploads/{job.pk}/").content.decode()
    start = page.index('id="revenue-change">')
    return " ".join(page[start:page.index("</p>", start)].split())


def test_each_import_report_says_what_it_did_to_the_shops_revenue(owner_client):
    first = import_bytes(ORDERS)
    again = import_bytes(ORDERS)
    later = import_bytes(LATER)

    assert (first.revenue_change, again.revenue_change, later.revenue_change) == (
        Decimal("15.50"), Decimal("0.00"), Decimal("-1.50"))
    assert Order.objects.aggregate(net=Sum("net_total"))["net"] == Decimal("14.00")
    assert "went up by <strong>$15.50</strong>" in _revenue_sentence(owner_client, first)
    assert _revenue_sentence(owner_client, again).endswith(
        "did not change with this file: every order in it was already here.")
    assert "went down by <strong>$1.50</strong>" in _revenue_sentence(owner_client, later)
    api = owner_client.get(f"/api/imports/{later.pk}/").json()
    assert api["report"]["revenue_change"] == "-1.50"
