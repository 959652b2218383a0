"""Streaming an order-lines file into clean, typed chunks for the loader.

One pass, bounded memory: records are cleaned and emitted every `chunk_rows`
records as a `CleanChunk`. A bad row becomes a `Rejection` with its physical
line number and never stops the good rows.

Two paths with identical results: the vectorised one in `fast.py` (the default)
and the row-by-row one here (`fast=False`), which stays the reference: the fast
path hands every row it is not certain about to the same `_RowCleaner`.

Money and order semantics of the frame:
- `line_total` is signed: returns (negative quantity) are negative, so
  revenue = `line_total[~is_cancelled].sum()` nets returns automatically.
- `is_cancelled` lines belong to an order the shop cancelled (Shopify
  `Cancelled at`, `voided`): they never count as revenue.
- UCI credit notes (invoice "C…") are returns of earlier purchases, so they
  are `is_return` (negative) rather than `is_cancelled`.
- Order-level columns (`order_total`, `refunded_amount`, `currency`,
  `financial_status`) repeat on every line of an order: take them once per
  `order_key`; net order revenue = lines − `refunded_amount`, down to 0 at most
  (`chunk_tables.order_totals`). A fully refunded status cancels the order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ingest.pipeline.errors import (
    HEADER_ONLY,
    FileRejected,
    PipelineError,
    Reason,
    RowError,
    gettext_noop,
    joined,
)
from ingest.pipeline.headers import normalise_header
from ingest.pipeline.mapping import ColumnMapping, Preset, mapping_problems
from ingest.pipeline.outliers import extreme_mask

# The underscored parsers are the cached, positional-argument forms of the public ones:
# this module calls them ~15 times per row, where building keyword cache keys shows up.
from ingest.pipeline.parsing import (
    DAY_FIRST,
    MONTH_FIRST,
    NOT_ASKED,
    Parsed,
    _clean_text,
    _parse_datetime,
    _parse_money,
    _parse_quantity,
    amount_currency,
    date_order_shown,
    parse_birth_year,
    parse_bool,
    parse_currency,
    parse_email,
    parse_gender,
    parse_order_currency,
    parse_shop_money,
    unfloat_id,
)
from ingest.pipeline.table import (
    DEFAULT_OPTIONS,
    BrokenRecord,
    RawRecord,
    ReadOptions,
    Table,
    open_table,
)

# Column name -> kind; the order is the frame's column order (the loader's contract).
COLUMN_KINDS: dict[str, str] = {
    "line_no": "int",
    "customer_key": "text",
    "customer_email": "text",
    "shop_customer_id": "text",
    "full_name": "text",
    "first_name": "text",
    "last_name": "text",
    "order_key": "text",
    "order_id": "text",
    "ordered_at": "datetime",
    "sku": "text",
    "product_name": "text",
    "category": "text",
    "quantity": "int",
    "unit_price": "decimal",
    "line_total": "decimal",
    "order_total": "decimal",
    "refunded_amount": "decimal",
    "currency": "text",
    "financial_status": "text",
    "is_return": "bool",
    "is_cancelled": "bool",
    "accepts_marketing": "nullable_bool",
    "country": "text",
    "city": "text",
    "gender": "text",
    "birth_year": "nullable_int",
    "is_outlier": "bool",
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_KINDS)
_LINE_NO, _CUSTOMER_KEY, _ORDER_ID, _ORDER_KEY, _LINE_TOTAL, _IS_CANCELLED = (
    COLUMNS.index(c)
    for c in ("line_no", "customer_key", "order_id", "order_key", "line_total", "is_cancelled")
)

# Shopify repeats these only on an order's first line item.
ORDER_LEVEL_FIELDS: tuple[str, ...] = (
    "customer_email",
    "customer_id",
    "customer_name",
    "first_name",
    "last_name",
    "ordered_at",
    "accepts_marketing",
    "currency",
    "order_total",
    "country",
    "city",
    "cancelled_at",
    "refunded_amount",
    "financial_status",
)
# Counter key for "rows that needed at least one fix" (not a note shown as such).
ROWS_CLEANED = "_rows_cleaned"
# Notes for rows whose cells all equal an earlier row's. The owner chooses
# (`ReadOptions.keep_identical_rows`, default drop). Without an order id they may be
# separate purchases: shops like CDNOW log each purchase as a row, and a customer can
# buy the same thing twice in a day. With one they are usually the same line exported
# twice, but a hand-kept sheet may list one item on two lines of an order (a Shopify
# line with its own engraving text exports like its twin): kept, their quantities add up.
DROPPED_IDENTICAL = "dropped exact duplicate row"
KEPT_IDENTICAL = "kept identical row as a separate purchase"
# A row with an order total but no amount of its own (see `net_money`).
UNPRICED_LINE = "no line amount: the order total counts once for its order"
# Rows a preset says are no order line (`Preset.row_kind`), counted by what they are:
# "left out: General Withdrawal". And the lines an export writes below its table.
LEFT_OUT = "left out: "
FOOTER_LINE = "the export's own footer line"
# Rows read as returns of their own: a UCI credit note, a refund the shop paid.
CANCELLATION_RETURN = "cancellation invoice netted as a return"
REFUND_RETURN = "refund netted as a return"
# Orders that never became a sale: a voided, failed or declined payment (BigCommerce
# "Declined", PrestaShop "Payment error"), or a cancellation.
_CANCELLED_STATUSES = frozenset({
    "voided", "cancelled", "canceled", "failed", "declined", "payment error",
    # The same in the languages the headers are read in (mapping.py): a German shop's
    # "Storniert" was counted as a sale.
    "storniert", "abgebrochen", "fehlgeschlagen", "abgelehnt",
    "annulé", "annulée", "échoué", "échouée", "refusé", "refusée",
    "cancelado", "cancelada", "anulado", "anulada", "fallido", "rechazado",
    "annullato", "annullata",
    "已取消", "取消", "支付失败", "已拒绝",
})
# A fully refunded order: it stays in the history and counts 0, as a cancelled one, also
# where the file gives the refunded amount. That amount is what was paid back, shipping
# and tax included, while the order's value is its goods (the line amounts): netted, a
# refund of goods and shipping left -4.90, and one of goods less a discount larger than
# shipping and tax left money where nothing was sold. As a cancellation it also reads
# downstream as BigCommerce's and PrestaShop's refunded orders (no amount in the file)
# always did: no purchase for recency, frequency or the value models, and one of the
# "returns or cancelled orders" on the profile. Shopify's, Stripe's, WooCommerce's and
# Wix's spellings, and the same in the languages the headers are read in (mapping.py).
_REFUNDED_STATUSES = frozenset({
    "refunded", "fully refunded", "fully_refunded",
    "erstattet", "rückerstattet", "zurückerstattet", "vollständig erstattet",
    "remboursé", "remboursée", "remboursement total",
    "reembolsado", "reembolsada", "reembolso total",
    "已退款", "全额退款", "全部退款",
})
# A partly refunded order; its refund is netted where the file gives the amount, else the
# order counts in full and the report says so (PARTLY_REFUNDED_UNKNOWN).
_PARTLY_REFUNDED_STATUSES = frozenset({
    "partially refunded", "partially_refunded", "partly refunded", "partial refund",
    "teilweise erstattet", "teilweise rückerstattet", "teilerstattet",
    "partiellement remboursé", "partiellement remboursée", "remboursement partiel",
    "parcialmente reembolsado", "parcialmente reembolsada", "reembolso parcial",
    "部分退款", "已部分退款",
})
# Counted once per order, by `finish_chunk`.
PARTLY_REFUNDED_UNKNOWN = "orders partly refunded, and the file does not say how much: counted in full"


def cancelled_statuses(preset: Preset) -> frozenset[str]:
    """The payment statuses that make an order count 0."""
    if preset.refunds_in_lines:
        # Its lines are net of refunds already, a refunded order's at 0: read as the
        # preset says (a purchase whose money came back), not as a cancellation.
        return _CANCELLED_STATUSES
    return _CANCELLED_STATUSES | _REFUNDED_STATUSES


def refunds_unknown(columns: Mapping[str, int], preset: Preset) -> bool:
    """Whether a file with these columns leaves a partial refund's amount unknown."""
    return "refunded_amount" not in columns and not preset.refunds_in_lines


