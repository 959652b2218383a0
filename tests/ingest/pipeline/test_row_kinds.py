"""Files that mix order lines with other rows: what a preset leaves out, and how it says so.

PayPal's activity download holds withdrawals, conversions, holds, fees and payments
the shop sent beside its sales; eBay's orders report has a summary line above a
multi-item order's items and a footer below its table. Both readers must read the
same rows, leave out the same rows, and count them the same way.
"""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ingest.pipeline.mapping import ColumnMapping, propose_mapping
from ingest.pipeline.rows import (
    FOOTER_LINE,
    LEFT_OUT,
    REFUND_RETURN,
    count_identical_rows,
    other_currencies,
    read_rows,
)
from ingest.pipeline.table import DEFAULT_OPTIONS, ReadOptions, open_table
from tests.ingest.pipeline.test_fast import assert_same_results

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"
PAYPAL = (DATA / "paypal_activity.csv").read_bytes()
EBAY = (DATA / "ebay_orders.csv").read_bytes()
READERS = pytest.mark.parametrize("fast", [True, False], ids=["fast", "row by row"])


def _mapping(data: bytes) -> ColumnMapping:
    return propose_mapping(open_table(io.BytesIO(data)).raw_headers).to_mapping()


def _read(data: bytes, *, fast: bool, chunk_rows: int = 50_000,
          options: ReadOptions = DEFAULT_OPTIONS):
    chunks = list(read_rows(io.BytesIO(data), _mapping(data), options, chunk_rows=chunk_rows,
                            fast=fast))
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    notes: Counter[str] = Counter()
    for chunk in chunks:
        notes.update(chunk.notes)
    return frame, [r for c in chunks for r in c.rejections], notes


def _left_out(notes: Counter[str]) -> dict[str, int]:
    return {key.removeprefix(LEFT_OUT): n for key, n in notes.items() if key.startswith(LEFT_OUT)}


@READERS
def test_a_paypal_download_reads_sales_and_refunds_and_counts_every_other_row_by_type(fast):
    frame, rejections, notes = _read(PAYPAL, fast=fast, options=ReadOptions(currency="USD"))

    assert sorted(frame["line_no"]) == [2, 5, 6, 10, 11, 15, 19, 20, 21, 24, 25]
    assert _left_out(notes) == {
        "General Currency Conversion": 2, "General Withdrawal": 2, "Shopping Cart Item": 2,
        "Express Checkout Payment (Pending)": 1, "Express Checkout Payment (Denied)": 1,
        "Express Checkout Payment (money out)": 1, "Payment Hold": 1, "Payment Release": 1,
        "General Authorization": 1, "Payment Refund (money in)": 1,
    }
    # A sale in euros is a real refusal, named as such, not hidden among the rows left out.
    assert [(r.line_no, r.params.get("currency")) for r in rejections] == [(22, "EUR")]


@READERS
def test_a_paypal_refund_is_a_return_of_the_buyer_it_was_paid_to(fast):
    frame, _, notes = _read(PAYPAL, fast=fast)
    refunds = frame[frame["is_return"]].set_index("line_no")

    assert list(refunds.index) == [10, 20, 21]
    assert list(refunds["customer_key"]) == ["ann.lee@example.com", "gina.holt@example.com",
                                             "cleo.park@example.com"]
    assert list(refunds["line_total"]) == [Decimal("-20.00"), Decimal("-88.00"), Decimal("-18.50")]
    assert notes[REFUND_RETURN] == 3
    assert "hello@maplecrafts.example" not in set(frame["customer_key"])  # the shop itself


