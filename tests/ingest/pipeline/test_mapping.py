from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingest.pipeline.headers import header_fingerprint
from ingest.pipeline.mapping import (
    PRESETS_BY_NAME,
    ColumnMapping,
    RowKind,
    detect_preset,
    mapping_problems,
    propose_mapping,
)

SHOPIFY = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Billing City",
    "Billing Country",
    "Cancelled at",
    "Refunded Amount",
    "Vendor",
    "Id",
]
UCI = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
# SkyVerge "Customer/Order CSV Export", one row per item (its column keys are the header).
SKYVERGE = [
    "order_id",
    "order_number",
    "order_date",
    "status",
    "shipping_total",
    "tax_total",
    "discount_total",
    "order_total",
    "refunded_total",
    "order_currency",
    "payment_method",
    "customer_id",
    "billing_first_name",
    "billing_last_name",
    "billing_email",
    "billing_city",
    "billing_country",
    "item_id",
    "item_name",
    "item_sku",
    "item_quantity",
    "item_subtotal",
    "item_total",
    "item_refunded",
    "item_refunded_qty",
]
DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"


def _problems(mapping, headers=None) -> list[str]:
    """A mapping's problems as their English sentences."""
    return [problem.text for problem in mapping_problems(mapping, headers)]

def _header_of(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8-sig") as f:
        return next(csv.reader(f))


ADVANCED_ORDER_EXPORT = _header_of("woocommerce_advanced_order_export.csv")
ETSY = _header_of("etsy_sold_order_items.csv")
STRIPE = _header_of("stripe_payments.csv")
SQUARE = _header_of("square_item_details.csv")
PAYPAL = _header_of("paypal_activity.csv")
# The eBay report's first line is blank and its second the header.
EBAY = next(row for row in csv.reader((DATA / "ebay_orders.csv").open(encoding="utf-8")) if row)


def test_shopify_export_is_recognised_and_uses_the_order_name_not_the_internal_id() -> None:
    proposed = propose_mapping(SHOPIFY)
    assert proposed.preset == "shopify"
    assert proposed.fields["order_id"] == "Name"
    assert proposed.fields["ordered_at"] == "Created at"
    assert proposed.fields["customer_name"] == "Billing Name"
    assert proposed.fields["unit_price"] == "Lineitem price"
    assert proposed.missing_required == ()
    assert {"Vendor", "Id", "Paid at", "Subtotal"} <= set(proposed.unmapped_columns)


def test_uci_online_retail_is_recognised() -> None:
    proposed = propose_mapping(UCI)
    assert proposed.preset == "uci_online_retail"
    assert proposed.fields == {
        "order_id": "InvoiceNo",
        "product_sku": "StockCode",
        "product_name": "Description",
        "quantity": "Quantity",
        "ordered_at": "InvoiceDate",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "country": "Country",
    }


def test_advanced_order_export_for_woocommerce_maps_every_field_from_its_default_header() -> None:
    proposed = propose_mapping(ADVANCED_ORDER_EXPORT)

    assert proposed.preset == "woocommerce_advanced_order_export"
    assert proposed.missing_required == ()
    # "Name" is the product, not the customer; refunds are already netted in the line
    # total, so "Order Refund Amount" must not be taken off a second time.
    assert dict(proposed.fields) == {
        "order_id": "Order Number",
        "ordered_at": "Order Date",
        "financial_status": "Order Status",
        "customer_email": "Email (Billing)",
        "first_name": "First Name (Billing)",
        "last_name": "Last Name (Billing)",
        "city": "City (Billing)",
        "country": "Country Code (Billing)",
        "product_name": "Name",
        "product_sku": "SKU",
        "line_total": "Order Line Total (- Refund)",
        "unit_price": "Item Cost",
        "quantity": "Quantity",
        "order_total": "Order Total Amount",
    }
    assert {"Order Refund Amount", "Quantity (- Refund)", "Order Line Total"} <= set(
        proposed.unmapped_columns
    )


def test_etsy_sold_order_items_take_the_buyer_as_the_customer_and_the_item_total() -> None:
    proposed = propose_mapping(ETSY)

    assert proposed.preset == "etsy_sold_order_items" and proposed.missing_required == ()
    assert dict(proposed.fields) == {
        "order_id": "Order ID", "ordered_at": "Sale Date", "customer_id": "Buyer",
        "customer_name": "Ship Name", "product_name": "Item Name", "product_sku": "SKU",
        "quantity": "Quantity", "unit_price": "Price", "line_total": "Item Total",
        "currency": "Currency", "city": "Ship City", "country": "Ship Country",
    }
    # Order-level money and the payment date stay out: the goods are the money.
    assert {"Order Shipping", "Order Sales Tax", "Discount Amount", "Date Paid"} <= set(
        proposed.unmapped_columns)


def test_a_stripe_payments_export_has_no_products_and_nets_refunds() -> None:
    proposed = propose_mapping(STRIPE)

    assert proposed.preset == "stripe_payments" and proposed.missing_required == ()
    assert dict(proposed.fields) == {
        "order_id": "id", "ordered_at": "Created (UTC)", "customer_email": "Customer Email",
        "customer_id": "Customer ID", "line_total": "Amount",
        "refunded_amount": "Amount Refunded", "currency": "Currency",
        "financial_status": "Status",
    }
    # "Description" names the payment: as a product it would fill the basket analysis.
    assert {"Description", "Card Name", "Converted Amount"} <= set(proposed.unmapped_columns)


def test_square_item_details_take_net_sales_and_the_customer_on_file() -> None:
    proposed = propose_mapping(SQUARE)

    assert proposed.preset == "square_item_details" and proposed.missing_required == ()
    assert dict(proposed.fields) == {
        "order_id": "Transaction ID", "ordered_at": "Date", "customer_id": "Customer ID",
        "customer_name": "Customer Name", "product_name": "Item", "product_sku": "SKU",
        "category": "Category", "quantity": "Qty", "line_total": "Net Sales",
    }
    assert {"Gross Sales", "Discounts", "Tax", "Time"} <= set(proposed.unmapped_columns)


def test_the_skyverge_woocommerce_export_keeps_its_own_preset() -> None:
    proposed = propose_mapping(SKYVERGE)

    assert proposed.preset == "woocommerce"
    assert proposed.missing_required == ()
    assert proposed.fields["customer_email"] == "billing_email"
    assert proposed.fields["product_name"] == "item_name"
    assert proposed.fields["line_total"] == "item_total"
    assert proposed.fields["refunded_amount"] == "refunded_total"


@pytest.mark.parametrize(
    ("headers", "preset"),
    [
        (SHOPIFY, "shopify"),
        (UCI, "uci_online_retail"),
        (SKYVERGE, "woocommerce"),
        (ADVANCED_ORDER_EXPORT, "woocommerce_advanced_order_export"),
        (ETSY, "etsy_sold_order_items"),
        (STRIPE, "stripe_payments"),
        (SQUARE, "square_item_details"),
        (PAYPAL, "paypal_activity"),
        # Older downloads write "Time Zone", and the owner may choose fewer columns.
        (["Date", "Time", "Time Zone", "Name", "Type", "Status", "Currency", "Gross", "Fee",
          "Net", "Transaction ID"], "paypal_activity"),
        (EBAY, "ebay_orders"),
        # A spreadsheet with an id, a creation time and an amount is not a Stripe export.
        (["id", "Created (UTC)", "Amount", "Email"], "generic"),
        # The plugin's billing email with generic columns is not the plugin's export.
        (["Order ID", "Email (Billing)", "Order Date", "Quantity", "Price"], "generic"),
        # Nor is its header once the owner dropped the refund-netted line total.
        ([h for h in ADVANCED_ORDER_EXPORT if h != "Order Line Total (- Refund)"], "generic"),
    ],
)
def test_each_known_export_is_recognised_as_its_own_preset_and_nothing_else(
    headers: list[str], preset: str
) -> None:
    assert detect_preset(headers).name == preset


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["E-Mail", "Bestelldatum", "Menge", "Preis", "Bestellnummer"],
            {
                "customer_email": "E-Mail",
                "ordered_at": "Bestelldatum",
                "quantity": "Menge",
                "unit_price": "Preis",
                "order_id": "Bestellnummer",
            },
        ),
        (
            ["Courriel", "Date de commande", "Quantité", "Prix unitaire"],
            {
                "customer_email": "Courriel",
                "ordered_at": "Date de commande",
                "quantity": "Quantité",
                "unit_price": "Prix unitaire",
            },
        ),
        (
            ["correo", "fecha", "cantidad", "precio"],
            {
                "customer_email": "correo",
                "ordered_at": "fecha",
                "quantity": "cantidad",
                "unit_price": "precio",
            },
        ),
        (
            ["邮箱", "客户", "订单号", "日期", "金额", "数量", "单价"],
            {
                "customer_email": "邮箱",
                "customer_id": "客户",
                "order_id": "订单号",
                "ordered_at": "日期",
                "line_total": "金额",
                "quantity": "数量",
                "unit_price": "单价",
            },
        ),
        (
            ["  CUSTOMER_EMAIL ", "Order Date", "Line Total"],
            {
                "customer_email": "CUSTOMER_EMAIL",
                "ordered_at": "Order Date",
                "line_total": "Line Total",
            },
        ),
    ],
)
def test_header_synonyms_match_across_case_punctuation_and_language(
    headers: list[str], expected: dict[str, str]
) -> None:
    proposed = propose_mapping(headers)
    assert dict(proposed.fields) == expected
    assert proposed.missing_required == ()


