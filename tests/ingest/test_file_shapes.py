"""Every file shape, every way of loading it: the same orders, lines and money (issue 14, item 2).

Each shape is generated here (a few dozen rows, fixed seed) and its expected
orders, lines and per-customer net totals are worked out from the file's own
text with `csv` and `Decimal`, following the README's rules, not our code. Each
is then loaded four ways: once; twice; as two overlapping exports; and (for a
subset of the shapes, see KILLED_SHAPES) by a real worker killed (SIGKILL) in the
middle of a chunk, then resumed. Small chunks make
orders straddle chunk boundaries, so both loading routes (orders copied straight
in, orders merged through staging) and the merge of an order's parts meet every shape.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg2
import pytest
from django.db import connection
from django.db.models import Sum

from ingest.models import Customer, ImportJob, ImportRejection, Order, OrderLine
from ingest.services.imports import REFUNDS_ABOVE_GOODS, import_confirm, import_upload_create
from profiler_site.core import jobs
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import import_bytes, orphan_rows
from tests.support import wait_until

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row as the test reads it: what it means for money, by the README's rules."""

    line_no: int
    customer: str  # the customer's identity: email, or "id:" + shop customer id
    order: str  # the order id, or customer + the date text when the file has none
    sku: str | None
    quantity: int
    amount: Decimal | None  # the line's signed amount (returns negative), None when not given
    order_total: Decimal | None = None
    refunded: Decimal | None = None
    cancelled: bool = False

    @property
    def is_return(self) -> bool:
        return self.quantity < 0 or (self.amount is not None and self.amount < 0)


@dataclass(frozen=True, slots=True)
class Expected:
    orders: int
    lines: int
    net: dict[str, Decimal]  # per customer
    unlisted_quantity: dict[str, int] = field(default_factory=dict)  # rows without a product
    unpriced_lines: int = 0  # lines without an amount of their own


def expected_of(rows: list[Row]) -> Expected:
    by_order: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_order[row.order].append(row)
    net: dict[str, Decimal] = defaultdict(Decimal)
    quantity: dict[str, int] = defaultdict(int)
    for order_rows in by_order.values():
        priced = [r for r in order_rows if r.amount is not None]
        if priced:
            gross = sum((r.amount for r in priced if not r.is_return), Decimal(0))
            returned = -sum((r.amount for r in priced if r.is_return), Decimal(0))
        else:  # an order total given once per order (repeated on its lines)
            gross = max(r.order_total for r in order_rows if r.order_total is not None)
            returned = Decimal(0)
        refunds = [r.refunded for r in order_rows if r.refunded is not None]
        refunded = max(refunds) if refunds else Decimal(0)
        cancelled = any(r.cancelled for r in order_rows)
        customer = order_rows[0].customer
        # A refund takes the goods (after returns) down to 0 at most: what was paid back
        # above them was shipping or tax, which the goods never held.
        refunded = min(refunded, max(gross - returned, Decimal(0)))
        net[customer] += Decimal(0) if cancelled else gross - returned - refunded
        for r in order_rows:
            if r.sku is None:
                quantity[customer] += r.quantity
    # Every row naming a product is a line; a line none of whose rows has an amount of
    # its own is unpriced (its order's total counted once, above).
    lines = {(r.order, r.sku, r.is_return) for r in rows if r.sku is not None}
    priced_lines = {(r.order, r.sku, r.is_return) for r in rows
                    if r.sku is not None and r.amount is not None}
    return Expected(orders=len(by_order), lines=len(lines),
                    net={k: v.quantize(CENT) for k, v in net.items()},
                    unlisted_quantity=dict(quantity), unpriced_lines=len(lines - priced_lines))


# --- Shapes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    header: list[str]
    records: list[list[str]]  # data rows, in file order
    read: Callable[[int, dict[str, str]], Row]  # (line number, csv row) -> its meaning
    delimiter: str = ","
    bad_lines: frozenset[int] = frozenset()  # rows the import must refuse, by line number
    order_column: str | None = None  # rows of one order stay together when a file is split

    def text(self, records: list[list[str]] | None = None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.records if records is None else records)
        return out.getvalue().encode()

    def rows(self, records: list[list[str]], refused: set[int]) -> list[Row]:
        reader = csv.DictReader(io.StringIO(self.text(records).decode()), delimiter=self.delimiter)
        return [self.read(line_no, record) for line_no, record in enumerate(reader, start=2)
                if line_no not in refused]


