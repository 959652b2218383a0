from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ingest.demo.generate import generate_demo_orders, iter_order_lines, write_order_lines
from ingest.pipeline import fast
from ingest.pipeline.errors import PipelineError
from ingest.pipeline.files import check_size, open_upload
from ingest.pipeline.mapping import ColumnMapping, propose_mapping
from ingest.pipeline.rows import (
    PARTLY_REFUNDED_UNKNOWN,
    CleanChunk,
    count_identical_rows,
    read_rows,
)
from ingest.pipeline.table import DEFAULT_OPTIONS, ReadOptions, open_table
from tests.ingest.pipeline.test_hostile_input import CASES

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "ingest"
DECIMAL_COLUMNS = ("unit_price", "line_total", "order_total", "refunded_amount")


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    chunks: list[CleanChunk] | None
    error: str | None
    stats: Counter[str]
    error_data: tuple[str, dict] | None = None  # the error's template and params


def _run(
    data: bytes,
    *,
    fast_path: bool,
    name: str = "orders.csv",
    options: ReadOptions = DEFAULT_OPTIONS,
    chunk_rows: int = 50_000,
    mapping: ColumnMapping | None = None,
    limit: int = 50 * 1024**2,
) -> Run:
    stats: Counter[str] = Counter()
    try:
        check_size(len(data), limit)
        if mapping is None:
            with open_upload(io.BytesIO(data), name) as stream:
                mapping = propose_mapping(open_table(stream, options).raw_headers).to_mapping()
        with open_upload(io.BytesIO(data), name) as stream:
            chunks = list(
                read_rows(
                    stream, mapping, options, chunk_rows=chunk_rows, fast=fast_path, stats=stats
                )
            )
    except PipelineError as exc:
        return Run(chunks=None, error=exc.reason, stats=stats,
                   error_data=(exc.template, exc.params))
    return Run(chunks=chunks, error=None, stats=stats)


def assert_same_results(data: bytes, **kwargs: object) -> Counter[str]:
    slow = _run(data, fast_path=False, **kwargs)  # type: ignore[arg-type]
    quick = _run(data, fast_path=True, **kwargs)  # type: ignore[arg-type]
    assert quick.error == slow.error
    assert quick.error_data == slow.error_data
    if slow.chunks is None:
        return quick.stats
    assert quick.chunks is not None
    assert len(quick.chunks) == len(slow.chunks)
    for expected, actual in zip(slow.chunks, quick.chunks):
        assert (actual.index, actual.first_line, actual.last_line) == (
            expected.index,
            expected.first_line,
            expected.last_line,
        )
        pd.testing.assert_frame_equal(actual.frame, expected.frame)
        for column in DECIMAL_COLUMNS:
            # Decimal("2.5") == Decimal("2.50"): compare the written form too.
            assert list(map(repr, actual.frame[column])) == list(map(repr, expected.frame[column]))
        assert [(r.line_no, r.reason, r.template, r.params) for r in actual.rejections] == [
            (r.line_no, r.reason, r.template, r.params) for r in expected.rejections
        ]
        assert [r.raw for r in actual.rejections] == [r.raw for r in expected.rejections]
        assert actual.notes == expected.notes
        assert actual.identical_money == expected.identical_money
    return quick.stats


@pytest.mark.parametrize("chunk_rows", [3, 50_000])
@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.csv")))
def test_fast_and_slow_paths_agree_on_every_fixture(fixture: str, chunk_rows: int) -> None:
    assert_same_results((FIXTURES / fixture).read_bytes(), chunk_rows=chunk_rows)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fast_and_slow_paths_agree_on_hostile_input(case) -> None:  # type: ignore[no-untyped-def]
    assert_same_results(case.data, name=case.name, limit=case.limit)


@pytest.fixture(scope="module")
def demo_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    generate_demo_orders(path, customers=3000, seed=7)
    return path.read_bytes()


@pytest.mark.parametrize("chunk_rows", [4_999, 50_000])
def test_fast_and_slow_paths_agree_on_the_demo_shop(demo_bytes: bytes, chunk_rows: int) -> None:
    assert_same_results(demo_bytes, chunk_rows=chunk_rows)