class LeftOut(Exception):  # noqa: N818 (not an error: a row of another kind)
    """A row that is no order line (a withdrawal, a footer): counted under `note`, never refused."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


# A footer may be split into cells ("7","record(s) downloaded","from ..."): its first
# few are enough to tell it.
FOOTER_CELLS = 3


def footer_line(preset: Preset, text: str) -> bool:
    """Whether a line (a broken record's raw text, or `footer_text` of a record's cells)
    is the export's own footer."""
    return preset.footer is not None and preset.footer.match(text) is not None


def footer_text(fields: Sequence[str]) -> str:
    """The text a record's footer check reads: its first cells, as the fast path joins them."""
    return "\x1f".join(fields[:FOOTER_CELLS])


_CENT = Decimal("0.0001")
_UNIT_PRICE = gettext_noop("unit price")
_ZERO = Decimal(0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rejection:
    """A row we could not use: its physical line, why, and what it said (by column, or raw text)."""

    line_no: int
    reason: str  # the English sentence (`template` % `params`)
    raw: Mapping[str, str] | str
    # The reason as data (see ingest.pipeline.errors); "" for a reason given as text only.
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, line_no: int, error: PipelineError, raw: Mapping[str, str] | str) -> Rejection:
        return cls(line_no=line_no, reason=error.reason, raw=raw, template=error.template,
                   params=error.params)


@dataclass(frozen=True, kw_only=True, slots=True)
class CleanChunk:
    """One batch of clean rows (`frame`, columns as in `COLUMNS`) plus what was rejected or fixed."""

    index: int
    frame: pd.DataFrame
    rejections: tuple[Rejection, ...]
    notes: Counter[str]
    first_line: int
    last_line: int
    # Money (line totals of lines not cancelled) of the identical rows the chunk dropped
    # or kept as separate purchases, in a file without an order id; 0 with one.
    identical_money: Decimal = Decimal(0)


