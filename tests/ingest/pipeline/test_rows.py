from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ingest.pipeline.mapping import ColumnMapping
from ingest.pipeline.rows import (
    COLUMNS,
    PARTLY_REFUNDED_UNKNOWN,
    UNASKED_ENOUGH,
    count_identical_rows,
    detect_date_order,
    read_rows,
)
from ingest.pipeline.table import ReadOptions
from tests.ingest.pipeline.helpers import GOOD_1, GOOD_2, HEADER, ingest_bytes

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"


def test_shopify_order_fields_are_forward_filled_to_every_line_item() -> None:
    outcome = ingest_bytes((DATA / "shopify_orders.csv").read_bytes())
    frame = outcome.frame.set_index("line_no")

    assert outcome.proposed.preset == "shopify"
    assert outcome.rejections == ()
    second_item = frame.loc[3]
    assert second_item["order_key"] == "#1001"
    assert second_item["customer_key"] == "jane@example.com"
    assert second_item["ordered_at"] == pd.Timestamp("2023-03-01 09:14:55", tz="UTC")
    assert second_item["line_total"] == Decimal("12.00")
    assert bool(second_item["accepts_marketing"]) is True
    assert outcome.notes["forward-filled order fields (Shopify)"] == 1


def test_shopify_cancellations_and_refunds_are_carried() -> None:
    frame = ingest_bytes((DATA / "shopify_orders.csv").read_bytes()).frame.set_index("order_key")

    assert bool(frame.loc["#1002", "is_cancelled"]) is True
    assert bool(frame.loc["#1003", "is_cancelled"]) is False
    assert frame.loc["#1003", "refunded_amount"] == Decimal("12.50")
    assert frame.loc["#1003", "customer_key"] == "jane@example.com"  # " JANE@Example.com " cleaned
    assert (frame.loc["#1003", "first_name"], frame.loc["#1003", "last_name"]) == ("Jane", "Doe")


def test_voided_failed_and_cancelled_statuses_mark_the_order_cancelled() -> None:
    statuses = ["Completed", "Failed", "Voided", "cancelled", "Canceled", "Refunded", "Processing",
                "Declined", "Payment error"]
    rows = "".join(
        f"A{i},c{i}@example.com,2024-03-0{i + 1},{status},10.00\n"
        for i, status in enumerate(statuses)
    )
    data = ("order_id,email,order_date,status,total\n" + rows).encode()
    frame = ingest_bytes(data).frame.set_index("order_key")

    cancelled = {status: bool(frame.loc[f"A{i}", "is_cancelled"]) for i, status in enumerate(statuses)}
    # No refunded amount to net: a refunded order's money is gone, as a cancelled one's.
    assert cancelled == {"Completed": False, "Failed": True, "Voided": True, "cancelled": True,
                         "Canceled": True, "Refunded": True, "Processing": False,
                         "Declined": True, "Payment error": True}


@pytest.mark.parametrize("status", ["Storniert", "Annulée", "Cancelado", "Annullato", "已取消"])
def test_a_cancelled_status_in_another_language_cancels_the_order(status: str) -> None:
    data = ("order_id,email,order_date,status,total\n"
            f"A1,c@example.com,2024-03-01,{status},10.00\n"
            "A2,c@example.com,2024-03-02,Bezahlt,10.00\n").encode()
    frame = ingest_bytes(data).frame.set_index("order_key")

    assert (bool(frame.loc["A1", "is_cancelled"]), bool(frame.loc["A2", "is_cancelled"])) == (
        True, False)


@pytest.mark.parametrize("status", [
    "Refunded", "refunded", "Fully refunded", "fully_refunded", "Erstattet", "Rückerstattet",
    "Remboursé", "Remboursée", "Reembolsado", "已退款", "全额退款",
])
def test_a_fully_refunded_status_cancels_the_order_also_where_the_file_gives_the_amount(
        status: str) -> None:
    # The amount paid back holds shipping and tax; the order's goods never did.
    data = (f"order_id,email,order_date,status,total,refunded amount\n"
            f"A1,a@example.com,2024-03-01,{status},10.00,14.90\n"
            f"A2,a@example.com,2024-03-02,Paid,10.00,\n").encode()

    frame = ingest_bytes(data).frame.set_index("order_key")

    assert frame["is_cancelled"].to_dict() == {"A1": True, "A2": False}
    assert frame.loc["A1", "refunded_amount"] == Decimal("14.90")  # kept as the file says


