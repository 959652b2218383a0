"""PayPal's activity download and eBay's orders report, imported for real.

Both files mix order lines with rows that are not (withdrawals, currency conversions,
holds, payments the shop sent; an order's summary line, the report's footer). Each
is imported through the import service with both readers, once, twice and as two
overlapping exports; the customers, orders and money expected are worked out by hand
from the fixture's text (tests/data/ingest/), to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from django.db.models import Sum
from django.urls import reverse

from ingest.models import Customer, ImportJob, Order, OrderLine
from ingest.pipeline import rows
from ingest.services import imports
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import DATA, import_bytes, orphan_rows
from tests.ingest.test_import_choices import upload

pytestmark = pytest.mark.django_db(transaction=True)

PAYPAL = (DATA / "paypal_activity.csv").read_bytes()
EBAY = (DATA / "ebay_orders.csv").read_bytes()

# By hand from paypal_activity.csv: Gross of each sale received, less each refund paid.
PAYPAL_NET = {
    "ann.lee@example.com": Decimal("125.00"),  # 45.00 - 20.00 refunded + 75.00 + 25.00
    "bob.ray@example.com": Decimal("1234.56"),  # "1,234.56"; the fee (-36.10) is the shop's
    "cleo.park@example.com": Decimal("0.00"),  # 18.50, reversed: -18.50
    "gina.holt@example.com": Decimal("0.00"),  # 88.00 (status "Refunded"), refund -88.00
    "hal.ortiz@example.com": Decimal("52.50"),  # the cart's payment, not its two item rows again
    "ivy.chen@example.com": Decimal("9.99"),
}
# By hand from ebay_orders.csv: Sold For x Quantity of each item line; shipping and tax out.
EBAY_NET = {
    "mara.lind@example.com": Decimal("82.00"),  # 64.00 + 18.00
    "id:oak_and_ivy": Decimal("1286.00"),  # 2 x 18.00 + "$1,250.00" (a relay email: hidden)
    "id:theo_p": Decimal("91.50"),  # 2 x 10.00 + 30.00, and 12.50 + 4 x 7.25
}


@pytest.fixture(params=["fast", "row by row"])
def reader(request, monkeypatch):
    if request.param == "row by row":
        monkeypatch.setattr(imports, "read_rows", partial(rows.read_rows, fast=False))
    return request.param


@pytest.fixture
def small_chunks(settings):
    settings.IMPORT_CHUNK_ROWS = 4  # orders straddle chunks: both loading routes are taken


def _imported(content: bytes) -> ImportJob:
    job = import_bytes(content)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def _net() -> dict[str, Decimal]:
    return {key: total.quantize(Decimal("0.01")) for key, total in Order.objects
            .values("customer__key").annotate(total=Sum("net_total"))
            .values_list("customer__key", "total")}


def _left_out(job: ImportJob) -> dict[str, int]:
    return {key.removeprefix(rows.LEFT_OUT): n for key, n in job.cleaning_notes.items()
            if key.startswith(rows.LEFT_OUT)}


def _paypal_expected(job: ImportJob) -> None:
    assert job.preset == "paypal_activity"
    assert _net() == PAYPAL_NET
    assert Customer.objects.count() == 6  # no customer for the shop, its bank or supplier
    assert Order.objects.count() == 11  # 8 sales, 3 refunds
    assert Order.objects.filter(gross_total__gt=0).count() == 8  # refunds are no purchases
    assert not OrderLine.objects.exists()  # no products: the payment is the order's money
    assert orphan_rows() == (0, 0)


def test_a_paypal_download_holds_only_sales_less_their_refunds(reader, small_chunks):
    job = _imported(PAYPAL)

    _paypal_expected(job)
    assert sum(_left_out(job).values()) == 13
    assert job.rows_rejected == 1  # the sale in euros, refused with its reason
    assert job.rows_read == 25


def _paypal_part(lines: range) -> bytes:
    header, *records = PAYPAL.decode("utf-8-sig").split("\r\n")
    return ("\ufeff" + "\r\n".join([header, *(records[i] for i in lines), ""])).encode()


def test_two_overlapping_paypal_downloads_hold_each_sale_and_refund_once(reader, small_chunks):
    # January 3-22 and January 14 - February 14: eight rows in both.
    first, second = _imported(_paypal_part(range(0, 16))), _imported(_paypal_part(range(9, 25)))

    assert second.orders_existing == 2  # ann's 75.00 and hal's cart are in both
    _paypal_expected(second)
    # The hold, its release, an authorisation and the cart's two item rows are in both.
    assert sum(_left_out(first).values()) + sum(_left_out(second).values()) == 13 + 5


def _ebay_expected(job: ImportJob) -> None:
    assert job.preset == "ebay_orders"
    assert _net() == EBAY_NET
    assert Customer.objects.count() == 3  # not the buyer who never paid
    assert Order.objects.count() == 6
    assert OrderLine.objects.count() == 8
    assert Order.objects.get(order_key="12-11003-51003").gross_total == Decimal("50.00")
    assert orphan_rows() == (0, 0)


def test_an_ebay_orders_report_holds_its_paid_items_once_and_refuses_nothing(reader, small_chunks):
    job = _imported(EBAY)

    _ebay_expected(job)
    assert job.rows_rejected == 0  # not its blank first line, not its footer
    assert job.cleaning_notes[rows.FOOTER_LINE] == 2
    assert sum(_left_out(job).values()) == 3
    theo = Customer.objects.get(key="id:theo_p")
    assert (theo.email, theo.shop_customer_id, theo.first_name) == ("", "theo_p", "Theo")


def _expected(job: ImportJob) -> None:
    {"paypal_activity": _paypal_expected, "ebay_orders": _ebay_expected}[job.preset](job)


EXPORTS = pytest.mark.parametrize("content", [PAYPAL, EBAY], ids=["paypal", "ebay"])


@EXPORTS
def test_an_export_imported_twice_changes_nothing(reader, content):
    first = _imported(content)
    second = _imported(content)

    assert (second.orders_created, second.orders_existing) == (0, first.orders_created)
    assert (second.customers_created, second.customers_updated) == (0, 0)
    _expected(second)


@EXPORTS
def test_an_export_imported_again_in_other_chunks_holds_the_same_money(reader, settings, content):
    settings.IMPORT_CHUNK_ROWS = 5
    first = _imported(content)
    settings.IMPORT_CHUNK_ROWS = 3  # other chunk boundaries the second time
    second = _imported(content)

    assert (second.orders_created, second.orders_existing) == (0, first.orders_created)
    assert second.customers_created == 0
    _expected(second)


def _ebay_part(orders: set[str]) -> bytes:
    lines = EBAY.decode().split("\r\n")
    body = [line for line in lines[3:] if line.startswith('"1')]
    kept = [line for line in body if line[1:5] in orders]
    return "\r\n".join([*lines[:3], *kept, "", f"{len(orders)} record(s) downloaded,from x to y",
                        "Seller ID : maple_crafts", ""]).encode()


def test_two_overlapping_ebay_reports_hold_each_order_once(reader, small_chunks):
    first = _imported(_ebay_part({"1001", "1002", "1003", "1004"}))
    second = _imported(_ebay_part({"1003", "1004", "1005", "1006", "1007"}))

    assert second.orders_existing == 1  # the multi-item order 1003; 1004 was never paid
    _ebay_expected(second)
    assert (first.rows_rejected, second.rows_rejected) == (0, 0)


def test_the_report_names_the_rows_left_out_and_the_footer_in_the_readers_language(
        owner, owner_client):
    from profiler_site.core.services import user_language_set

    paypal, ebay = _imported(PAYPAL), _imported(EBAY)

    page = owner_client.get(reverse("import-detail", args=[paypal.pk])).content.decode()
    assert "13 rows are not sales, so they were left out:" in page
    assert "General Withdrawal: 2" in page
    assert "Express Checkout Payment (money out): 1" in page
    page = owner_client.get(reverse("import-detail", args=[ebay.pk])).content.decode()
    assert "2 lines below the orders are the report footer" in page
    assert "not paid: 1" in page
    assert "rows rejected" in page and 'class="rejections"' not in page

    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("import-detail", args=[paypal.pk])).content.decode()
    assert "13 行不是销售，未导入：" in page
    assert "Express Checkout Payment（支出）：1" in page


def test_the_api_report_counts_the_rows_left_out(owner_client):
    job = _imported(PAYPAL)

    report = owner_client.get(f"/api/imports/{job.pk}/").json()["report"]

    assert (report["rows_left_out"], report["rows_rejected"]) == (13, 1)


@pytest.mark.parametrize(("name", "content", "label"), [
    ("Download.CSV", PAYPAL, "PayPal (activity download)"),
    ("OrdersReport.csv", EBAY, "eBay (orders report)"),
])
def test_the_mapping_page_recognises_the_export(owner_client, name, content, label):
    upload(owner_client, name, content)
    job = ImportJob.objects.get()

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()

    assert f"Recognised format: <strong>{label}</strong>" in page