@dataclass(kw_only=True, slots=True)
class _State:
    """What must survive chunk boundaries: duplicates, order owners, the Shopify fill."""

    seen_rows: set[int]
    order_owner: dict[str, tuple[str, int]]
    last_order_id: str | None = None
    last_order_cells: dict[str, str] | None = None
    # None when they are dropped before cleaning (a file with an order id, "drop": the
    # mapping page named their money; cleaning them again would cost every import);
    # else the owner's choice for them. `repeats` counts the keys seen more than once.
    keep_identical: bool | None = None
    repeats: dict[int, int] = field(default_factory=dict)
    # The partly refunded orders noted so far (PARTLY_REFUNDED_UNKNOWN); None when the
    # file says how much was refunded.
    partly_refunded: set[str] | None = None
    # A kept repeat's own order key (`occurrence_key`), for a file without an order id
    # only: with one, the repeat is another line of its order and adds up with it.
    rekey_repeats: bool = True

    @classmethod
    def of_file(cls, columns: Mapping[str, int], preset: Preset, options: ReadOptions) -> _State:
        return cls(seen_rows=set(), order_owner={},
                   keep_identical=identical_rows_choice(columns, options),
                   partly_refunded=set() if refunds_unknown(columns, preset) else None,
                   rekey_repeats="order_id" not in columns)


def identical_rows_choice(columns: Mapping[str, int], options: ReadOptions) -> bool | None:
    """`_State.keep_identical` for a file read with these columns and options."""
    if "order_id" in columns and not options.keep_identical_rows:
        return None
    return options.keep_identical_rows


def occurrence_key(order_key: str, occurrence: int) -> str:
    """The order key of the n-th identical row kept as a purchase of its own.

    The occurrence comes from the file's row order, so importing the file again
    gives the same keys (and adds nothing); the first occurrence keeps the plain
    key, so "keep" and "drop" agree on every order but the repeats.
    """
    return f"{order_key}#{occurrence}"


def row_revenue(row: tuple[Any, ...]) -> Decimal:
    """The revenue a clean row carries: its signed line total unless the order was cancelled."""
    # An unpriced line carries none: its order's total is the order's, kept by the other rows.
    return _ZERO if row[_IS_CANCELLED] or row[_LINE_TOTAL] is None else row[_LINE_TOTAL]


def read_rows(
    stream: BinaryIO,
    mapping: ColumnMapping,
    options: ReadOptions = DEFAULT_OPTIONS,
    *,
    chunk_rows: int = 50_000,
    fast: bool = True,
    stats: Counter[str] | None = None,
) -> Iterator[CleanChunk]:
    """Yield `CleanChunk`s for an order-lines file; raises `FileRejected` only for whole-file problems.

    `fast=False` forces the row-by-row reference path; `stats`, if given, counts which
    path read and cleaned how many chunks and rows (see `fast.read_rows_fast`).
    """
    if fast:
        from ingest.pipeline.fast import read_rows_fast

        yield from read_rows_fast(stream, mapping, options, chunk_rows=chunk_rows, stats=stats)
        return
    table = open_table(stream, options)
    columns = _resolve_columns(table, mapping)
    cleaner = _make_cleaner(table, columns, mapping, options)
    state = _State.of_file(columns, mapping.behaviour, options)
    headers = table.headers.names
    rows: list[tuple[Any, ...]] = []
    rejections: list[Rejection] = []
    notes: Counter[str] = Counter()
    money = _ZERO
    index = 0
    records_in_chunk = 0
    first_line = table.header_line_no + 1
    last_line = table.header_line_no
    any_record = False

    for record in table.records():
        any_record = True
        last_line = record.line_no
        records_in_chunk += 1
        if isinstance(record, BrokenRecord):
            if footer_line(cleaner.preset, record.raw):
                notes[FOOTER_LINE] += 1
            else:
                rejections.append(Rejection.of(record.line_no, record.error, record.raw))
        else:
            money += _process(record, cleaner, state, headers, rows, rejections, notes)
        if records_in_chunk >= chunk_rows:
            yield _chunk(index, rows, rejections, notes, first_line, last_line, money, state)
            index += 1
            rows, rejections, notes, money = [], [], Counter(), _ZERO
            records_in_chunk = 0
            first_line = last_line + 1
    if not any_record:
        raise FileRejected(HEADER_ONLY)
    if records_in_chunk:
        yield _chunk(index, rows, rejections, notes, first_line, last_line, money, state)


@dataclass(frozen=True, kw_only=True, slots=True)
class IdenticalRows:
    """Rows equal to an earlier row, counted before the import (the mapping page)."""

    rows: int
    # Their revenue under the mapping, None when the mapping does not say where money is.
    money: Decimal | None
    rows_read: int
    complete: bool  # False: only the first `rows_read` rows were read