@pytest.mark.parametrize("status", [
    "partially_refunded", "Partially refunded", "Partially Refunded", "partly refunded",
    "Teilweise erstattet", "Partiellement remboursé", "Parcialmente reembolsado", "部分退款",
])
def test_a_partly_refunded_order_counts_in_full_and_the_report_says_the_amount_is_unknown(
        status: str) -> None:
    data = (f"order_id,email,order_date,status,sku,quantity,unit_price\n"
            f"P1,a@example.com,2024-03-01,{status},S1,1,10.00\n"
            f"P1,a@example.com,2024-03-01,{status},S2,1,5.00\n"
            f"P2,b@example.com,2024-03-02,Paid,S1,1,10.00\n").encode()

    outcome = ingest_bytes(data)

    assert not outcome.frame["is_cancelled"].any()
    assert outcome.notes[PARTLY_REFUNDED_UNKNOWN] == 1  # one order, whatever its lines


@pytest.mark.parametrize("chunk_rows", [1, 2, 50_000])
def test_a_partly_refunded_order_is_noted_once_however_its_lines_fall_into_chunks(
        chunk_rows: int) -> None:
    # Shopify writes the status on an order's first line only.
    data = (b"Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,"
            b"Lineitem price,Lineitem sku,Cancelled at\n"
            b"#1,a@example.com,partially_refunded,2024-03-01 10:00:00 +0100,1,Mug,4.50,M1,\n"
            b"#1,,,,2,Cup,3.00,C1,\n"
            b"#1,,,,1,Jug,9.00,J1,\n"
            b"#2,b@example.com,partially_refunded,2024-03-02 10:00:00 +0100,1,Mug,4.50,M1,"
            b"2024-03-03 10:00:00 +0100\n"
            b"#3,c@example.com,paid,2024-03-04 10:00:00 +0100,1,Mug,4.50,M1,\n"
            b"#4,c@example.com,partially_refunded,2024-03-05 10:00:00 +0100,1,Mug,4.50,M1,\n")

    outcome = ingest_bytes(data, chunk_rows=chunk_rows)

    # #2 was cancelled as well: it counts 0, not in full.
    assert outcome.notes[PARTLY_REFUNDED_UNKNOWN] == 2


def test_a_partly_refunded_order_whose_file_says_how_much_is_not_noted() -> None:
    with_amount = (b"order_id,email,order_date,status,total,refunded amount\n"
                   b"P1,a@example.com,2024-03-01,Partially refunded,10.00,4.00\n")
    lines_net_of_refunds = (DATA / "woocommerce_advanced_order_export.csv").read_bytes().replace(
        b"4830,Completed", b"4830,Partially Refunded")

    assert PARTLY_REFUNDED_UNKNOWN not in ingest_bytes(with_amount).notes
    assert PARTLY_REFUNDED_UNKNOWN not in ingest_bytes(lines_net_of_refunds).notes


def test_advanced_order_export_lines_are_net_of_refunds_and_cancelled_orders_are_flagged() -> None:
    outcome = ingest_bytes((DATA / "woocommerce_advanced_order_export.csv").read_bytes())
    frame = outcome.frame.set_index("order_key")

    assert outcome.proposed.preset == "woocommerce_advanced_order_export"
    assert outcome.rejections == ()
    assert frame.loc["4821", "line_total"].tolist() == [Decimal("20.00"), Decimal("15.00")]
    # Fully refunded: the bought quantity stays, the money is gone, the order is not cancelled.
    refunded = frame.loc["4822"]
    assert (refunded["quantity"], refunded["line_total"]) == (1, Decimal("0.00"))
    assert (refunded["financial_status"], bool(refunded["is_cancelled"])) == ("refunded", False)
    assert bool(frame.loc["4823", "is_cancelled"]) is True
    # One of two bags refunded on a still "Completed" order.
    assert (frame.loc["4830", "quantity"], frame.loc["4830", "line_total"]) == (2, Decimal("10.00"))
    assert frame.loc["4830", "customer_key"] == "jonas.weber@example.de"
    assert (refunded["first_name"], refunded["last_name"]) == ("Sam", "Okafor, Jr.")
    assert (refunded["city"], refunded["country"]) == ("Zürich", "CH")
    assert frame.loc["4836", "product_name"] == "Hario V60 Dripper, size 02"
    assert not frame["is_return"].any()


def test_uci_credit_notes_are_returns_and_rows_without_customer_are_rejected() -> None:
    outcome = ingest_bytes((DATA / "uci_online_retail.csv").read_bytes())
    frame = outcome.frame.set_index("order_key")

    assert outcome.proposed.preset == "uci_online_retail"
    assert bool(frame.loc["C536379", "is_return"]) is True
    assert frame.loc["C536379", "line_total"] == Decimal("-27.5")
    assert frame.loc["536365", "customer_key"].tolist() == ["id:17850"] * 3
    # Month first: 12/1/2010 is the first of December.
    assert frame.loc["536366", "ordered_at"] == pd.Timestamp("2010-12-01 08:28", tz="UTC")
    assert [(r.line_no, r.reason) for r in outcome.rejections] == [
        (10, "no customer: both the email and the customer id are empty")
    ]
    assert outcome.notes["dropped exact duplicate row"] == 1
    assert bool(frame.loc["581483", "is_outlier"]) is True
    assert not frame.drop(index="581483")["is_outlier"].any()


