"""Order exports in shapes the other tests do not have, imported for real.

Each file is written here the way its spreadsheet or platform writes it; the money,
dates and rejections expected are worked out by hand from the file's text.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest

from ingest.models import Customer, ImportJob, Order
from ingest.pipeline.parsing import AMBIGUOUS_DATE
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import DATA, import_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def _net(key: str) -> Decimal:
    return sum((o.net_total for o in Customer.objects.get(key=key).orders.all()), Decimal(0))


def _imported(content: bytes, **confirm) -> ImportJob:
    job = import_bytes(content, **confirm)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def _day(order_key: str) -> tuple[int, int, int]:
    moment = Order.objects.get(order_key=order_key).ordered_at.astimezone(UTC)
    return (moment.year, moment.month, moment.day)


def test_a_day_first_file_is_read_day_first_when_a_later_date_shows_it(settings):
    settings.SHOP_CURRENCY = "EUR"  # its amounts say €
    # A French Excel export: 05/03 is only told apart from May 3rd by 13/03 further down.
    content = (
        "N° de commande;Courriel;Date de commande;Produit;Quantité;Prix unitaire\r\n"
        "A1;claire@example.fr;05/03/2024 12:00;Bol;1;12,50 €\r\n"
        "A2;denis@example.fr;06/03/2024 12:00;Tasse;2;4,00 €\r\n"
        "A3;denis@example.fr;13/03/2024 12:00;Tasse;1;4,00 €\r\n"
    ).encode("utf-8-sig")

    job = _imported(content)

    assert job.rows_rejected == 0
    assert (_day("A1"), _day("A2"), _day("A3")) == ((2024, 3, 5), (2024, 3, 6), (2024, 3, 13))
    assert AMBIGUOUS_DATE not in job.cleaning_notes
    # The report says which way, and the date that told it.
    assert job.options["date_order_shown"] == {"dayfirst": True, "line_no": 4,
                                               "text": "13/03/2024 12:00"}


def test_a_month_first_file_stays_month_first_when_a_later_date_shows_it():
    content = (
        b"Order ID,Email,Order Date,Amount\n"
        b"1,ann@example.com,03/05/2024 12:00,10.00\n"
        b"2,ann@example.com,03/28/2024 12:00,5.00\n"
    )

    _imported(content)

    assert (_day("1"), _day("2")) == ((2024, 3, 5), (2024, 3, 28))


def test_dates_no_value_tells_apart_are_read_month_first_and_counted():
    content = (
        b"Order ID,Email,Order Date,Amount\n"
        b"1,ann@example.com,03/05/2024 12:00,10.00\n"
        b"2,ann@example.com,04/04/2024 12:00,5.00\n"
        b"3,bob@example.com,2024-04-07 12:00,5.00\n"
    )

    job = _imported(content)

    assert _day("1") == (2024, 3, 5)
    # 04/04 reads the same either way, and the ISO date cannot be misread
    assert job.cleaning_notes == {AMBIGUOUS_DATE: 1}
    assert job.rows_cleaned == 1


def test_the_owners_choice_of_day_first_wins_over_what_the_dates_show():
    content = (
        b"Order ID,Email,Order Date,Amount\n"
        b"1,ann@example.com,05/03/2024 12:00,10.00\n"
        b"2,ann@example.com,03/28/2024 12:00,5.00\n"
    )

    _imported(content, dayfirst=True)

    assert _day("1") == (2024, 3, 5)
    assert _day("2") == (2024, 3, 28)  # unambiguous, read as written


def test_month_names_and_a_dot_written_amount_in_a_decimal_comma_file_are_read():
    content = (
        "Bestellnummer;E-Mail;Datum;Betrag\r\n"
        "1;anna@example.de;5-Mar-24;12,50\r\n"  # Excel's d-mmm-yy
        "2;anna@example.de;Mar 6, 2024 2:05:00 PM;\"$1,234.56\"\r\n"
        "3;ben@example.de;2024年3月7日 10:00;1.000,00\r\n"
    ).encode()

    job = _imported(content)

    assert job.rows_rejected == 0
    assert (_day("1"), _day("2"), _day("3")) == ((2024, 3, 5), (2024, 3, 6), (2024, 3, 7))
    assert _net("anna@example.de") == Decimal("1247.06")  # not 12.50 + 1.23456
    assert _net("ben@example.de") == Decimal("1000.00")


AMAZON_ORDER_REPORT = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\t"
    "buyer-phone-number\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\t"
    "item-tax\tshipping-price\tshipping-tax\tship-service-level\trecipient-name\t"
    "ship-address-1\tship-city\tship-state\tship-postal-code\tship-country\n"
)


def _amazon_line(order: str, item: str, email: str, sku: str, quantity: int, price: str) -> str:
    return "\t".join([
        order, item, "2024-03-05T14:05:00+00:00", "2024-03-05T14:10:00+00:00", email, "Ann Lee",
        "", sku, f"Product {sku}", str(quantity), "USD", price, "0.00", "4.99", "0.00",
        "Standard", "Ann Lee", "1 Main St", "SEATTLE", "WA", "98101", "US",
    ]) + "\n"


def test_an_amazon_order_report_counts_item_price_as_the_lines_total_not_a_unit_price():
    # Amazon: "All amounts are aggregates of the quantity, not unit prices."
    content = (AMAZON_ORDER_REPORT
               + _amazon_line("111-1", "01", "a1b2@marketplace.amazon.com", "MUG", 2, "25.00")
               + _amazon_line("111-1", "02", "a1b2@marketplace.amazon.com", "TEA", 1, "4.99")
               + _amazon_line("111-2", "03", "c3d4@marketplace.amazon.com", "MUG", 3, "37.50"))

    job = _imported(content.encode(), name="orders.txt")

    assert job.preset == "amazon_order_report"
    assert _net("a1b2@marketplace.amazon.com") == Decimal("29.99")  # goods, no shipping
    assert _net("c3d4@marketplace.amazon.com") == Decimal("37.50")
    assert Order.objects.get(order_key="111-1").lines.count() == 2


def test_an_amazon_all_orders_report_with_the_buyers_email_counts_item_price_once():
    header = (
        "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
        "fulfillment-channel\tsales-channel\tproduct-name\tsku\tasin\titem-status\tquantity\t"
        "currency\titem-price\titem-tax\tshipping-price\tship-city\tship-country\tbuyer-email\n"
    )

    def line(order: str, status: str, quantity: int, price: str) -> str:
        return "\t".join([order, "", "2024-03-05T14:05:00-08:00", "2024-03-06T10:00:00-08:00",
                          status, "Amazon", "Amazon.com", "Mug", "MUG", "B0001", status,
                          str(quantity), "USD", price, "0.00", "0.00", "SEATTLE", "US",
                          "a1b2@marketplace.amazon.com"]) + "\n"

    content = header + line("112-1", "Shipped", 2, "25.00") + line("112-2", "Cancelled", 1, "12.50")

    job = _imported(content.encode(), name="orders.txt")

    assert job.preset == "amazon_all_orders"
    assert Order.objects.get(order_key="112-1").net_total == Decimal("25.00")
    assert Order.objects.get(order_key="112-2").is_cancelled
    assert _net("a1b2@marketplace.amazon.com") == Decimal("25.00")


def test_lineitem_columns_of_a_shopify_like_export_are_the_goods_and_its_refunds_are_netted():
    # Squarespace writes Shopify's "Lineitem" columns but no "Name" column.
    content = (
        b"Order ID,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,"
        b"Amount Refunded,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,"
        b"Lineitem sku,Billing Name,Billing Country\n"
        b"00101,ann@example.com,PAID,2024-03-05 14:05:00 -0500,USD,29.99,5.00,0.00,0.00,34.99,"
        b"2024-03-05 14:05:00 -0500,2,Mug,12.50,SQ1,Ann Lee,US\n"
        b"00101,ann@example.com,PAID,2024-03-05 14:05:00 -0500,USD,29.99,5.00,0.00,0.00,34.99,"
        b"2024-03-05 14:05:00 -0500,1,Tea,4.99,SQ2,Ann Lee,US\n"
        b"00102,bob@example.com,REFUNDED,2024-03-06 10:00:00 -0500,USD,12.50,0.00,0.00,12.50,"
        b"12.50,2024-03-06 10:00:00 -0500,1,Mug,12.50,SQ1,Bob Ray,US\n"
    )

    _imported(content)

    assert _net("ann@example.com") == Decimal("29.99")  # the goods, as the Shopify preset counts
    assert _net("bob@example.com") == Decimal("0.00")
    assert set(Order.objects.get(order_key="00101").lines.values_list(
        "product__name", flat=True)) == {"Mug", "Tea"}


def test_an_order_grid_with_one_row_per_order_nets_its_refunds():
    # Magento 2's sales order grid export.
    content = (
        b'"ID","Purchase Point","Purchase Date","Bill-to Name","Grand Total (Base)",'
        b'"Grand Total (Purchased)","Status","Customer Email","Total Refunded"\n'
        b'"000000001","Main Website","Mar 5, 2024 2:05:00 PM","Ann Lee","$34.99","$34.99",'
        b'"complete","ann@example.com","$0.00"\n'
        b'"000000002","Main Website","Mar 6, 2024 10:00:00 AM","Bob Ray","$1,234.56",'
        b'"$1,234.56","closed","bob@example.com","$1,234.56"\n'
        b'"000000003","Main Website","Mar 7, 2024 11:00:00 AM","Cy Doe","$10.00","$10.00",'
        b'"canceled","cy@example.com",""\n'
    )

    job = _imported(content)

    assert job.rows_rejected == 0
    assert (_net("ann@example.com"), _net("bob@example.com"), _net("cy@example.com")) == (
        Decimal("34.99"), Decimal("0.00"), Decimal("0.00"))


def test_a_yes_or_no_refunded_column_is_not_taken_for_the_refunded_amount():
    from ingest.pipeline.mapping import propose_mapping

    proposed = propose_mapping(["Purchase ID", "Purchase Email", "Purchase Date",
                                "Sale Price ($)", "Refunded?", "Partial Refund ($)"])

    assert proposed.fields.get("refunded_amount") != "Refunded?"


def test_two_exports_pasted_into_one_file_refuse_the_second_header_and_say_why():
    header = "Order ID,Email,Order Date,SKU,Qty,Line Total\n"
    content = (header + "A1,ann@example.com,2024-03-05,S1,1,10.00\n"
               + header + "B1,bob@example.com,2024-04-05,S1,2,20.00\n").encode()

    job = _imported(content)

    assert job.rows_rejected == 1
    rejection = job.rejections.get()
    assert rejection.line_no == 3
    assert rejection.reason == ("the line repeats the column names, as where two exports "
                                "were pasted into one file")
    assert _net("ann@example.com") == Decimal("10.00") and _net("bob@example.com") == Decimal("20.00")


def test_the_report_says_which_way_dates_were_read_and_the_date_that_told(owner, owner_client):
    import html

    from profiler_site.core.services import user_language_set

    job = _imported(b"Order ID,Email,Order Date,Amount\n"
                    b"1,ann@example.com,03/05/2024,10.00\n"
                    b"2,ann@example.com,03/28/2024,5.00\n")

    page = html.unescape(owner_client.get(f"/uploads/{job.pk}/").content.decode())
    assert ("Dates were read month first (12/31): “03/28/2024” on line 3 can only be read "
            "that way.") in page
    user_language_set(user=owner, language="zh-hans")
    page = html.unescape(owner_client.get(f"/uploads/{job.pk}/").content.decode())
    assert "日期按“月在前”（12/31）读取：第 3 行的“03/28/2024”只能这样读。" in page


def test_whole_amounts_grouped_by_dots_in_a_semicolon_file_are_thousands():
    # A German spreadsheet of whole euros: nothing but "1.200" says how it writes
    # decimals, and a ";" file is one where the comma is the decimal mark.
    content = (
        b"Bestellnummer;E-Mail;Datum;Betrag\r\n"
        b"1;anna@example.de;2024-03-05;1.200\r\n"
        b"2;anna@example.de;2024-03-06;850\r\n"
        b"3;ben@example.de;2024-03-07;2.450\r\n"
    )

    _imported(content)

    assert _net("anna@example.de") == Decimal("2050")  # not 851.2
    assert _net("ben@example.de") == Decimal("2450")  # not 2.45


MIXED_CURRENCIES = (
    b"Order ID,Email,Order Date,Currency,Product,Amount\n"
    b"1,ann@example.com,2024-03-01,EUR,Mug,30.00\n"
    b"2,ann@example.com,2024-03-02,GBP,Mug,20.00\n"
    b"2,ann@example.com,2024-03-02,GBP,Cup,5.00\n"
    b"3,bob@example.com,2024-03-03,eur,Cup,12.50\n"
    b"4,cat@example.com,2024-03-04,,Cup,7.00\n"  # no currency said: the shop's
)


def test_orders_in_another_currency_than_the_shops_are_refused_not_added_up(settings):
    settings.SHOP_CURRENCY = "EUR"

    job = _imported(MIXED_CURRENCIES)

    reasons = {r.line_no: r.reason for r in job.rejections.all()}
    assert reasons == dict.fromkeys((3, 4), (
        "the order is in GBP, but the shop counts money in EUR (Settings): amounts in two "
        "currencies cannot be added up"))
    assert _net("ann@example.com") == Decimal("30.00")  # not 55.00 "euros"
    assert (_net("bob@example.com"), _net("cat@example.com")) == (Decimal("12.50"), Decimal("7.00"))


def test_a_shopify_export_in_another_currency_refuses_every_line_of_its_orders(settings):
    from tests.ingest.helpers_db import DATA

    settings.SHOP_CURRENCY = "USD"  # the export is a euro shop's

    job = import_bytes((DATA / "shopify_orders.csv").read_bytes(), name="orders_export.csv")

    # The continuation lines carry no currency of their own: they are the order's.
    assert job.orders_created == 0 and job.rows_rejected > 0
    assert {r.reason for r in job.rejections.all()} == {
        "the order is in EUR, but the shop counts money in USD (Settings): amounts in two "
        "currencies cannot be added up"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(("shop", "lines", "net"), [
    ("INR", ['"1,23,456.00"',  # lakh grouping
             '"₹ 1,00,000.00"', "Rs. 500.00"], "223956.00"),
    ("CHF", ["1’234.50",  # the typographic apostrophe
             "CHF 2'000.00"], "3234.50"),
    ("MXN", ["7.00 MXN", "(1.50 MXN)", '"0,50"', "12.00"], "18.00"),
], ids=["india", "switzerland", "mexico"])
def test_amounts_as_spreadsheets_write_them_in_india_switzerland_and_with_any_currency_code(
    settings, shop, lines, net,
):
    settings.SHOP_CURRENCY = shop
    content = "Order ID,Email,Order Date,SKU,Line Total\n" + "".join(
        f"{n},buyer@example.com,2024-03-{n:02d},S1,{amount}\n" for n, amount in enumerate(lines, 1))

    job = _imported(content.encode())

    assert job.rows_rejected == 0
    assert _net("buyer@example.com") == Decimal(net)


def test_a_comma_after_a_lone_zero_is_a_decimal_comma_never_a_thousands_separator():
    content = (b"Order ID,Email,Order Date,SKU,Line Total\n"
               b"1,ann@example.com,2024-03-01,S1,\"0,125\"\n"
               b"2,ann@example.com,2024-03-02,S1,1.20\n"
               b"3,ann@example.com,2024-03-03,S1,2.30\n")

    _imported(content)

    assert Order.objects.get(order_key="1").net_total == Decimal("0.13")  # not 125.00
    assert _net("ann@example.com") == Decimal("3.63")


def test_an_order_list_whose_status_says_refunded_counts_nothing_when_it_has_no_refunded_amount():
    # BigCommerce's default orders export: one row per order, no refunded amount.
    content = (
        b"Order ID,Customer ID,Customer Name,Customer Email,Order Date,Order Status,"
        b"Subtotal (inc tax),Subtotal (ex tax),Tax Total,Shipping Cost (inc tax),"
        b"Order Total (inc tax),Order Total (ex tax),Total Quantity,Order Currency Code,"
        b"Billing First Name,Billing Last Name,Billing Country,Product Details\n"
        b"101,1,Ann Lee,ann@example.com,03/05/2024,Completed,27.0000,25.0000,2.0000,5.0000,"
        b"32.0000,30.0000,3,USD,Ann,Lee,United States,"
        b"\"Product ID: 77, Product Qty: 2, Product SKU: MUG, Product Name: Mug\"\n"
        b"102,2,Bob Ray,bob@example.com,03/18/2024,Refunded,10.8000,10.0000,0.8000,0.0000,"
        b"10.8000,10.0000,1,USD,Bob,Ray,United States,"
        b"\"Product ID: 77, Product Qty: 1, Product SKU: MUG, Product Name: Mug\"\n"
        b"103,1,Ann Lee,ann@example.com,03/20/2024,Declined,5.4000,5.0000,0.4000,0.0000,"
        b"5.4000,5.0000,1,USD,Ann,Lee,United States,"
        b"\"Product ID: 78, Product Qty: 1, Product SKU: TEA, Product Name: Tea\"\n"
    )

    job = _imported(content)

    assert job.mapping["order_total"] == "Order Total (inc tax)"
    assert _net("ann@example.com") == Decimal("32.00")  # a declined payment counts 0
    assert _net("bob@example.com") == Decimal("0.00")
    assert Order.objects.get(order_key="102").is_cancelled


def test_a_refunded_status_counts_nothing_also_next_to_a_refunded_amount():
    # What was paid back is not the goods' value: less with a discount (20.00 of goods,
    # 17.00 off, 2.00 shipping: 5.00 paid and refunded), more with shipping refunded.
    content = (b"Order ID,Email,Order Date,SKU,Line Total,Status,Refunded Amount\n"
               b"1,ann@example.com,2024-03-01,S1,20.00,refunded,5.00\n"
               b"2,bob@example.com,2024-03-01,S1,20.00,refunded,24.90\n"
               b"3,cy@example.com,2024-03-01,S1,20.00,paid,5.00\n")

    _imported(content)

    assert (_net("ann@example.com"), _net("bob@example.com")) == (Decimal(0), Decimal(0))
    assert Order.objects.get(order_key="1").is_cancelled
    assert Order.objects.get(order_key="2").refunded_total == Decimal("24.90")  # as given
    assert _net("cy@example.com") == Decimal("15.00")  # a refund on a paid order is netted


def test_stripes_current_payments_export_is_recognised_by_its_created_date_column():
    content = (
        b"id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,"
        b"Converted Amount Refunded,Converted Currency,Decline Reason,Description,Fee,"
        b"Refunded date (UTC),Statement Descriptor,Status,Seller Message,Taxes On Fee,Card ID,"
        b"Customer ID,Customer Description,Customer Email,Invoice ID,Transfer\n"
        b"ch_1,2024-01-05 10:02:11,120.00,0.00,usd,true,120.00,0.00,usd,,Class pack,3.78,,STUDIO,"
        b"Paid,Payment complete.,0.00,card_1,cus_1,,ann@example.com,,\n"
        b"ch_2,2024-01-09 18:30:00,25.00,10.00,usd,true,25.00,10.00,usd,,Drop-in,1.03,"
        b"2024-01-10 09:00:00,STUDIO,Paid,Payment complete.,0.00,card_1,cus_1,,ann@example.com,,\n"
        b"ch_3,2024-01-11 09:00:00,60.00,0.00,usd,false,60.00,0.00,usd,card_declined,Class pack,"
        b"0.00,,STUDIO,Failed,Declined,0.00,card_2,cus_2,,bob@example.com,,\n"
    )

    job = _imported(content)

    assert job.preset == "stripe_payments"
    assert _net("ann@example.com") == Decimal("135.00")
    assert _net("bob@example.com") == Decimal("0.00")
    assert not Order.objects.filter(lines__isnull=False).exists()  # "Description" is no product


def test_a_wix_orders_export_takes_its_contact_email_date_created_and_nets_refunds(settings):
    settings.SHOP_CURRENCY = "EUR"  # the export's currency
    header = (
        "Order number,Date created,Time,Fulfill by,Total order quantity,Contact email,"
        "Note from customer,Additional checkout info,Item,Variant,SKU,Qty,Quantity refunded,Price,"
        "Weight,Custom text,Deposit amount,Delivery method,Billing name,Billing country,"
        "Payment status,Payment method,Coupon code,Gift card amount,Shipping rate,Total tax,Total,"
        "Currency,Refunded amount,Net amount,Fulfillment status\n"
    )

    def line(number: str, day: str, time: str, email: str, item: str, qty: int, refunded_qty: int,
             price: str, status: str, total: str, refunded: str) -> str:
        return ",".join([number, f'"{day}"', time, "", "", email, "", "", item, "", item.upper(),
                         str(qty), str(refunded_qty), price, "0", "", "", "Standard", "Anna Bauer",
                         "DEU", status, "Credit Card", "", "", "0.00", "0.00", total, "EUR",
                         refunded, "", "Fulfilled"]) + "\n"

    content = (header
               + line("10001", "Dec 8, 2024", "9:15:51 AM", "anna@example.de", "Mug", 2, 0, "12.50",
                      "Paid", "30.00", "0.00")
               + line("10001", "Dec 8, 2024", "9:15:51 AM", "anna@example.de", "Tea", 1, 0, "5.00",
                      "Paid", "30.00", "0.00")
               + line("10002", "Dec 9, 2024", "1:05:00 PM", "ben@example.de", "Mug", 1, 1, "12.50",
                      "Refunded", "12.50", "12.50")
               + line("10003", "Dec 10, 2024", "2:00:00 PM", "ben@example.de", "Tea", 2, 1, "5.00",
                      "Partially refunded", "10.00", "5.00"))

    job = _imported(content.encode())

    assert job.rows_rejected == 0
    assert _day("10001") == (2024, 12, 8)
    assert _net("anna@example.de") == Decimal("30.00")
    assert _net("ben@example.de") == Decimal("5.00")  # 0 + (10.00 - 5.00)


@pytest.mark.parametrize("items_first", [True, False], ids=["items first", "orders first"])
def test_etsys_sold_orders_and_sold_order_items_imported_together_count_each_order_once(
        items_first):
    items, orders = (DATA / "etsy_sold_order_items.csv").read_bytes(), (
        DATA / "etsy_sold_orders.csv").read_bytes()

    jobs = [_imported(content) for content in ((items, orders) if items_first else (orders, items))]

    assert {job.preset for job in jobs} == {"etsy_sold_order_items", "etsy_sold_orders"}
    # "Order Value": the items before discount, shipping and tax, as the items file counts
    # them (Order Total 55.80 for 2328983); 2335012 is only in the orders file.
    assert _net("id:mara_makes") == Decimal("66.50")  # 48.50 + 18.00
    assert _net("id:oak_and_ivy") == Decimal("64.00")
    assert _net("id:theo_p") == Decimal("30.00")
    assert Order.objects.get(order_key="2328983").lines.count() == 2  # no "SKU" list product


def test_a_square_transactions_export_takes_net_sales_and_nets_a_refund_row():
    job = _imported((DATA / "square_transactions.csv").read_bytes())

    assert job.preset == "square_transactions"
    assert _net("id:CUST9ZX") == Decimal("17.75")  # 13.25 + 4.50: no tax, tip or fees
    assert _net("id:CUST7YB") == Decimal("1250.00")  # 9.00 - 9.00 + 1,250.00
    assert job.rows_rejected == 1  # the sale with no customer on file
    assert not Order.objects.filter(lines__isnull=False).exists()  # "Description" is no product


def test_an_amount_that_names_another_currency_than_the_shops_is_refused(settings):
    settings.SHOP_CURRENCY = "EUR"
    content = (
        "Bestellnummer;E-Mail;Datum;Betrag\r\n"
        "1;anna@example.de;2024-03-05;12,50 €\r\n"
        "2;anna@example.de;2024-03-06;£20,00\r\n"  # the symbol says pounds
        "3;ben@example.de;2024-03-07;EUR 7,00\r\n"
        "4;ben@example.de;2024-03-08;9,00 CHF\r\n"
        "5;ben@example.de;2024-03-09;$5,00\r\n"  # dollars of which country? not told
    ).encode()

    job = _imported(content)

    reasons = {r.line_no: r.reason for r in job.rejections.all()}
    assert reasons == {
        3: "line total '£20,00' is in GBP, but the shop counts money in EUR (Settings): amounts "
           "in two currencies cannot be added up",
        5: "line total '9,00 CHF' is in CHF, but the shop counts money in EUR (Settings): amounts "
           "in two currencies cannot be added up"}
    assert _net("anna@example.de") == Decimal("12.50")
    assert _net("ben@example.de") == Decimal("12.00")