@pytest.fixture(scope="module")
def benchmark_slice(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    # The generator behind benchmarks/data/orders_1m.csv (generate_orders.py), cut at 20k lines.
    path = tmp_path_factory.mktemp("bench") / "orders_20k.csv"
    write_order_lines(
        path, iter_order_lines(customers=10_000, seed=11, rate_multiplier=4.0), limit=20_000
    )
    return path.read_bytes()


@pytest.mark.parametrize("chunk_rows", [1_000, 7_777, 50_000])
def test_fast_and_slow_paths_agree_on_a_benchmark_slice(
    benchmark_slice: bytes, chunk_rows: int
) -> None:
    assert_same_results(benchmark_slice, chunk_rows=chunk_rows)


def test_a_plain_file_is_split_by_the_c_parser_and_cleaned_in_bulk(benchmark_slice: bytes) -> None:
    # when
    stats = assert_same_results(benchmark_slice, chunk_rows=5_000)

    # then
    assert stats[fast.CHUNKS_SPLIT_FAST] == 4
    assert stats[fast.CHUNKS_SPLIT_SLOW] == 0
    assert stats[fast.ROWS_PER_ROW] == 0  # its exact duplicates are dropped before cleaning
    assert stats[fast.ROWS_VECTORISED] > 19_000


HEADER = "order_id,email,first_name,last_name,country,city,accepts_marketing,ordered_at,sku,product_name,category,quantity,unit_price\n"


def _line(i: int, **cells: str) -> str:
    row = {
        "order_id": str(1000 + i // 3),
        "email": f"user{i // 3}@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "country": "DE",
        "city": "Köln" if i % 7 == 0 else "Berlin",
        "accepts_marketing": "yes" if i % 2 else "no",
        "ordered_at": f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00",
        "sku": f"SKU-{i % 5}",
        "product_name": "Tea",
        "category": "Drinks",
        "quantity": str(1 + i % 3),
        "unit_price": f"{1 + i % 9}.50",
    }
    row.update(cells)
    return ",".join(row.values()) + "\n"


# Each messy line, placed among plain ones, must come out exactly as the reference says.
MESSY_LINES = (
    _line(10, email="  Ann.Lee@Example.COM "),
    _line(11, email="mailto:x@example.com"),
    _line(12, email="not-an-address"),
    _line(13, email="", ordered_at="2024-01-05"),
    _line(14, first_name="=cmd", last_name="  Lee  "),
    _line(15, first_name="Zoë", last_name="Ma\u0308rz"),  # NFC normalisation
    _line(16, ordered_at="2023-02-30 10:00:00"),
    _line(17, ordered_at="31/12/2023"),
    _line(18, ordered_at="2024-01-05T10:00:00+02:00"),
    _line(19, ordered_at="45000"),
    _line(20, ordered_at=""),
    _line(21, unit_price="NaN"),
    _line(22, unit_price="€1234.50"),
    _line(23, unit_price="(2.00)", quantity=" 3 "),
    _line(23, unit_price="-3.00"),
    _line(24, unit_price=""),
    _line(25, quantity="0"),
    _line(26, quantity="2.5"),
    _line(27, quantity="-2"),
    _line(28, order_id=""),
    _line(29, order_id="1000", email="mallory@example.com"),  # owned by user0
    _line(30, accepts_marketing="maybe"),
    _line(31, sku="A\x01B", product_name="Tea  Pot", category=" Drinks"),
    _line(32, city="\ufffdrfurt"),
    _line(2),  # an exact duplicate of an earlier line
    _line(33, first_name="", last_name=""),
    _line(34, email="ANN@EXAMPLE.COM", order_id="1001"),  # same customer after lowercasing
    _line(35, ordered_at="03/05/2024 10:00"),  # day and month either way
    _line(36, ordered_at="5-Mar-24"),
    _line(37, ordered_at="Tue 05 Mar 2024 14:05:00 +0100"),
    _line(38, ordered_at="2024年3月5日 14:05"),
    HEADER,  # a second export pasted below the first: its header row
    HEADER.upper(),
)


def _messy(lines: int = 400) -> str:
    body = [_line(i) for i in range(lines)]
    for k, messy in enumerate(MESSY_LINES):
        body.insert(40 + k * 13, messy)
    return HEADER + "".join(body)


@pytest.mark.parametrize("chunk_rows", [7, 64, 50_000])
def test_fast_and_slow_paths_agree_on_rows_the_bulk_checks_hand_back(chunk_rows: int) -> None:
    stats = assert_same_results(_messy().encode(), chunk_rows=chunk_rows)

    assert stats[fast.CHUNKS_SPLIT_SLOW] == 0
    assert stats[fast.ROWS_PER_ROW] > 0
    assert stats[fast.ROWS_VECTORISED] > 0


SPLITTING_TROUBLE = {
    "quoted line break late in the file": '1500,"q@example.com",Q,"multi\nline",DE,X,yes,2024-01-05,S,T,C,1,2.00\n',
    "lone carriage return": "1500,q@example.com,Q,R,DE,X,yes,2024-01-05,S,T,C,1,2.00\r",
    "blank line": "\n",
    "row of delimiters": ",,,,,,,,,,,,\n",
    "short row": "1500,q@example.com\n",
    "long row with trailing empties": _line(500).replace("\n", ",,\n"),
    "long row with extra data": _line(500).replace("\n", ",x\n"),
    "nul byte": _line(500, city="A\x00B"),
    "byte order mark mid-file": "\ufeff" + _line(500),
    "unterminated quote at the end": '1500,"q@example.com,Q\n',
}


@pytest.mark.parametrize("trouble", SPLITTING_TROUBLE.values(), ids=SPLITTING_TROUBLE.keys())
@pytest.mark.parametrize("chunk_rows", [50, 50_000])
def test_fast_and_slow_paths_agree_when_the_c_parser_must_hand_over(
    trouble: str, chunk_rows: int
) -> None:
    text = _messy(300)
    lines = text.splitlines(keepends=True)
    data = "".join(lines[:200]) + trouble + "".join(lines[200:])

    stats = assert_same_results(data.encode(), chunk_rows=chunk_rows)

    if chunk_rows == 50:
        assert stats[fast.CHUNKS_SPLIT_FAST] >= 3
    assert stats[fast.CHUNKS_SPLIT_SLOW] >= 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "gb18030"], ids=str)