def test_the_frame_has_the_documented_columns_and_python_types() -> None:
    frame = ingest_bytes((HEADER + GOOD_1).encode()).frame

    assert tuple(frame.columns) == COLUMNS
    row = frame.iloc[0]
    assert isinstance(row["unit_price"], Decimal) and isinstance(row["line_total"], Decimal)
    assert isinstance(row["customer_key"], str) and row["shop_customer_id"] is None
    assert str(frame["ordered_at"].dtype) == "datetime64[us, UTC]"
    assert frame["quantity"].dtype == "int64" and frame["is_return"].dtype == bool
    assert (
        str(frame["accepts_marketing"].dtype) == "boolean"
        and str(frame["birth_year"].dtype) == "Int64"
    )


def test_line_numbers_are_physical_lines_even_after_a_multiline_quoted_field() -> None:
    data = (
        HEADER
        + GOOD_1
        + '1003,c@example.com,"Carl\nvon\nBerg",2024-01-07,X,1,2.00\n'
        + "1004,d@example.com,D,2024-01-07,X,0,2.00\n"
        + GOOD_2
    ).encode()
    outcome = ingest_bytes(data)

    assert outcome.frame["line_no"].tolist() == [2, 3, 7]
    assert [r.line_no for r in outcome.rejections] == [6]


def test_a_large_file_is_streamed_in_chunks_with_duplicates_found_across_chunks() -> None:
    lines = [
        f"{2000 + i},c{i % 500}@example.com,C,2024-01-07 10:{i % 60:02d},X,1,2.00\n"
        for i in range(12_000)
    ]
    data = (HEADER + "".join(lines) + lines[10]).encode()
    chunks = list(
        read_rows(
            io.BytesIO(data),
            ColumnMapping(
                fields={
                    "order_id": "order_id",
                    "customer_email": "email",
                    "ordered_at": "ordered_at",
                    "quantity": "quantity",
                    "unit_price": "unit_price",
                }
            ),
            chunk_rows=5000,
        )
    )

    assert len(chunks) == 3
    assert [len(c.frame) for c in chunks] == [5000, 5000, 2000]
    assert [(c.first_line, c.last_line) for c in chunks] == [
        (2, 5001),
        (5002, 10001),
        (10002, 12002),
    ]
    assert chunks[-1].notes["dropped exact duplicate row"] == 1


def test_semicolon_decimal_comma_files_from_european_excel_are_read() -> None:
    data = (
        "Bestellnummer;E-Mail;Bestelldatum;Menge;Preis\n"
        "1;ann@example.com;05.01.2024 10:00;2;12,50\n"
        "2;bob@example.com;06.01.2024;1;1.234,00\n"
    ).encode("cp1252")
    outcome = ingest_bytes(data, options=ReadOptions(timezone="Europe/Berlin"))

    assert outcome.frame["line_total"].tolist() == [Decimal("25.00"), Decimal("1234.00")]
    assert outcome.frame["ordered_at"].iloc[0] == pd.Timestamp(datetime(2024, 1, 5, 9, tzinfo=UTC))


def test_rows_without_order_id_get_a_key_from_customer_and_time() -> None:
    data = b"email,date,total\nann@example.com,2024-01-05 10:00,9.90\n"
    frame = ingest_bytes(data).frame

    assert frame["order_key"].tolist() == ["ann@example.com@2024-01-05T10:00:00+00:00"]
    # "total" is the order's total: the order's money, not a line's.
    assert frame["order_total"].tolist() == [Decimal("9.90")]
    assert frame["line_total"].tolist() == [None]
    assert frame["quantity"].tolist() == [1]


def test_negative_quantity_lines_are_returns_with_negative_totals() -> None:
    data = (HEADER + "1003,c@example.com,C,2024-01-07,X,-2,3.00\n").encode()
    row = ingest_bytes(data).frame.iloc[0]

    assert bool(row["is_return"]) is True
    assert row["line_total"] == Decimal("-6.00")


_SAME_DAY = (
    "email,date,quantity,amount\n"
    "ann@example.com,2024-01-05,1,9.90\n"
    "ann@example.com,2024-01-05,2,4.00\n"
    "ann@example.com,2024-01-05,1,9.90\n"  # identical to line 2
    "bob@example.com,2024-01-06,1,3.50\n"
    "ann@example.com,2024-01-05,1,9.90\n"  # identical to lines 2 and 4
    "ann@example.com,2024-01-05,2,4.00\n"  # identical to line 3
)