def count_identical_rows(
    stream: BinaryIO, mapping: ColumnMapping, options: ReadOptions = DEFAULT_OPTIONS,
    *, max_rows: int,
) -> IdenticalRows:
    """The rows `read_rows` would treat as identical, and the money they carry.

    A quick pass: records are only hashed, as the reader keys them; just the repeats
    are cleaned, by the reader's own row cleaner (no Shopify fill: the money matters
    only for files without an order id, which have none).
    """
    table = open_table(stream, options)
    try:
        cleaner: _RowCleaner | None = _make_cleaner(
            table, _resolve_columns(table, mapping), mapping, options)
    except FileRejected:
        cleaner = None
    seen: set[int] = set()
    repeats = read = 0
    money = _ZERO
    for record in table.records():
        if read >= max_rows:
            return IdenticalRows(rows=repeats, money=money if cleaner else None,
                                 rows_read=read, complete=False)
        read += 1
        if isinstance(record, BrokenRecord):
            continue
        key = _row_key("\x1f".join(record.fields))
        if key not in seen:
            seen.add(key)
            continue
        repeats += 1
        if cleaner is not None:
            cells = {name: record.fields[i] for name, i in cleaner.columns.items()}
            try:
                cells, refund = cleaner.kind_cells(record.fields, cells)
                money += row_revenue(cleaner.clean_cells(cells, record.line_no, [], refund=refund))
            except (RowError, LeftOut):
                pass  # the reader drops, rejects or leaves it out without money
    return IdenticalRows(rows=repeats, money=money if cleaner else None, rows_read=read,
                         complete=True)


# Dates that need no day/month choice (ISO, dotted) seen before detect_date_order stops
# looking: such a file is not read to its end for a question it never raises.
UNASKED_ENOUGH = 1_000


@dataclass(frozen=True, kw_only=True, slots=True)
class DateOrder:
    """The file's order of day and month, and the date that showed it."""

    dayfirst: bool
    line_no: int
    text: str


def detect_date_order(
    stream: BinaryIO, mapping: ColumnMapping, options: ReadOptions = DEFAULT_OPTIONS
) -> DateOrder | None:
    """Whether the file's order dates are day-first or month-first, from the first date
    that can only be read one way (`13/03/2024`); None if no date tells.

    Read value by value, a `05/03/2024` above the first `13/03/2024` would be the 3rd of
    May. Reads until a date decides; a file whose dates never raise the question (ISO)
    is left after its first UNASKED_ENOUGH dates rather than read to its end.
    """
    table = open_table(stream, options)
    position = _resolve_columns(table, mapping).get("ordered_at")
    if position is None:
        return None
    unasked = 0
    for record in table.records():
        if isinstance(record, RawRecord):
            text = record.fields[position]
            shown = date_order_shown(text)
            if shown in (DAY_FIRST, MONTH_FIRST):
                return DateOrder(dayfirst=shown == DAY_FIRST, line_no=record.line_no,
                                 text=text.strip())
            if shown == NOT_ASKED:
                unasked += 1
                if unasked >= UNASKED_ENOUGH:
                    return None
    return None


# The money a row can carry, whose reading may hang on the file's decimal mark.
MONEY_FIELDS = ("unit_price", "line_total", "order_total", "refunded_amount")


@dataclass(frozen=True, kw_only=True, slots=True)
class AmountReading:
    """An amount of the file that reads differently with a point or a comma as the
    decimal mark (`1.200`, `1,200`), and what the import makes of it."""

    line_no: int
    text: str
    value: Decimal


def amount_reading(
    stream: BinaryIO, mapping: ColumnMapping, options: ReadOptions = DEFAULT_OPTIONS
) -> AmountReading | None:
    """The first amount in the mapped money columns that the decimal mark decides, read
    as the import will read it; None if none does in the first UNASKED_ENOUGH rows.

    Shown on the mapping page: a wrong guess is a thousandfold error, and the owner can
    see it and say which mark the file uses.
    """
    table = open_table(stream, options)
    money = list(_mapped_positions(table, mapping, MONEY_FIELDS).values())
    if not money:
        return None
    comma = table.dialect.decimal_comma
    for read, record in enumerate(table.records()):
        if read >= UNASKED_ENOUGH:
            return None
        if not isinstance(record, RawRecord):
            continue
        for position in money:
            text = record.fields[position] if position < len(record.fields) else ""
            try:
                value = _parse_money(text, comma, "").value
                other = _parse_money(text, not comma, "").value
            except RowError:
                continue  # refused with its reason by the import either way
            if value != other:
                return AmountReading(line_no=record.line_no, text=text.strip(), value=value)
    return None