def test_duplicate_header_names_are_disambiguated_and_reported() -> None:
    proposed = propose_mapping(["Name", "email", "Name", "name", ""])
    assert proposed.headers == ("Name", "email", "Name (2)", "name (3)", "Column 5")
    assert len(proposed.renamed_duplicates) == 2
    assert "column 3 is now 'Name (2)'" in proposed.renamed_duplicates[0]


def test_missing_requirements_are_named_in_human_messages() -> None:
    proposed = propose_mapping(["name", "notes"])
    errors = _problems(proposed.to_mapping())
    assert proposed.missing_required == (
        "customer_email or customer_id",
        "ordered_at",
        "line_total, or unit_price with quantity, or order_total",
    )
    assert errors == [
        "Choose the column that identifies the customer: customer_email or customer_id.",
        "Choose the column with the order date (ordered_at).",
        "Choose a money column: line_total, or unit_price together with quantity, or order_total.",
    ]


def test_unit_price_without_quantity_is_not_enough_money() -> None:
    mapping = ColumnMapping(fields={"customer_id": "c", "ordered_at": "d", "unit_price": "p"})
    assert any("money column" in e for e in _problems(mapping))


def test_a_mapping_naming_a_column_not_in_the_file_is_reported() -> None:
    mapping = ColumnMapping(
        fields={"customer_email": "Mail", "ordered_at": "When", "order_total": "Sum"}
    )
    assert _problems(mapping, ["mail", "When"]) == [
        "The column 'Sum' chosen for order_total is not in this file."
    ]