@READERS
def test_an_ebay_report_reads_item_lines_without_its_summaries_unpaid_orders_or_footer(fast):
    frame, rejections, notes = _read(EBAY, fast=fast)

    assert rejections == []
    assert notes[FOOTER_LINE] == 2
    assert sum(_left_out(notes).values()) == 3  # two summaries and an unpaid order
    by_line = frame.set_index("line_no")
    # Sold For is each item's price: two mugs at $18.00 are $36.00.
    assert by_line.loc[5, ["quantity", "unit_price", "line_total"]].tolist() == [
        2, Decimal("18.00"), Decimal("36.00")]
    # The items of a multi-item order take its buyer from the summary line above them;
    # "t***@gmail.com" hides the email, so the buyer's username is the customer.
    assert by_line.loc[[7, 8], "customer_key"].tolist() == ["id:theo_p", "id:theo_p"]
    assert by_line.loc[[7, 8], "line_total"].tolist() == [Decimal("20.00"), Decimal("30.00")]
    assert sum(frame["line_total"]) == Decimal("1459.50")


def test_an_ebay_footer_padded_to_the_headers_width_is_still_its_footer():
    lines = EBAY.decode().split("\r\n")
    width = lines[1].count('","') + 1
    padded = [line + "," * (width - 1 - line.count(",")) if "downloaded" in line or "Seller" in line
              else line for line in lines]
    data = "\r\n".join(padded).encode()

    assert_same_results(data, chunk_rows=4)
    _, rejections, notes = _read(data, fast=False)
    assert (rejections, notes[FOOTER_LINE]) == ([], 2)


@pytest.mark.parametrize("chunk_rows", [1, 2, 5])
def test_the_readers_agree_on_rows_left_out_whatever_the_chunks(chunk_rows):
    assert_same_results(PAYPAL, chunk_rows=chunk_rows)
    assert_same_results(EBAY, chunk_rows=chunk_rows)


def test_without_an_order_id_left_out_rows_are_neither_read_nor_repeats(monkeypatch):
    # A PayPal download whose owner chose no Transaction ID: rows equal to an earlier one
    # are the owner's choice, and a withdrawal repeated is still no sale.
    lines = PAYPAL.decode("utf-8-sig").split("\r\n")
    withdrawal, sale = lines[7], lines[1]
    data = "\r\n".join([lines[0], sale, withdrawal, withdrawal, sale, ""]).encode()
    mapping = _mapping(data)
    mapping = ColumnMapping(fields={k: v for k, v in mapping.fields.items() if k != "order_id"},
                            preset=mapping.preset)
    for keep in (False, True):
        options = ReadOptions(keep_identical_rows=keep)
        slow = list(read_rows(io.BytesIO(data), mapping, options, fast=False))
        quick = list(read_rows(io.BytesIO(data), mapping, options, fast=True))
        assert [c.notes for c in slow] == [c.notes for c in quick]
        assert [c.identical_money for c in slow] == [c.identical_money for c in quick]
        assert slow[0].identical_money == Decimal("45.00")
        counted = count_identical_rows(io.BytesIO(data), mapping, options, max_rows=100)
        assert (counted.rows, counted.money) == (2, Decimal("45.00"))


def test_the_mapping_page_warns_of_no_currency_only_rows_left_out_are_in():
    # The conversions to euros are left out; the one sale in euros is refused.
    assert other_currencies(io.BytesIO(PAYPAL), _mapping(PAYPAL),
                            ReadOptions(currency="USD")) == ("EUR",)
    only_conversions = b"\r\n".join(
        line for line in PAYPAL.split(b"\r\n") if b"Hans Weber" not in line)
    assert other_currencies(io.BytesIO(only_conversions), _mapping(only_conversions),
                            ReadOptions(currency="USD")) == ()


@READERS
def test_a_second_downloads_header_pasted_below_the_first_is_refused_as_such_not_left_out(fast):
    header, *records = PAYPAL.decode("utf-8-sig").split("\r\n")
    data = "\r\n".join([header, *records[:3], header, *records[3:]]).encode()

    _, rejections, notes = _read(data, fast=fast)

    assert [(r.line_no, r.reason) for r in rejections] == [
        (5, "the line repeats the column names, as where two exports were pasted into one file")]
    assert "Type" not in _left_out(notes)
    assert_same_results(data, chunk_rows=2)