def other_currencies(
    stream: BinaryIO, mapping: ColumnMapping, options: ReadOptions = DEFAULT_OPTIONS
) -> tuple[str, ...]:
    """The currencies other than the shop's (`options.currency`) that the first
    UNASKED_ENOUGH rows name, in their currency column or their amounts ("£20"), most
    rows first: the mapping page says their rows will be refused before the owner imports."""
    table = open_table(stream, options)
    columns = _mapped_positions(table, mapping, ("currency", *MONEY_FIELDS))
    if not columns or not options.currency:
        return ()
    read_as_order_line = _kind_filter(table, mapping, options)
    seen: Counter[str] = Counter()
    for read, record in enumerate(table.records()):
        if read >= UNASKED_ENOUGH:
            break
        if not isinstance(record, RawRecord) or not read_as_order_line(record):
            continue
        codes = set()
        for name, position in columns.items():
            text = record.fields[position] if position < len(record.fields) else ""
            codes.add(parse_currency(text).value if name == "currency" else amount_currency(text))
        seen.update(code for code in codes if code and code != options.currency)
    return tuple(code for code, _ in seen.most_common())


def _kind_filter(
    table: Table, mapping: ColumnMapping, options: ReadOptions
) -> Callable[[RawRecord], bool]:
    """Whether a record, read in file order, is one the import reads rather than leaves
    out (a PayPal withdrawal, an eBay order summary). Every record, for a preset that
    leaves none out or a mapping the import would refuse."""
    preset = mapping.behaviour
    if preset.row_kind is None and preset.footer is None:
        return lambda record: True
    try:
        cleaner = _make_cleaner(table, _resolve_columns(table, mapping), mapping, options)
    except FileRejected:
        return lambda record: True
    state = _State(seen_rows=set(), order_owner={})

    def read(record: RawRecord) -> bool:
        try:
            cleaner.row_cells(record.fields, state, [])
        except LeftOut:
            return False
        return True

    return read


def _process(
    record: RawRecord,
    cleaner: _RowCleaner,
    state: _State,
    headers: Sequence[str],
    rows: list[tuple[Any, ...]],
    rejections: list[Rejection],
    notes: Counter[str],
) -> Decimal:
    """Clean one record into `rows` (or `rejections`); the identical-row money it carries."""
    fields = record.fields
    joined = "\x1f".join(fields)
    key = _row_key(joined)
    occurrence = 1
    if key in state.seen_rows:
        if state.keep_identical is None:
            notes[DROPPED_IDENTICAL] += 1
            return _ZERO
        occurrence = state.repeats[key] = state.repeats.get(key, 1) + 1
    else:
        state.seen_rows.add(key)
    # Without an order id even a dropped repeat is cleaned, for the money it carries.
    dropped = occurrence > 1 and not state.keep_identical
    if "\ufffd" in joined and not dropped:
        notes["replaced undecodable characters"] += 1
    row_notes: list[str] = []
    try:
        row = cleaner.clean(fields, record.line_no, state, row_notes)
    except LeftOut as kind:
        notes[DROPPED_IDENTICAL if dropped else kind.note] += 1
        return _ZERO
    except RowError as exc:
        if dropped:  # its first occurrence was rejected already
            notes[DROPPED_IDENTICAL] += 1
        else:
            rejections.append(
                Rejection.of(record.line_no, exc, dict(zip(headers, fields)))
            )
        return _ZERO
    if dropped:
        notes[DROPPED_IDENTICAL] += 1
        return row_revenue(row)
    money = _ZERO
    if occurrence > 1:
        notes[KEPT_IDENTICAL] += 1
        money = row_revenue(row)
        if state.rekey_repeats:
            row = (*row[:_ORDER_KEY], occurrence_key(row[_ORDER_KEY], occurrence),
                   *row[_ORDER_KEY + 1:])
    notes.update(row_notes)
    if row_notes:
        notes[ROWS_CLEANED] += 1
    rows.append(row)
    return money


def _make_cleaner(
    table: Table, columns: dict[str, int], mapping: ColumnMapping, options: ReadOptions
) -> _RowCleaner:
    preset = mapping.behaviour
    # None: nothing said which comes first; ambiguous dates are read month-first, noted.
    dayfirst = options.dayfirst if options.dayfirst is not None else preset.dayfirst
    if preset.kind_reads:
        # The other columns `row_kind` reads, as cells named "@" + their header key.
        keys: dict[str, int] = {}
        for position, name in enumerate(table.headers.names):
            keys.setdefault(normalise_header(name), position)
        columns = {**columns, **{name: keys[name[1:]] for name in preset.kind_reads
                                 if name.startswith("@") and name[1:] in keys}}
    return _RowCleaner(
        columns=columns,
        preset=preset,
        decimal_comma=table.dialect.decimal_comma,
        dayfirst=dayfirst,
        timezone=options.timezone,
        currency=options.currency,
        header_cells={name: table.headers.names[i].strip().casefold()
                      for name, i in columns.items()},
    )


# The exact-duplicate key of a record, from its fields joined by \x1f (an alias rather than
# a function: the fast path calls it a million times per million rows).
_row_key: Callable[[str], int] = hash


def _header_positions(table: Table) -> dict[str, int]:
    return {name.casefold(): i for i, name in enumerate(table.headers.names)}