def test_fast_and_slow_paths_agree_in_every_encoding(encoding: str) -> None:
    data = _messy().replace("\ufffd", "?").replace("\u0308", "")
    if encoding == "cp1252":
        data = data.replace("Zoë", "Zoé").replace("2024年3月5日", "2024-3-5")
    assert_same_results(data.encode(encoding), chunk_rows=64)


def test_fast_and_slow_paths_agree_with_crlf_line_endings() -> None:
    stats = assert_same_results(_messy().replace("\n", "\r\n").encode(), chunk_rows=64)

    assert stats[fast.CHUNKS_SPLIT_SLOW] == 0


@pytest.mark.parametrize(
    "options",
    [
        ReadOptions(timezone="Europe/Berlin"),
        ReadOptions(dayfirst=True),
        ReadOptions(max_field_chars=150),
        ReadOptions(delimiter=";"),
        ReadOptions(decimal_comma=True),
    ],
    ids=["shop time zone", "day first", "small field cap", "semicolons", "decimal comma"],
)
def test_fast_and_slow_paths_agree_under_read_options(options: ReadOptions) -> None:
    data = _messy()
    if options.delimiter == ";":
        data = data.replace(",", ";")
    assert_same_results(data.encode(), chunk_rows=64, options=options)


def test_fast_and_slow_paths_agree_on_a_shopify_fill_across_chunks() -> None:
    header = (
        "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,"
        "Lineitem price,Lineitem sku,Billing Name,Currency,Total,Cancelled at,Refunded Amount\n"
    )
    lines = []
    for order in range(60):
        for item in range(1 + order % 4):
            first = item == 0
            lines.append(
                f"#{order},{f'c{order % 9}@example.com' if first else ''},"
                f"{('paid' if order % 5 else 'voided') if first else ''},"
                f"{'2024-03-01 10:00:00 +0100' if first else ''},{1 + item},Mug,4.50,M-{item},"
                f"{'Kim Park' if first else ''},{'EUR' if first else ''},"
                f"{'20.00' if first else ''},{'2024-03-02' if first and order % 7 == 0 else ''},"
                f"{'1.00' if first and order % 3 == 0 else ''}\n"
            )
    stats = assert_same_results((header + "".join(lines)).encode(), chunk_rows=5)

    assert stats[fast.CHUNKS_SPLIT_FAST] > 0