def test_header_fingerprint_ignores_case_and_padding_but_not_different_columns() -> None:
    assert header_fingerprint(["Email", " Order Date"]) == header_fingerprint(
        ["email", "order date "]
    )
    assert header_fingerprint(["Email", "Order Date"]) != header_fingerprint(["Email", "Total"])
    assert len(header_fingerprint(UCI)) == 32


SPREADSHEET = ("Datum", "Kunde", "E-Mail", "Bestellnr.", "Artikel", "Menge", "Einzelpreis")
NAMES = [("08.01.2025", "Zoë Faßbender", "zoe@example.de", "1001", "Tasse", "1", "9,00 €"),
         ("30.01.2025", "Anna Müller", "anna@example.de", "1003", "Tasse", "1", "9,00 €")]


def test_a_customer_column_of_names_beside_an_email_is_taken_as_the_name():
    proposed = propose_mapping(SPREADSHEET, NAMES)

    assert proposed.fields["customer_name"] == "Kunde"
    assert "customer_id" not in proposed.fields
    assert proposed.fields["customer_email"] == "E-Mail"


def test_a_customer_column_of_names_without_an_email_is_both_the_identity_and_the_name():
    headers = tuple(h for h in SPREADSHEET if h != "E-Mail")
    rows = [tuple(c for i, c in enumerate(r) if i != 2) for r in NAMES]

    proposed = propose_mapping(headers, rows)

    assert proposed.fields["customer_id"] == proposed.fields["customer_name"] == "Kunde"