def _mapped_positions(table: Table, mapping: ColumnMapping,
                      fields: Sequence[str]) -> dict[str, int]:
    """Where `fields` are in the file, for those the mapping names and the file has: a
    lenient `_resolve_columns` for the mapping page, which reads half-chosen mappings."""
    positions = _header_positions(table)
    return {name: positions[column.casefold()] for name, column in mapping.fields.items()
            if name in fields and column and column.casefold() in positions}


def _resolve_columns(table: Table, mapping: ColumnMapping) -> dict[str, int]:
    errors = mapping_problems(mapping)
    positions = _header_positions(table)
    columns: dict[str, int] = {}
    for field_name, column in mapping.fields.items():
        if not column:
            continue
        position = positions.get(column.casefold())
        if position is None:
            errors.append(Reason(
                template=gettext_noop("The column %(column)s chosen for %(key)s is not in this file."),
                params={"column": repr(column), "key": field_name}))
        else:
            columns[field_name] = position
    if errors:
        raise FileRejected.of(joined(errors))
    return columns


def net_money(
    quantity: int,
    unit_price: Decimal | None,
    line_total: Decimal | None,
    order_total: Decimal | None,
    returned: str | None,
) -> tuple[int, Decimal | None, Decimal | None, bool, tuple[str, ...]]:
    """Quantity, unit price, signed line total, is-return and notes of one order line.

    A row whose only money is its order's total is an unpriced line: unit price and
    line total are None, and the order total is its order's gross. `returned` is the
    note of a row that is a return of its own whatever its quantity says (a UCI credit
    note, a refund row: `CANCELLATION_RETURN`, `REFUND_RETURN`), else None.

    Shared by the row cleaner and the vectorised path so both net returns,
    cancellation invoices and missing amounts the same way. Raises RowError when
    the row has no amount at all (a negative unit price is checked by the caller,
    which knows the raw text for the message).
    """
    notes: list[str] = []
    is_return = quantity < 0
    if returned:
        if quantity > 0:
            quantity = -quantity
        is_return = True
        notes.append(returned)
    if line_total is None:
        if unit_price is not None:
            line_total = unit_price * quantity
        elif order_total is not None:
            # The order's total repeats on each of its rows: it counts once, for the
            # order (`chunk_tables.order_totals`), and the line's own amount is unknown.
            notes.append(UNPRICED_LINE)
            return quantity, None, None, is_return, tuple(notes)
        else:
            raise RowError(gettext_noop("no amount: unit price, line total and order total are all empty"))
    elif is_return and line_total > 0:
        line_total = -line_total
        notes.append("made return amount negative")
    if unit_price is None:
        unit_price = (abs(line_total) / abs(quantity)).quantize(_CENT).normalize()
    return quantity, unit_price, line_total, is_return, tuple(notes)