@pytest.mark.parametrize("refund_column", [True, False], ids=["refunded amount", "no amount"])
@pytest.mark.parametrize("chunk_rows", [4, 50_000])
def test_fast_and_slow_paths_agree_on_refunds_and_partial_refunds_across_chunks(
        refund_column: bool, chunk_rows: int) -> None:
    statuses = ["paid", "refunded", "partially_refunded", "Partially Refunded", "Erstattet",
                "已退款", "部分退款", "voided"]
    lines = []
    for order in range(48):
        for item in range(1 + order % 3):
            first = item == 0
            status = statuses[order % len(statuses)] if first else ""
            refund = f"{4 + order % 9}.90" if first and order % 2 else ""
            lines.append(f"#{order},{f'c{order % 7}@example.com' if first else ''},{status},"
                         f"{'2024-03-01 10:00:00 +0100' if first else ''},{1 + item},Mug,"
                         f"{3 + item}.50,M-{item}" + (f",{refund}" if refund_column else "") + "\n")
    header = ("Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,"
              "Lineitem price,Lineitem sku" + (",Refunded Amount" if refund_column else "") + "\n")

    assert_same_results((header + "".join(lines)).encode(), chunk_rows=chunk_rows)
    notes = sum((c.notes for c in _run((header + "".join(lines)).encode(), fast_path=True,
                                       chunk_rows=chunk_rows).chunks), Counter())
    assert notes[PARTLY_REFUNDED_UNKNOWN] == (0 if refund_column else 18)


def test_fast_and_slow_paths_agree_without_an_order_id_column() -> None:
    data = "email,date,amount\n" + "".join(
        f"u{i % 7}@example.com,2024-01-{1 + i % 28:02d} 0{i % 10}:00,{i % 13}.25\n"
        for i in range(300)
    )
    assert_same_results(data.encode(), chunk_rows=40)