def test_identical_rows_without_an_order_id_are_dropped_by_default_with_their_money() -> None:
    outcome = ingest_bytes(_SAME_DAY.encode(), chunk_rows=2)

    assert outcome.frame["line_no"].tolist() == [2, 3, 5]
    assert outcome.notes["dropped exact duplicate row"] == 3
    assert outcome.identical_money == Decimal("23.80")


def test_identical_rows_kept_as_purchases_get_order_keys_of_their_own_from_their_occurrence() -> None:
    outcome = ingest_bytes(
        _SAME_DAY.encode(), options=ReadOptions(keep_identical_rows=True), chunk_rows=2
    )

    ann = "ann@example.com@2024-01-05T00:00:00+00:00"
    assert outcome.frame["line_no"].tolist() == [2, 3, 4, 5, 6, 7]
    # The second copy of each of ann's rows is her second order of the day, the third her third.
    assert outcome.frame["order_key"].tolist() == [
        ann, ann, f"{ann}#2", "bob@example.com@2024-01-06T00:00:00+00:00", f"{ann}#3", f"{ann}#2",
    ]
    assert sum(outcome.frame["line_total"]) == Decimal("41.20")
    assert outcome.notes["kept identical row as a separate purchase"] == 3
    assert "dropped exact duplicate row" not in outcome.notes
    assert outcome.identical_money == Decimal("23.80")


def test_identical_rows_with_an_order_id_are_dropped_as_the_same_line_exported_twice() -> None:
    data = (HEADER + GOOD_1 + GOOD_2 + GOOD_1).encode()
    outcome = ingest_bytes(data)

    assert outcome.frame["line_no"].tolist() == [2, 3]
    assert outcome.notes["dropped exact duplicate row"] == 1
    # Dropped before cleaning, as every import of a clean export would pay for it: the
    # mapping page named their money before the import.
    assert outcome.identical_money == 0


def test_identical_rows_with_an_order_id_kept_are_more_of_the_same_line_of_its_order() -> None:
    data = (HEADER + GOOD_1 + GOOD_2 + GOOD_1).encode()
    outcome = ingest_bytes(data, options=ReadOptions(keep_identical_rows=True))

    assert outcome.frame["line_no"].tolist() == [2, 3, 4]
    assert outcome.frame["order_key"].iloc[2] == outcome.frame["order_key"].iloc[0]
    assert outcome.notes["kept identical row as a separate purchase"] == 1
    assert outcome.identical_money == outcome.frame["line_total"].iloc[0] != 0


def test_the_quick_count_of_identical_rows_says_when_it_read_only_the_start_or_found_no_money() -> None:
    mapping = ColumnMapping(fields={"customer_email": "email", "ordered_at": "date",
                                    "quantity": "quantity", "line_total": "amount"})
    unmapped = ColumnMapping(fields={"customer_email": "email", "ordered_at": "date"})

    start = count_identical_rows(io.BytesIO(_SAME_DAY.encode()), mapping, max_rows=4)
    moneyless = count_identical_rows(io.BytesIO(_SAME_DAY.encode()), unmapped, max_rows=100)

    assert (start.rows, start.money, start.rows_read, start.complete) == (
        1, Decimal("9.90"), 4, False)
    assert (moneyless.rows, moneyless.money, moneyless.complete) == (3, None, True)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["05/03/2024", "06/03/2024", "13/03/2024"], True),  # told only on the last row
        (["03/05/2024", "03/28/2024 10:00"], False),
        (["03/05/2024", "2024-03-13", "13.03.2024"], None),  # nothing tells
        (["13/03/2024", "03/28/2024"], True),  # the first that tells decides
        # an ISO file is not read to its end: past UNASKED_ENOUGH dates it stops looking
        (["2024-03-01"] * UNASKED_ENOUGH + ["13/03/2024"], None),
        (["2024-03-01"] * (UNASKED_ENOUGH - 1) + ["13/03/2024"], True),
    ],
)
def test_the_files_date_order_comes_from_its_first_date_that_can_only_be_read_one_way(
    dates: list[str], expected: bool | None
) -> None:
    data = ("email,order date,amount\n" + "".join(
        f"c{i}@example.com,{d},1.00\n" for i, d in enumerate(dates))).encode()
    mapping = ColumnMapping(fields={"customer_email": "email", "ordered_at": "order date",
                                    "line_total": "amount"})

    shown = detect_date_order(io.BytesIO(data), mapping)
    assert (shown.dayfirst if shown else None) is expected
    if shown:  # the date that told, and its line (the header is line 1)
        told = next(i for i, d in enumerate(dates)
                    if (m := re.match(r"(\d{1,2})[/-](\d{1,2})[/-]\d", d))
                    and (int(m[1]) > 12) != (int(m[2]) > 12))
        assert (shown.line_no, shown.text) == (told + 2, dates[told])