@pytest.mark.parametrize(("header", "cells"), [
    ("Kunde", ["10023", "10024"]),  # customer numbers
    ("Customer", ["C-88", "anna@example.de"]),
    ("Customer", ["Müller", "Faßbender"]),  # one word each: could be an account name
    ("Customer ID", ["Anna Müller", "Zoë Faßbender"]),  # the header says id
])
def test_a_customer_column_that_may_be_an_id_stays_the_customer_id(header, cells):
    headers = ("Date", header, "Email", "Total")
    rows = [("2025-01-08", cell, "x@example.com", "9.00") for cell in cells]

    proposed = propose_mapping(headers, rows)

    assert proposed.fields["customer_id"] == header and "customer_name" not in proposed.fields


def test_without_sample_rows_the_guess_reads_the_headers_alone():
    assert propose_mapping(SPREADSHEET).fields["customer_id"] == "Kunde"


def test_a_paypal_activity_download_takes_the_payer_and_the_gross_and_no_products() -> None:
    proposed = propose_mapping(PAYPAL)

    assert proposed.preset == "paypal_activity" and proposed.missing_required == ()
    assert dict(proposed.fields) == {
        "order_id": "Transaction ID", "ordered_at": "Date", "customer_email": "From Email Address",
        "customer_name": "Name", "line_total": "Gross", "currency": "Currency",
        "city": "Town/City", "country": "Country",
    }
    # The fee is the shop's cost, not the customer's spend; "Status" is read by the row's
    # kind (a refunded sale still counts, its refund row takes the money back), and
    # "Item Title" is empty for cart payments, whose amount has shipping and tax in it.
    assert {"Fee", "Net", "Status", "Item Title", "Quantity", "Invoice Number"} <= set(
        proposed.unmapped_columns)


def test_an_ebay_orders_report_takes_the_unit_price_and_the_buyer() -> None:
    proposed = propose_mapping(EBAY)

    assert proposed.preset == "ebay_orders" and proposed.missing_required == ()
    assert dict(proposed.fields) == {
        "order_id": "Order Number", "ordered_at": "Sale Date", "customer_email": "Buyer Email",
        "customer_id": "Buyer Username", "customer_name": "Buyer Name",
        "product_name": "Item Title", "product_sku": "Custom Label", "quantity": "Quantity",
        "unit_price": "Sold For", "city": "Buyer City", "country": "Buyer Country",
    }
    assert {"Total Price", "Shipping And Handling", "eBay Collected Tax", "Transaction ID"} <= set(
        proposed.unmapped_columns)


def _paypal(type_: str, status: str = "Completed", gross: str = "10.00",
            to: str = "buyer@example.com") -> RowKind:
    rule = PRESETS_BY_NAME["paypal_activity"].row_kind
    assert rule is not None
    return rule({"@type": type_, "@status": status, "line_total": gross, "@toemailaddress": to})


@pytest.mark.parametrize("type_", ["Express Checkout Payment", "Website Payment", "Mobile Payment",
                                   "General Payment", "Shopping Cart Payment Received",
                                   "Subscription Payment", " express  checkout payment "])
def test_money_a_customer_paid_the_shop_for_a_sale_is_read(type_: str) -> None:
    assert _paypal(type_) == RowKind()