@pytest.mark.parametrize("keep", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("chunk_rows", [7, 50_000])
def test_fast_and_slow_paths_agree_on_identical_rows_without_an_order_id(
    keep: bool, chunk_rows: int
) -> None:
    rows = [
        f"u{i % 5}@example.com,2024-01-0{1 + i % 3},{1 + i % 2},{i % 4}.25,{'voided' if i % 11 == 0 else 'paid'}\n"
        for i in range(60)
    ]
    # Bad rows repeated (rejected once, or each time when kept), a repeat carrying an
    # undecodable character, and a repeat far from its first copy.
    rows += ["x@example.com,not a date,1,2.00,paid\n"] * 3 + ["\ufffdy@example.com,2024-01-02,1,1.00,paid\n"] * 2
    rows += rows[:9]
    data = ("email,date,quantity,amount,status\n" + "".join(rows)).encode()
    assert_same_results(data, chunk_rows=chunk_rows, options=ReadOptions(keep_identical_rows=keep))

    # The mapping page's quick count says what the reader then does.
    read = _run(data, fast_path=True, chunk_rows=chunk_rows,
                options=ReadOptions(keep_identical_rows=keep))
    notes = sum((c.notes for c in read.chunks), Counter())
    mapping = propose_mapping(open_table(io.BytesIO(data)).raw_headers).to_mapping()
    counted = count_identical_rows(io.BytesIO(data), mapping, max_rows=10_000)
    assert counted.complete and counted.rows_read == len(rows)
    # Kept rows are counted once each; rejected repeats are still identical rows.
    assert counted.rows == notes["dropped exact duplicate row"] + notes[
        "kept identical row as a separate purchase"] + (2 if keep else 0)
    assert counted.money == sum(c.identical_money for c in read.chunks) != 0


@pytest.mark.parametrize("keep", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("chunk_rows", [7, 50_000])
def test_fast_and_slow_paths_agree_on_identical_rows_with_an_order_id(
    keep: bool, chunk_rows: int
) -> None:
    rows = [f"{100 + i // 3},u{i // 3 % 5}@example.com,2024-01-0{1 + i // 3 % 3},S{i % 2},1,{i % 4}.25\n"
            for i in range(60)]
    # Repeats next to their first copy (the same item on two lines of an order), far
    # from it (another chunk), and of a bad row.
    rows += rows[:4] + ["999,x@example.com,not a date,S1,1,2.00\n"] * 3
    rows[10:10] = [rows[9]]
    data = ("order_id,email,date,sku,quantity,amount\n" + "".join(rows)).encode()
    assert_same_results(data, chunk_rows=chunk_rows, options=ReadOptions(keep_identical_rows=keep))

    read = _run(data, fast_path=True, chunk_rows=chunk_rows,
                options=ReadOptions(keep_identical_rows=keep))
    notes = sum((c.notes for c in read.chunks), Counter())
    kept = notes["kept identical row as a separate purchase"]
    # Kept: every repeat that is not a bad row's; dropped: all seven repeats.
    assert (kept, notes["dropped exact duplicate row"]) == ((5, 0) if keep else (0, 7))
    orders = pd.concat([c.frame for c in read.chunks])["order_key"]
    assert not orders.str.contains("#").any()  # a kept repeat stays in its own order


def test_fast_and_slow_paths_agree_on_uci_credit_notes_and_float_ids() -> None:
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    lines = [
        f"{'C' if i % 11 == 0 else ''}{536000 + i // 4},S{i % 6},THING {i % 6},{1 + i % 5},"
        f"12/{1 + i % 28}/2010 8:{i % 60:02d},{i % 4}.{i % 100:02d},{17000 + i % 13}.0,UK\n"
        for i in range(400)
    ]
    assert_same_results((header + "".join(lines)).encode(), chunk_rows=64)


@pytest.mark.parametrize("keep", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("chunk_rows", [7, 50_000])
def test_fast_and_slow_paths_agree_on_unpriced_lines(keep: bool, chunk_rows: int) -> None:
    """Rows whose only money is their order's total: no amounts of their own, never an
    amount outlier (one has an extreme quantity), repeats carrying no line money."""
    rows = [f"u{i % 5}@example.com,2024-01-0{1 + i % 3},SKU-{i % 4},{1 + i % 2},{10 + i % 3}.50,"
            f"{'' if i % 4 else f'{i % 7}.25'}\n" for i in range(60)]
    rows += ["u1@example.com,2024-01-02,SKU-9,5000,12.50,\n"]  # the quantity is extreme
    rows += rows[:9]  # identical rows, some priced, some not
    data = ("email,date,sku,quantity,order total,line total\n" + "".join(rows)).encode()

    assert_same_results(data, chunk_rows=chunk_rows, options=ReadOptions(keep_identical_rows=keep))

    read = _run(data, fast_path=True, chunk_rows=chunk_rows,
                options=ReadOptions(keep_identical_rows=keep))
    frame = pd.concat([c.frame for c in read.chunks])
    unpriced = frame["line_total"].isna()
    assert unpriced.sum() > 0 and frame.loc[unpriced, "unit_price"].isna().all()
    assert not frame.loc[unpriced & (frame["quantity"] < 5000), "is_outlier"].any()
    assert frame.loc[frame["quantity"] == 5000, "is_outlier"].all()
    mapping = propose_mapping(open_table(io.BytesIO(data)).raw_headers).to_mapping()
    counted = count_identical_rows(io.BytesIO(data), mapping, max_rows=10_000)
    # Only the priced repeats carry money: rows 0, 4 and 8 (0.25, 4.25 and 1.25).
    assert counted.money == sum(c.identical_money for c in read.chunks) == Decimal("5.75")


def test_fast_and_slow_paths_agree_below_a_title_and_count_lines_from_the_files_top() -> None:
    data = ("Orders report,,,\nGenerated 2024-02-01 by the shop,,,\n,,,\n"
            "order_id,email,date,line_total\n"
            + "".join(f"{i},u{i % 4}@example.com,2024-01-{1 + i % 28:02d},{i}.50\n" for i in range(40))
            + "41,,2024-01-02,3.00\n").encode()

    assert_same_results(data, chunk_rows=7)

    read = _run(data, fast_path=True, chunk_rows=7)
    assert [(r.line_no, r.reason) for c in read.chunks for r in c.rejections] == [
        (45, "no customer: both the email and the customer id are empty")]  # the file's line 45
    assert sum(len(c.frame) for c in read.chunks) == 40


def test_a_file_that_names_no_two_columns_is_refused_with_the_reason() -> None:
    emails = "".join(f"u{i}@example.com\n" for i in range(5)).encode()

    assert _run(emails, fast_path=True).error == (
        "None of the first 5 lines names two or more columns. Every import needs the customer, "
        "the order date and the money in columns of their own, with the column names in the "
        "first row of the table.")


def test_a_header_naming_one_known_column_is_kept_and_no_data_row_is_taken_for_a_title() -> None:
    data = b"Email,,,\na@example.com,2024-01-01,2,10.00\nb@example.com,2024-01-02,1,20.00\n"

    table = open_table(io.BytesIO(data))

    assert (table.raw_headers, table.title_lines) == (("Email", "", "", ""), 0)
    assert [r.fields[0] for r in table.records()] == ["a@example.com", "b@example.com"]


def test_fast_and_slow_paths_agree_on_whole_amounts_grouped_by_dots_in_a_semicolon_file() -> None:
    lines = "".join(f"{n};c{n % 7}@example.de;2024-03-{1 + n % 28:02d};{1 + n % 9}.{n % 1000:03d}\n"
                    for n in range(300))
    data = ("Bestellnummer;E-Mail;Datum;Betrag\n" + lines).encode()

    assert_same_results(data, chunk_rows=64)
    slow = _run(data, fast_path=False, chunk_rows=64)
    assert slow.chunks[0].frame["line_total"].iloc[1] == Decimal("2001")  # "2.001"


def test_fast_and_slow_paths_agree_on_orders_in_another_currency_than_the_shops() -> None:
    header = ("Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,"
              "Lineitem price,Lineitem sku,Billing Name,Currency,Total\n")
    lines = []
    for order in range(90):
        currency = ("EUR", "GBP", "eur", "", "usd")[order % 5]
        for item in range(1 + order % 3):
            first = item == 0
            lines.append(
                f"#{order},{f'c{order % 7}@example.com' if first else ''},"
                f"{'paid' if first else ''},{'2024-03-01 10:00:00 +0100' if first else ''},"
                f"1,Mug,4.50,M-{item},{'Kim Park' if first else ''},"
                f"{currency if first else ''},{'13.50' if first else ''}\n")
    data = (header + "".join(lines)).encode()

    stats = assert_same_results(data, chunk_rows=8, options=ReadOptions(currency="EUR"))

    assert stats[fast.ROWS_PER_ROW] > 0  # the refused ones, handed to the row cleaner
    slow = _run(data, fast_path=False, chunk_rows=8, options=ReadOptions(currency="EUR"))
    refused = [r.params["currency"] for chunk in slow.chunks for r in chunk.rejections]
    # every line of the 18 GBP and 18 USD orders (1-3 lines each: 36 lines per currency)
    assert sorted(set(refused)) == ["GBP", "USD"] and len(refused) == 72


def test_fast_and_slow_paths_agree_on_amounts_that_name_their_currency() -> None:
    amounts = ["12.50 €", "£20.00", "EUR 7.00", "9.00 CHF", "$5.00", "3.00", "US$4.00", "8 EUR"]
    data = ("order_id,email,ordered_at,line_total\n" + "".join(
        f"{n},c{n % 5}@example.com,2024-03-{1 + n % 28:02d},{amounts[n % len(amounts)]}\n"
        for n in range(120))).encode()

    assert_same_results(data, chunk_rows=16, options=ReadOptions(currency="EUR"))
    slow = _run(data, fast_path=False, chunk_rows=16, options=ReadOptions(currency="EUR"))
    refused = {r.params["currency"] for chunk in slow.chunks for r in chunk.rejections}
    assert refused == {"GBP", "CHF", "USD"}