class _RowCleaner:
    """Turns one record's cells into one output tuple (in `COLUMNS` order) or raises RowError."""

    def __init__(
        self,
        *,
        columns: dict[str, int],
        preset: Preset,
        decimal_comma: bool,
        dayfirst: bool | None,
        timezone: str,
        currency: str | None = None,
        header_cells: Mapping[str, str] | None = None,
    ) -> None:
        self.columns = columns
        self.preset = preset
        self.decimal_comma = decimal_comma
        self.dayfirst = dayfirst
        self.timezone = timezone
        self.currency = currency
        # With the columns `row_kind` reads: an eBay item line is paid when its order is.
        self.order_level = [f for f in ORDER_LEVEL_FIELDS if f in columns] + [
            name for name in columns if name.startswith("@")]
        self.cancelled_statuses = cancelled_statuses(preset)
        # The mapped columns' names, folded: a row that repeats them is a header.
        self.header_cells = dict(header_cells or {})

    def _cells(self, fields: list[str], state: _State, notes: list[str]) -> dict[str, str]:
        cells = {name: fields[i] for name, i in self.columns.items()}
        if not self.preset.forward_fill_orders or "order_id" not in cells:
            return cells
        order_id = cells["order_id"].strip()
        if order_id and order_id == state.last_order_id and state.last_order_cells is not None:
            filled = False
            for name in self.order_level:
                if not cells[name].strip() and state.last_order_cells.get(name, "").strip():
                    cells[name] = state.last_order_cells[name]
                    filled = True
            if filled:
                notes.append(f"forward-filled order fields ({self.preset.name.capitalize()})")
        else:
            state.last_order_id = order_id
            state.last_order_cells = {name: cells[name] for name in self.order_level}
        return cells

    def clean(
        self, fields: list[str], line_no: int, state: _State, notes: list[str]
    ) -> tuple[Any, ...]:
        cells, refund = self.row_cells(fields, state, notes)
        row = self.clean_cells(cells, line_no, notes, refund=refund)
        self.claim_order(row, state)
        return row

    def row_cells(
        self, fields: list[str], state: _State, notes: list[str]
    ) -> tuple[dict[str, str], bool]:
        """The (forward-filled) cells to clean and whether the row is a refund; raises
        `LeftOut` for a row that is no order line."""
        return self.kind_cells(fields, self._cells(fields, state, notes))

    def kind_cells(
        self, fields: Sequence[str], cells: dict[str, str]
    ) -> tuple[dict[str, str], bool]:
        """`row_cells` past the forward fill: the preset's footer and row kinds."""
        preset = self.preset
        if preset.footer is not None and footer_line(preset, footer_text(fields)):
            raise LeftOut(FOOTER_LINE)
        if preset.row_kind is None or self.repeats_header(cells):
            return cells, False  # a second export's header row is refused as such
        kind = preset.row_kind({name: cells.get(name, "") for name in preset.kind_reads})
        if kind.left_out:
            raise LeftOut(LEFT_OUT + kind.left_out)
        return ({**cells, **kind.cells} if kind.cells else cells), kind.refund

    def repeats_header(self, cells: Mapping[str, str]) -> bool:
        """Whether the row's mapped cells are the column names (a second export's header)."""
        return len(self.header_cells) >= 2 and all(
            cells.get(name, "").strip().casefold() == header
            for name, header in self.header_cells.items())

    @staticmethod
    def claim_order(row: tuple[Any, ...], state: _State) -> None:
        """The first row naming an order id owns it; a later row naming another customer is refused."""
        order_id, customer_key, line_no = row[_ORDER_ID], row[_CUSTOMER_KEY], row[_LINE_NO]
        if not order_id:
            return
        owner = state.order_owner.get(order_id)
        if owner is None:
            state.order_owner[order_id] = (customer_key, line_no)
        elif owner[0] != customer_key:
            raise RowError(
                gettext_noop("order %(order)s already belongs to customer %(owner)s (line %(line)s); "
                             "this row names %(customer)s"),
                order=repr(order_id), owner=repr(owner[0]), line=owner[1], customer=repr(customer_key),
            )

    def clean_cells(
        self, cells: Mapping[str, str], line_no: int, notes: list[str], *, refund: bool = False
    ) -> tuple[Any, ...]:
        """One row's values from its (forward-filled) cells; the order-owner check is `claim_order`.

        `refund`: the row is money the shop paid back (`RowKind.refund`), a return of its own.

        Nothing after the owner check could raise, so checking it last keeps the first
        error of a row the same as checking it in the middle.
        """
        get = cells.get
        if self.repeats_header(cells):
            # Two exports pasted into one file: the second one's header row.
            raise RowError(gettext_noop("the line repeats the column names, as where two "
                                        "exports were pasted into one file"))

        email = self._take(parse_email(get("customer_email", "")), notes)
        shop_customer_id = unfloat_id(self._text(cells, "customer_id", "customer id", notes))
        if email:
            customer_key = email
        elif shop_customer_id:
            customer_key = f"id:{shop_customer_id}"
        else:
            raise RowError(gettext_noop("no customer: both the email and the customer id are empty"))

        ordered_at = self._take(
            _parse_datetime(get("ordered_at", ""), self.dayfirst, self.timezone,
                            gettext_noop("order date")),
            notes,
        )
        if ordered_at is None:
            raise RowError(gettext_noop("order date is missing"))

        quantity = 1
        if "quantity" in cells:
            quantity = self._take(_parse_quantity(cells["quantity"], self.decimal_comma), notes)
        unit_price = self._money(get("unit_price", ""), _UNIT_PRICE, notes)
        line_total = self._money(get("line_total", ""), gettext_noop("line total"), notes)
        order_total = self._money(get("order_total", ""), gettext_noop("order total"), notes)
        refunded = self._money(get("refunded_amount", ""), gettext_noop("refunded amount"),
                               notes)
        if unit_price is not None and unit_price < 0:
            raise RowError(gettext_noop("%(field)s %(value)s is negative"), field=_UNIT_PRICE,
                           value=repr(get("unit_price", "").strip()))

        order_id = self._text(cells, "order_id", "order id", notes)
        cancel_prefix = self.preset.cancel_prefix
        cancelled_invoice = bool(
            cancel_prefix and order_id and order_id.upper().startswith(cancel_prefix)
        )
        returned = REFUND_RETURN if refund else CANCELLATION_RETURN if cancelled_invoice else None
        quantity, unit_price, line_total, is_return, money_notes = net_money(
            quantity, unit_price, line_total, order_total, returned
        )
        notes.extend(money_notes)

        status = self._text(cells, "financial_status", "status", notes)
        status = status.lower() if status else None
        is_cancelled = bool(get("cancelled_at", "").strip()) or status in self.cancelled_statuses

        full_name = self._text(cells, "customer_name", "name", notes)
        first_name = self._text(cells, "first_name", "name", notes)
        last_name = self._text(cells, "last_name", "name", notes)
        if full_name and not (first_name or last_name):
            parts = full_name.rsplit(" ", 1)
            first_name, last_name = (parts[0], parts[1]) if len(parts) == 2 else (full_name, None)
        elif not full_name and (first_name or last_name):
            full_name = " ".join(p for p in (first_name, last_name) if p)

        if order_id:
            order_key = order_id
        else:
            order_key = f"{customer_key}@{ordered_at.isoformat()}"

        return (
            line_no,
            customer_key,
            email,
            shop_customer_id,
            full_name,
            first_name,
            last_name,
            order_key,
            order_id,
            ordered_at,
            self._text(cells, "product_sku", "sku", notes),
            self._text(cells, "product_name", "product name", notes),
            self._text(cells, "category", "category", notes),
            quantity,
            unit_price,
            line_total,
            order_total,
            refunded,
            self._take(parse_order_currency(get("currency", ""), self.currency), notes)
            if get("currency") else None,
            status,
            is_return,
            is_cancelled,
            self._take(parse_bool(get("accepts_marketing", "")), notes),
            self._text(cells, "country", "country", notes),
            self._text(cells, "city", "city", notes),
            self._take(parse_gender(get("gender", "")), notes) if get("gender") else None,
            self._take(parse_birth_year(get("birth_year", "")), notes)
            if get("birth_year")
            else None,
            False,  # is_outlier: set per chunk
        )

    def _money(self, text: str, label: str, notes: list[str]) -> Decimal | None:
        if not text:
            return None
        return self._take(parse_shop_money(text, self.decimal_comma, label, self.currency), notes)

    def _text(
        self, cells: Mapping[str, str], name: str, label: str, notes: list[str]
    ) -> str | None:
        text = cells.get(name)
        if not text:
            return None
        return self._take(_clean_text(text, label), notes)

    @staticmethod
    def _take(parsed: Parsed[Any], notes: list[str]) -> Any:
        if parsed.notes:
            notes.extend(parsed.notes)
        return parsed.value