def _money(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _comma_money(text: str) -> Decimal | None:
    return Decimal(text.replace(".", "").replace(",", ".")) if text.strip() else None


def _comma_text(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{'.'.join(groups)},{cents}"


class _Amounts:
    """Distinct amounts (no two rows of a file identical), with cents, some above 1,000."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.used: set[Decimal] = set()

    def __call__(self, high: int = 300) -> Decimal:
        while True:
            value = Decimal(self.random.randint(100, high * 100)) / 100
            if value not in self.used:
                self.used.add(value)
                return value


def _customers(count: int) -> list[str]:
    return [f"shopper{n}@example.com" for n in range(count)]


def _orders_with_lines(seed: int, orders: int = 14, customers: int = 5):
    """(order number, customer, day, [(sku, quantity)]) with a product repeated in some orders."""
    rng = random.Random(seed)
    people = _customers(customers)
    for number in range(orders):
        # The last customer buys only at the end (see the SIGKILL test's lock).
        customer = people[-1] if number >= orders - 2 else rng.choice(people[:-1])
        skus = [f"SKU-{rng.randint(1, 6)}" for _ in range(rng.randint(1, 4))]
        yield 1000 + number, customer, f"2024-{1 + number // 5:02d}-{1 + number % 27:02d}", \
            [(sku, rng.randint(1, 3)) for sku in skus]


def line_totals() -> Shape:
    amount = _Amounts(1)
    records = [[str(number), customer, day, sku, str(qty), str(amount())]
               for number, customer, day, items in _orders_with_lines(1) for sku, qty in items]
    records.insert(5, ["999", "nobody@example.com", "2024-02-30", "SKU-1", "1", "5.00"])
    return Shape(
        "line totals, order id, products",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Line Total"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         _money(r["Line Total"])),
        bad_lines=frozenset({7}), order_column="Order ID",
    )


def unit_prices() -> Shape:
    amount = _Amounts(2)
    records = [[str(number), customer, day, sku, str(qty), str(amount(90))]
               for number, customer, day, items in _orders_with_lines(2) for sku, qty in items]
    return Shape(
        "unit price x quantity",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Unit Price"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         Decimal(r["Unit Price"]) * int(r["Quantity"])),
        order_column="Order ID",
    )


def order_totals_only() -> Shape:
    amount = _Amounts(3)
    records = []
    for number, customer, day, items in _orders_with_lines(3):
        total = str(amount(900))
        # Without line amounts, two rows of one product and quantity would be identical.
        records += [[str(number), customer, day, sku, str(qty), total]
                    for sku, qty in dict.fromkeys(items)]
    return Shape(
        "order totals only, repeated on each line",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Order Total"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]), None,
                         order_total=Decimal(r["Order Total"])),
        order_column="Order ID",
    )


def line_totals_and_an_order_total() -> Shape:
    """Line totals and the order's total on every row; a free gift's row has no line total
    of its own. The lines are the money: the total is never added to them or to the gift."""
    amount = _Amounts(12)
    records = []
    for number, customer, day, items in _orders_with_lines(12):
        amounts = [amount() for _ in items]
        total = str(sum(amounts))
        records += [[str(number), customer, day, sku, str(qty), str(a), total]
                    for (sku, qty), a in zip(items, amounts)]
        if number % 3 == 0:
            records.append([str(number), customer, day, "GIFT", "1", "", total])
    return Shape(
        "line totals and an order total, a gift row without its own amount",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Line Total", "Order Total"],
        records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         _money(r["Line Total"]), order_total=Decimal(r["Order Total"])),
        order_column="Order ID",
    )


def one_row_per_order() -> Shape:
    amount = _Amounts(4)
    records = [[str(number), customer, day, str(amount(900))]
               for number, customer, day, _ in _orders_with_lines(4)]
    return Shape(
        "order totals only, one row per order",
        ["Order ID", "Email", "Order Date", "Order Total"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], None, 1, Decimal(r["Order Total"])),
        order_column="Order ID",
    )


def no_order_id() -> Shape:
    amount = _Amounts(5)
    records = []
    for number, customer, day, items in _orders_with_lines(5):
        records += [[customer, f"{day} 10:{number % 60:02d}:00", sku, str(qty), str(amount())]
                    for sku, qty in items]
    return Shape(
        "no order id (customer + time)",
        ["Email", "Order Date", "SKU", "Quantity", "Line Total"], records,
        lambda n, r: Row(n, r["Email"], r["Email"] + r["Order Date"], r["SKU"], int(r["Quantity"]),
                         _money(r["Line Total"])),
        order_column="Order Date",
    )


def no_products() -> Shape:
    """The CDNOW-like export: customer number, date, quantity, sales; repeat days merge."""
    amount = _Amounts(6)
    rng = random.Random(6)
    records = []
    for n in range(36):
        customer = "00009" if n >= 33 else f"{rng.randint(1, 8):05d}"
        day = f"1997-0{1 + n // 12}-{1 + n % 12:02d}"
        records.append([customer, day.replace("-", ""), str(rng.randint(1, 5)), str(amount(90))])
        if n % 5 == 0:  # a second purchase the same day: the same order
            records.append([customer, day.replace("-", ""), str(rng.randint(1, 5)), str(amount(90))])
    return Shape(
        "no products, no order id (Customer No., Order Date, Qty, Sales ($))",
        ["Customer No.", "Order Date", "Qty", "Sales ($)"], records,
        lambda n, r: Row(n, "id:" + r["Customer No."], r["Customer No."] + r["Order Date"], None,
                         int(r["Qty"]), _money(r["Sales ($)"])),
        order_column="Order Date",
    )


def no_products_with_order_id() -> Shape:
    amount = _Amounts(7)
    records = [[str(number), customer, day, str(qty), str(amount())]
               for number, customer, day, items in _orders_with_lines(7) for _, qty in items]
    return Shape(
        "no products, order id, several rows per order",
        ["Order ID", "Email", "Order Date", "Quantity", "Line Total"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], None, int(r["Quantity"]),
                         _money(r["Line Total"])),
        order_column="Order ID",
    )


def shopify() -> Shape:
    """Order fields only on an order's first line; cancellations and refunds among them."""
    amount = _Amounts(8)
    records = []
    for number, customer, day, items in _orders_with_lines(8):
        cancelled = number % 6 == 2
        refund = str(amount(20)) if number % 4 == 1 else ""
        for position, (sku, qty) in enumerate(items):
            price = str(amount(60))
            if position == 0:
                records.append([f"#{number}", customer, "voided" if cancelled else "paid",
                                f"{day} 09:30:00 +0100", str(qty), price, sku, "999.00",
                                f"{day} 12:00:00 +0100" if cancelled else "", refund])
            else:
                records.append([f"#{number}", "", "", "", str(qty), price, sku, "", "", ""])
    return Shape(
        "Shopify, order fields on the first line, cancellations and refunds",
        ["Name", "Email", "Financial Status", "Created at", "Lineitem quantity", "Lineitem price",
         "Lineitem sku", "Total", "Cancelled at", "Refunded Amount"], records,
        _ShopifyReader().read, order_column="Name",
    )


class _ShopifyReader:
    """Carries an order's first-line fields to its other lines, as the export means."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, str]] = {}

    def read(self, line_no: int, r: dict[str, str]) -> Row:
        first = self.first.setdefault(r["Name"], r) if r["Email"] else self.first[r["Name"]]
        return Row(line_no, first["Email"], r["Name"], r["Lineitem sku"],
                   int(r["Lineitem quantity"]),
                   Decimal(r["Lineitem price"]) * int(r["Lineitem quantity"]),
                   refunded=_money(first["Refunded Amount"]),
                   cancelled=bool(first["Cancelled at"]) or first["Financial Status"] == "voided")


def returns() -> Shape:
    """UCI Online Retail: `C` invoices and negative quantities are returns."""
    amount = _Amounts(9)
    records = []
    for number, customer, day, items in _orders_with_lines(9):
        customer_id = str(17000 + int(customer.split("shopper")[1].split("@")[0]))
        month, date = int(day[5:7]), int(day[8:10])
        for sku, qty in items:
            records.append([str(536000 + number), sku, "ITEM", str(qty), f"{month}/{date}/2011 8:26",
                            str(amount(40)), customer_id, "United Kingdom"])
        if number % 3 == 0:  # the first item comes back later
            sku, qty = items[0]
            records.append([f"C{537000 + number}", sku, "ITEM", str(-qty),
                            f"{month}/{date + 1}/2011 9:00", str(amount(40)), customer_id,
                            "United Kingdom"])
    return Shape(
        "returns (UCI Online Retail, C invoices)",
        ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
         "CustomerID", "Country"], records,
        lambda n, r: Row(n, "id:" + r["CustomerID"], r["InvoiceNo"], r["StockCode"],
                         -abs(int(r["Quantity"])) if r["InvoiceNo"].startswith("C")
                         else int(r["Quantity"]),
                         Decimal(r["UnitPrice"]) * (-abs(int(r["Quantity"]))
                                                    if r["InvoiceNo"].startswith("C")
                                                    else int(r["Quantity"]))),
        order_column="InvoiceNo",
    )


def cancellations_and_refunds() -> Shape:
    amount = _Amounts(10)
    records = []
    for number, customer, day, items in _orders_with_lines(10):
        status = "cancelled" if number % 5 == 3 else "paid"
        refund = str(amount(15)) if number % 4 == 0 else ""
        for sku, qty in items:
            records.append([str(number), customer, day, sku, str(qty), str(amount()), status, refund])
        if number % 7 == 1:  # a returned item, negative quantity and a positive amount
            records.append([str(number), customer, day, items[0][0], "-1", str(amount(20)), status,
                            refund])
    return Shape(
        "cancellations, refunds and negative quantities",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Line Total", "Payment Status",
         "Refunded Amount"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         -_money(r["Line Total"]) if int(r["Quantity"]) < 0 else _money(r["Line Total"]),
                         refunded=_money(r["Refunded Amount"]),
                         cancelled=r["Payment Status"] == "cancelled"),
        order_column="Order ID",
    )


def decimal_comma() -> Shape:
    amount = _Amounts(11)
    records = [[str(number), customer, day, sku, str(qty), _comma_text(amount(2500))]
               for number, customer, day, items in _orders_with_lines(11) for sku, qty in items]
    return Shape(
        "decimal comma, semicolons, 1.234,56",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Line Total"],
        records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         _comma_money(r["Line Total"])),
        delimiter=";", order_column="Order ID",
    )


def whole_amounts_grouped_by_dots() -> Shape:
    """A ";" spreadsheet of whole amounts, some over a thousand written "1.200": twelve
    hundred (README: such a file groups thousands with dots), never 1.2."""
    amount = _Amounts(13)
    records = [[str(number), customer, day, sku, str(qty), f"{int(amount(4000)):,}".replace(",", ".")]
               for number, customer, day, items in _orders_with_lines(13) for sku, qty in items]
    return Shape(
        "semicolons, whole amounts, 1.200",
        ["Order ID", "Email", "Order Date", "SKU", "Quantity", "Line Total"], records,
        lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                         Decimal(r["Line Total"].replace(".", ""))),
        delimiter=";", order_column="Order ID",
    )


def statuses_without_a_refunded_amount() -> Shape:
    """An order list with a status and no refunded amount (BigCommerce's, PrestaShop's):
    a refunded, declined or cancelled order counts 0 (README)."""
    amount = _Amounts(14)
    statuses = ["Completed", "Shipped", "Refunded", "Declined", "Cancelled", "Awaiting Payment"]
    records = [[str(number), customer, day, statuses[number % len(statuses)], str(amount(900))]
               for number, customer, day, _items in _orders_with_lines(14)]
    return Shape(
        "one row per order, refunded status, no refunded amount",
        ["Order ID", "Customer Email", "Order Date", "Order Status", "Order Total (inc tax)"],
        records,
        lambda n, r: Row(n, r["Customer Email"], r["Order ID"], None, 1, None,
                         order_total=Decimal(r["Order Total (inc tax)"]),
                         cancelled=r["Order Status"] in {"Refunded", "Declined", "Cancelled"}),
        order_column="Order ID",
    )


def shopify_refunds_including_shipping() -> Shape:
    """Shopify's refunded amount is what was paid back, shipping and tax included; the
    order's value is its goods. A fully refunded order counts 0, with shipping refunded
    or a discount larger than shipping and tax; a partial refund takes the goods down to
    0 at most (README)."""
    amount = _Amounts(15)
    return Shape(
        "Shopify refunds including shipping",
        SHOPIFY_REFUND_HEADER, [record for order in _shopify_refund_orders(amount, refunded=True)
                                for record in order],
        _ShopifyRefundReader().read, order_column="Name",
    )


SHOPIFY_REFUND_HEADER = ["Name", "Email", "Financial Status", "Created at", "Lineitem quantity",
                         "Lineitem price", "Lineitem sku", "Shipping", "Taxes", "Discount Amount",
                         "Total", "Refunded Amount"]
# The kinds of order, in turn: paid; refunded with shipping and tax; refunded with a discount
# larger than shipping and tax; partly refunded above the goods; partly refunded within them.
REFUND_KINDS = ("paid", "refunded with shipping", "refunded with a discount",
                "partly refunded above the goods", "partly refunded within the goods")


def _shopify_refund_orders(amount: _Amounts, *, refunded: bool) -> list[list[list[str]]]:
    """The orders' rows, each order's fields on its first line; `refunded=False`: the same
    orders as exported before any money went back."""
    orders = []
    for number, customer, day, items in _orders_with_lines(15):
        kind = REFUND_KINDS[number % len(REFUND_KINDS)]
        prices = [amount(60) + 20 for _ in items]
        goods = sum((price * qty for price, (_, qty) in zip(prices, items)), Decimal(0))
        shipping, tax = Decimal("4.90"), (goods * Decimal("0.19")).quantize(CENT)
        # A discount larger than shipping and tax: netting the refund would leave money.
        discount = (shipping + tax + goods / 10).quantize(CENT) \
            if kind == "refunded with a discount" else Decimal(0)
        total = goods - discount + shipping + tax
        status, refund = {
            "paid": ("paid", Decimal(0)),
            "refunded with shipping": ("refunded", total),
            "refunded with a discount": ("refunded", total),
            "partly refunded above the goods": ("partially_refunded", goods + Decimal("2.45")),
            "partly refunded within the goods": ("partially_refunded", (goods / 3).quantize(CENT)),
        }[kind]
        if not refunded:
            status, refund = "paid", Decimal(0)
        rows = []
        for position, ((sku, qty), price) in enumerate(zip(items, prices)):
            order_fields = [customer, status, f"{day} 09:30:00 +0100"] if position == 0 else [
                "", "", ""]
            money = [str(shipping), str(tax), str(discount), str(total), str(refund)] \
                if position == 0 else [""] * 5
            rows.append([f"#{number}", *order_fields, str(qty), str(price), sku, *money])
        orders.append(rows)
    return orders


class _ShopifyRefundReader:
    """An order's first-line fields carried to its other lines, afresh in each export."""

    def __init__(self) -> None:
        self.first: dict[str, dict[str, str]] = {}

    def read(self, line_no: int, r: dict[str, str]) -> Row:
        if r["Email"]:
            self.first[r["Name"]] = r
        first = self.first[r["Name"]]
        return Row(line_no, first["Email"], r["Name"], r["Lineitem sku"],
                   int(r["Lineitem quantity"]),
                   Decimal(r["Lineitem price"]) * int(r["Lineitem quantity"]),
                   refunded=_money(first["Refunded Amount"]),
                   cancelled=first["Financial Status"] == "refunded")


SHAPES = [line_totals, unit_prices, order_totals_only, line_totals_and_an_order_total,
          one_row_per_order, no_order_id, no_products, no_products_with_order_id, shopify, returns,
          cancellations_and_refunds, decimal_comma, whole_amounts_grouped_by_dots,
          statuses_without_a_refunded_amount, shopify_refunds_including_shipping]


# --- Checking the database against the file --------------------------------------------------


def _stored() -> Expected:
    net = {key: total for key, total in Order.objects.values("customer__key")
           .annotate(total=Sum("net_total")).values_list("customer__key", "total")}
    quantity = {key: total for key, total in Order.objects.filter(unlisted_quantity__isnull=False)
                .values("customer__key").annotate(total=Sum("unlisted_quantity"))
                .values_list("customer__key", "total")}
    return Expected(orders=Order.objects.count(), lines=OrderLine.objects.count(), net=net,
                    unlisted_quantity=quantity,
                    unpriced_lines=OrderLine.objects.filter(line_total__isnull=True).count())


def _shop_revenue() -> Decimal:
    return Order.objects.aggregate(total=Sum("net_total"))["total"] or Decimal(0)


def _refused(job: ImportJob) -> set[int]:
    return set(ImportRejection.objects.filter(job=job).values_list("line_no", flat=True))


def _check(shape: Shape, pieces: list[tuple[list[list[str]], set[int]]]) -> None:
    """The database holds exactly the file's money: the pieces imported, less what each refused."""
    rows = {}
    for records, refused in pieces:
        if records is shape.records:  # the whole file: exactly its bad rows were refused
            assert refused == shape.bad_lines
        for row in shape.rows(records, refused):  # an overlap's rows count once
            rows[(row.order, row.sku, row.quantity, row.amount)] = row
    expected = expected_of(list(rows.values()))
    stored = _stored()
    assert (stored.orders, stored.lines) == (expected.orders, expected.lines)
    assert stored.net == expected.net
    assert stored.unlisted_quantity == expected.unlisted_quantity
    assert stored.unpriced_lines == expected.unpriced_lines
    assert orphan_rows() == (0, 0)


def _import(content: bytes) -> ImportJob:
    job = import_bytes(content)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.duplicates_dropped == 0  # the shapes hold no identical rows
    return job


def _halves(shape: Shape) -> tuple[list[list[str]], list[list[str]]]:
    """Two exports that overlap by a third of the file, cut between orders (an order
    is in one export or both, as exports by date range are)."""
    column = shape.header.index(shape.order_column)
    records = shape.records

    def cut(at: int) -> int:
        while 0 < at < len(records) and records[at][column] == records[at - 1][column]:
            at += 1
        return at

    return records[:cut(2 * len(records) // 3)], records[cut(len(records) // 3):]


@pytest.fixture(params=SHAPES, ids=lambda make: getattr(make, "__name__", None))
def shape(request) -> Shape:
    return request.param()


@pytest.fixture
def small_chunks(settings):
    settings.IMPORT_CHUNK_ROWS = 4  # orders straddle chunks; both routes are taken


@pytest.mark.django_db(transaction=True)
def test_a_shape_imported_once_holds_the_files_own_money(shape, small_chunks):
    job = _import(shape.text())

    _check(shape, [(shape.records, _refused(job))])
    assert job.revenue_change == _shop_revenue()  # what the report says it added


@pytest.mark.django_db(transaction=True)
def test_a_shape_imported_twice_holds_the_same_money(shape, settings):
    settings.IMPORT_CHUNK_ROWS = 5
    first = _import(shape.text())
    settings.IMPORT_CHUNK_ROWS = 3  # other chunk boundaries the second time
    second = _import(shape.text())

    assert (second.orders_created, second.orders_existing) == (0, first.orders_created)
    _check(shape, [(shape.records, _refused(second))])
    assert (first.revenue_change, second.revenue_change) == (_shop_revenue(), 0)


@pytest.mark.django_db(transaction=True)
def test_a_shape_imported_as_two_overlapping_exports_holds_the_same_money(shape, small_chunks):
    early, late = _halves(shape)
    assert early and late and len(early) + len(late) > len(shape.records)

    first, second = _import(shape.text(early)), _import(shape.text(late))

    _check(shape, [(early, _refused(first)), (late, _refused(second))])
    # Each report says what its file changed: the overlap is not counted twice.
    assert first.revenue_change + second.revenue_change == _shop_revenue()


def _refund_kinds() -> dict[str, str]:
    """Each order of the Shopify refunds shape, by its kind."""
    return {f"#{number}": REFUND_KINDS[number % len(REFUND_KINDS)]
            for number, *_ in _orders_with_lines(15)}


def _net_by_kind() -> dict[str, set[Decimal]]:
    kinds = _refund_kinds()
    nets: dict[str, set[Decimal]] = defaultdict(set)
    for key, total in Order.objects.values_list("order_key", "net_total"):
        nets[kinds[key]].add(total)
    return nets


@pytest.mark.django_db(transaction=True)
def test_shopify_orders_refunded_with_shipping_or_a_discount_are_worth_nothing_never_less(
        small_chunks):
    shape = shopify_refunds_including_shipping()

    job = _import(shape.text())

    nets = _net_by_kind()
    assert nets["refunded with shipping"] == nets["refunded with a discount"] == {Decimal(0)}
    assert nets["partly refunded above the goods"] == {Decimal(0)}
    assert min(nets["partly refunded within the goods"]) > 0
    assert Order.objects.filter(net_total__lt=0).count() == 0
    # Only the partial refunds above the goods were cut; the full ones count 0 as refunded.
    assert job.cleaning_notes[REFUNDS_ABOVE_GOODS] == 3
    assert Order.objects.filter(is_cancelled=True).count() == 6


@pytest.mark.django_db(transaction=True)
def test_an_export_from_before_the_refunds_then_one_from_after_ends_with_the_refunded_values(
        small_chunks):
    shape = shopify_refunds_including_shipping()
    before = [record for order in _shopify_refund_orders(_Amounts(15), refunded=False)
              for record in order]
    assert len(before) == len(shape.records)
    # Exports by date: the first from before the refunds, the second after; a third of
    # the orders are in both.
    early, _ = _halves(Shape(shape.name, shape.header, before, shape.read,
                             order_column=shape.order_column))
    _, late = _halves(shape)

    first = _import(shape.text(early))
    second = _import(shape.text(late))

    _check(shape, [(early, _refused(first)), (late, _refused(second))])
    again = _import(shape.text(late))
    _check(shape, [(early, _refused(first)), (late, _refused(again))])
    assert again.cleaning_notes == second.cleaning_notes


# Two real workers per shape (~35 s each): a subset that takes every route of the
# merge, lines of one product across chunks, rows without products, order fields
# on an order's first line with cancellations and refunds, and returns.
KILLED_SHAPES = [line_totals, order_totals_only, no_products, shopify, returns]


@pytest.mark.worker
@pytest.mark.parametrize("make", KILLED_SHAPES, ids=lambda make: make.__name__)
def test_a_shape_imported_by_a_worker_killed_mid_chunk_holds_the_same_money(make, start_worker):
    shape = make()
    # The last customer first appears in the file's last chunks. Their row is locked
    # here, so the worker stops inside that chunk's transaction, after earlier
    # chunks committed; it is killed there, and a new worker resumes the import.
    last = shape.rows(shape.records, set())[-1].customer
    Customer.objects.create(key=last)
    env = {"IMPORT_CHUNK_ROWS": "4"}
    worker = start_worker(extra_env=env)
    locker = psycopg2.connect(**connection.get_connection_params())
    try:
        with locker.cursor() as cursor:
            cursor.execute("SELECT id FROM ingest_customer WHERE key = %s FOR UPDATE", [last])
        created = import_upload_create(file=io.BytesIO(shape.text()), name="shape.csv",
                                       size=len(shape.text()))
        import_confirm(job=created)
        wait_until(_worker_waits_for_a_lock, what="the worker to reach the locked customer")
        stopped = ImportJob.objects.get(pk=created.pk)
        assert stopped.status == JobStatus.RUNNING and stopped.chunks_done >= 1
        worker.kill()
    finally:
        locker.rollback()
        locker.close()

    wait_until(lambda: jobs.reap_stale_jobs().requeued, what="the reaper to requeue the import")
    start_worker(extra_env=env)
    wait_until(lambda: ImportJob.objects.get(pk=created.pk).status == JobStatus.SUCCEEDED,
               timeout=60, what="the resumed import to finish")

    final = ImportJob.objects.get(pk=created.pk)
    assert final.attempts == 2
    _check(shape, [(shape.records, _refused(final))])
    assert final.revenue_change == _shop_revenue()  # the chunk killed mid-way counted once


def _worker_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_the_independent_reading_of_a_shape_counts_what_the_file_says():
    # The reference itself, on a hand-checked file: two orders, one with a return.
    shape = Shape("hand", ["Order ID", "Email", "SKU", "Quantity", "Line Total"],
                  [["1", "a@x.com", "S1", "2", "10.00"], ["1", "a@x.com", "S1", "-1", "-5.00"],
                   ["2", "a@x.com", "S2", "1", "2.50"]],
                  lambda n, r: Row(n, r["Email"], r["Order ID"], r["SKU"], int(r["Quantity"]),
                                   _money(r["Line Total"])))

    expected = expected_of(shape.rows(shape.records, set()))

    assert expected == Expected(orders=2, lines=3, net={"a@x.com": Decimal("7.50")})