@pytest.mark.parametrize("status", ["Refunded", "Partially Refunded", "Reversed"])
def test_a_sale_that_was_refunded_later_still_counts_its_money_in(status: str) -> None:
    # What went back is its own Payment Refund or Payment Reversal row: leaving the sale
    # out as well would take the money off twice.
    assert _paypal("Express Checkout Payment", status) == RowKind()


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (("General Withdrawal", "Completed", "-500.00"), "General Withdrawal"),
        (("General Currency Conversion", "Completed", "9.12"), "General Currency Conversion"),
        (("Payment Release", "Completed", "72.52"), "Payment Release"),
        (("Shopping Cart Item", "Completed", "20.00"), "Shopping Cart Item"),
        (("General Authorization", "Pending", "30.00"), "General Authorization"),
        (("Chargeback Fee", "Completed", "-20.00"), "Chargeback Fee"),
        (("Express Checkout Payment", "Pending", "60.00"), "Express Checkout Payment (Pending)"),
        (("Express Checkout Payment", "Denied", "40.00"), "Express Checkout Payment (Denied)"),
        (("Express Checkout Payment", "Completed", "-29.99"),
         "Express Checkout Payment (money out)"),
        (("Website Payment", "Completed", "0.00"), "Website Payment (no money)"),
        (("Payment Refund", "Completed", "8.00"), "Payment Refund (money in)"),
        (("Payment Refund", "Pending", "-8.00"), "Payment Refund (Pending)"),
        (("", "Completed", "5.00"), "(no type)"),
    ],
)
def test_rows_that_are_not_a_customers_money_for_a_sale_are_left_out_by_what_they_are(
        row: tuple[str, str, str], why: str) -> None:
    assert _paypal(*row) == RowKind(left_out=why)


@pytest.mark.parametrize("type_", ["Payment Refund", "Payment Reversal", "Chargeback"])
def test_money_the_shop_paid_back_is_a_refund_of_the_buyer_it_went_to(type_: str) -> None:
    # The shop is the payer of a refund: the buyer is the one it was paid to.
    assert _paypal(type_, gross="-20.00", to="ann@example.com") == RowKind(
        refund=True, cells={"customer_email": "ann@example.com"})


def _ebay(item: str = "266001000001", paid: str = "Mar-01-24",
          email: str = "mara@example.com") -> RowKind:
    rule = PRESETS_BY_NAME["ebay_orders"].row_kind
    assert rule is not None
    return rule({"@itemnumber": item, "@paidondate": paid, "customer_email": email})


def test_an_ebay_item_line_that_was_paid_for_is_read() -> None:
    assert _ebay() == RowKind()


def test_an_ebay_orders_summary_line_is_left_out_its_items_carry_the_money() -> None:
    assert _ebay(item="").left_out


def test_an_ebay_order_never_paid_for_is_left_out() -> None:
    assert _ebay(paid="  ").left_out


@pytest.mark.parametrize("email", ["t***@gmail.com", "8f3a9c2e1b7d4a60@members.ebay.com",
                                   "Email hidden"])
def test_an_email_ebay_hides_is_no_email_the_buyers_username_is_the_customer(email: str) -> None:
    assert _ebay(email=email) == RowKind(cells={"customer_email": ""})


@pytest.mark.parametrize("line", ['7 record(s) downloaded,from Mar-01-24 to Mar-31-24',
                                  '"7","record(s) downloaded","from Mar-01-24 to Mar-31-24"',
                                  '"1,204 record(s) downloaded,from Mar-01-24 to Mar-31-24"',
                                  'Seller ID : maple_crafts', '"Seller ID: maple_crafts",,,'])
def test_the_lines_ebay_writes_after_its_orders_are_its_footer(line: str) -> None:
    footer = PRESETS_BY_NAME["ebay_orders"].footer
    assert footer is not None and footer.match(line)


@pytest.mark.parametrize("line", ['"1001","12-11001-51001","maple_mara"', "Seller,ID", ""])
def test_an_order_line_is_no_footer(line: str) -> None:
    footer = PRESETS_BY_NAME["ebay_orders"].footer
    assert footer is not None and not footer.match(line)