def _chunk(
    index: int,
    rows: list[tuple[Any, ...]],
    rejections: list[Rejection],
    notes: Counter[str],
    first_line: int,
    last_line: int,
    identical: Decimal,
    state: _State,
) -> CleanChunk:
    return finish_chunk(index, build_frame(rows), rejections, notes, first_line, last_line,
                        identical_money=identical, partly_refunded=state.partly_refunded)


def finish_chunk(
    index: int,
    frame: pd.DataFrame,
    rejections: Sequence[Rejection],
    notes: Counter[str],
    first_line: int,
    last_line: int,
    *,
    amounts: np.ndarray | None = None,
    identical_money: Decimal = Decimal(0),
    partly_refunded: set[str] | None = None,
) -> CleanChunk:
    """Flag outliers (within the chunk, as the loader expects), note the partly refunded
    orders not noted before (`partly_refunded`, the file's so far; None: the file says how
    much) and wrap up; `amounts` may pass `line_total` as floats when the caller already
    has them."""
    if len(frame) and partly_refunded is not None:
        # An order is one whatever its lines; a cancelled one counts 0, not in full.
        partly = frame["financial_status"].isin(_PARTLY_REFUNDED_STATUSES).to_numpy(dtype=bool)
        orders = set(frame["order_key"].to_numpy()[partly & ~frame["is_cancelled"].to_numpy()]
                     .tolist()) - partly_refunded
        if orders:
            partly_refunded |= orders
            notes[PARTLY_REFUNDED_UNKNOWN] += len(orders)
    if len(frame):
        if amounts is None:
            amounts = np.array([np.nan if v is None else float(v) for v in frame["line_total"]])
        quantity_outliers = extreme_mask(frame["quantity"].to_numpy())
        amount_outliers = extreme_mask(amounts)
        if quantity_outliers.any():
            notes["outlier quantity flagged"] += int(quantity_outliers.sum())
        if amount_outliers.any():
            notes["outlier amount flagged"] += int(amount_outliers.sum())
        frame["is_outlier"] = quantity_outliers | amount_outliers
    return CleanChunk(
        index=index,
        frame=frame,
        rejections=tuple(rejections),
        notes=notes,
        first_line=first_line,
        last_line=last_line,
        identical_money=identical_money,
    )


def build_frame(
    rows: Sequence[tuple[Any, ...]], kinds: Mapping[str, str] = COLUMN_KINDS
) -> pd.DataFrame:
    """Typed frame from row tuples; explicit dtypes so an empty chunk has the same schema."""
    names = tuple(kinds)
    columns = list(zip(*rows)) if rows else [() for _ in names]
    data: dict[str, Any] = {}
    for name, values in zip(names, columns):
        data[name] = _typed(kinds[name], list(values))
    return pd.DataFrame(data, columns=list(names))


def _typed(kind: str, values: list[Any]) -> Any:
    if kind == "int":
        return np.array(values, dtype=np.int64)
    if kind == "bool":
        return np.array(values, dtype=bool)
    if kind == "datetime":
        return (
            pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("us")
            if values
            else (pd.DatetimeIndex([], tz="UTC").as_unit("us"))
        )
    if kind == "nullable_bool":
        return pd.array(values, dtype="boolean")
    if kind == "nullable_int":
        return pd.array(values, dtype="Int64")
    # text and decimal: Python objects (str / Decimal / None), never pandas strings or floats.
    # pandas 3 would infer its own string dtype from an object array, hence the Series.
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, dtype=object)
