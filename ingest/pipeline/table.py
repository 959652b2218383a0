"""Reading a decoded CSV as header + records, with physical line numbers and structural checks.

Streams line by line: memory is bounded by the longest allowed line, whatever
the file size. Broken records (unterminated quote, oversize field, wrong number
of fields) become `BrokenRecord`s so the good rows around them still load.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from ingest.pipeline.dialect import DetectedDialect, detect_dialect
from ingest.pipeline.encoding import DetectedEncoding, open_text
from ingest.pipeline.errors import HEADER_ONLY, FileRejected, RowError, gettext_noop
from ingest.pipeline.headers import CleanHeaders, clean_headers, normalise_header
from ingest.pipeline.mapping import KNOWN_HEADER_KEYS

DIALECT_SAMPLE_CHARS = 64 * 1024
RAW_KEEP_CHARS = 2000

# csv's limit is process-wide; we only ever raise it, to our own per-field cap,
# so a legitimately long product description is not an error.
_FIELD_LIMIT = 1_000_000
if csv.field_size_limit() < _FIELD_LIMIT + 1:
    csv.field_size_limit(_FIELD_LIMIT + 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadOptions:
    """What the owner may override; None means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    decimal_comma: bool | None = None
    # None: the preset's habit (UCI is month-first), else month-first.
    dayfirst: bool | None = None
    # Shop time zone for timestamps written without an offset.
    timezone: str = "UTC"
    # The shop's currency: a row naming another is refused. None: not checked.
    currency: str | None = None
    max_columns: int = 500
    max_field_chars: int = _FIELD_LIMIT
    # In a file without an order id, a row equal to an earlier one is a purchase of
    # its own (True) or the same line exported twice (False, dropped).
    keep_identical_rows: bool = False


DEFAULT_OPTIONS = ReadOptions()


@dataclass(frozen=True, kw_only=True, slots=True)
class RawRecord:
    """A record split into fields; `line_no` is the physical line it starts on (header = 1)."""

    line_no: int
    fields: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class BrokenRecord:
    """A record that could not be split into the header's fields."""

    line_no: int
    error: RowError  # why, as data (its `reason` is the English sentence)
    raw: str

    @property
    def reason(self) -> str:
        return self.error.reason


class _Lines:
    """Physical lines of the text, counted, each at most `cap` characters.

    An over-long line is consumed without keeping it and replaced by an empty
    line, so memory stays bounded; its number is queued in `overlong`.
    """

    def __init__(self, sample: str, text: TextIO, cap: int) -> None:
        self._sample = io.StringIO(sample, newline="")
        self._text = text
        self._cap = cap
        self.line_no = 0
        self.overlong: list[int] = []
        self.current_raw: list[str] = []
        self._raw_len = 0

    def __iter__(self) -> _Lines:
        return self

    def _readline(self, limit: int) -> str:
        part = self._sample.readline(limit)
        if part.endswith(("\n", "\r")) or len(part) == limit:
            return part
        return part + self._text.readline(limit - len(part))

    def __next__(self) -> str:
        line = self._readline(self._cap)
        if not line:
            raise StopIteration
        self.line_no += 1
        if len(line) >= self._cap and not line.endswith(("\n", "\r")):
            head = line[:200]
            while line and not line.endswith(("\n", "\r")):
                line = self._readline(self._cap)
            self.overlong.append(self.line_no)
            self._keep(head + "…\n")
            return "\n"
        self._keep(line)
        return line

    def _keep(self, line: str) -> None:
        if self._raw_len < RAW_KEEP_CHARS:
            piece = line[: RAW_KEEP_CHARS - self._raw_len]
            self.current_raw.append(piece)
            self._raw_len += len(piece)

    def start_record(self) -> None:
        self.current_raw = []
        self._raw_len = 0


@dataclass(kw_only=True, slots=True)
class Table:
    """An open CSV: detected encoding and dialect, the cleaned header, and its records."""

    encoding: DetectedEncoding
    dialect: DetectedDialect
    headers: CleanHeaders
    # As written in the file (BOM removed); give these to `propose_mapping` so it can
    # report renamed duplicates.
    raw_headers: tuple[str, ...]
    header_line_no: int
    # Lines above the column names naming at most one column (a title, a date, notes).
    title_lines: int = 0
    _reader: Iterator[list[str]] = field(repr=False)
    _lines: _Lines = field(repr=False)
    _max_columns: int = 500

    def records(self) -> Iterator[RawRecord | BrokenRecord]:
        return iter_records(self._reader, self._lines, len(self.headers.names))


def iter_records(
    reader: Iterator[list[str]], lines: _Lines, width: int
) -> Iterator[RawRecord | BrokenRecord]:
    """The records `reader` splits from `lines`; stops reading as soon as it is not asked for more."""
    while True:
        lines.start_record()
        start = lines.line_no + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BrokenRecord(
                line_no=start,
                error=_csv_error(str(exc), start, lines.line_no),
                raw="".join(lines.current_raw),
            )
            continue
        if lines.overlong:
            overlong, lines.overlong = lines.overlong, []
            yield BrokenRecord(
                line_no=overlong[0],
                error=RowError(
                    gettext_noop("the line is longer than %(limit)s characters (a field that "
                                 "large is not order data); it was skipped"),
                    limit=f"{_FIELD_LIMIT:,}",
                ),
                raw="".join(lines.current_raw),
            )
            if not any(fields):
                continue
        if not fields or not any(f.strip() for f in fields):
            continue  # blank lines and rows of bare delimiters carry nothing
        if len(fields) > width:
            if any(f.strip() for f in fields[width:]):
                yield BrokenRecord(
                    line_no=start,
                    error=RowError(
                        gettext_noop("%(n)s fields where the header has %(width)s"),
                        n=f"{len(fields):,}", width=width,
                    ),
                    raw="".join(lines.current_raw),
                )
                continue
            fields = fields[:width]  # trailing empty cells from spreadsheet exports
        elif len(fields) < width:
            yield BrokenRecord(
                line_no=start,
                error=RowError(
                    gettext_noop("%(n)s fields where the header has %(width)s: the line may be "
                                 "cut short or have a stray line break"),
                    n=len(fields), width=width,
                ),
                raw="".join(lines.current_raw),
            )
            continue
        yield RawRecord(line_no=start, fields=fields)


def _csv_error(message: str, start: int, end: int) -> RowError:
    if "unexpected end of data" in message:
        return RowError(
            gettext_noop("a quoted field opened here is never closed, so lines "
                         "%(first)s-%(last)s (to the end of the file) could not be read"),
            first=start, last=end,
        )
    if "field larger than field limit" in message:
        return RowError(
            gettext_noop("a field is larger than %(limit)s characters; the row was skipped"),
            limit=f"{_FIELD_LIMIT:,}",
        )
    if "expected after" in message:
        return RowError(gettext_noop("text follows a closing quote, so the row cannot be "
                                     "split into fields"))
    # The csv module's own words, in English.
    return RowError(gettext_noop("the row could not be read as CSV (%(detail)s)"),
                    detail=message)


# Title lines skipped at most; a file that names no two columns by then is not a table.
MAX_TITLE_LINES = 20
NO_COLUMN_NAMES = gettext_noop(
    "None of the first %(lines)s lines names two or more columns. Every import needs the "
    "customer, the order date and the money in columns of their own, with the column names "
    "in the first row of the table.")
EMPTY_FILE = gettext_noop("The file is empty.")


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _not_column_names(row: list[str]) -> bool:
    """Blank, or a line naming at most one column ("Orders report,,,"): every import needs
    at least a customer, a date and money, so column names are never fewer than two. A
    lone name we know as a field's ("Email,,,") still is the header: its data rows must
    not be taken for a title and lost."""
    named = [cell for cell in row if cell.strip()]
    if len(named) >= 2:
        return False
    return not named or normalise_header(named[0]) not in KNOWN_HEADER_KEYS


def open_table(binary: BinaryIO, options: ReadOptions = DEFAULT_OPTIONS) -> Table:
    """Decode, detect the dialect and read the header; raises `FileRejected` if there is no table."""
    source = open_text(binary, encoding=options.encoding)
    text = source.text
    sample = text.read(DIALECT_SAMPLE_CHARS)
    if sample.endswith("\r"):
        sample += text.read(1)  # keep a \r\n pair on one side of the seam
    complete = len(sample) < DIALECT_SAMPLE_CHARS
    if not sample.strip():
        raise FileRejected(EMPTY_FILE)
    detected = detect_dialect(sample.lstrip("\ufeff"), complete=complete)
    dialect = DetectedDialect(
        delimiter=options.delimiter or detected.delimiter,
        quotechar=options.quotechar or detected.quotechar,
        decimal_comma=detected.decimal_comma
        if options.decimal_comma is None
        else options.decimal_comma,
    )
    lines = _Lines(sample, text, cap=options.max_field_chars)
    reader = csv.reader(
        lines, delimiter=dialect.delimiter, quotechar=dialect.quotechar, strict=True
    )
    header: list[str] = []
    skipped = 0
    while _not_column_names(header):
        if not _blank(header):
            skipped += 1  # a report's title or notes above its table
            if skipped > MAX_TITLE_LINES:
                raise FileRejected(NO_COLUMN_NAMES, lines=MAX_TITLE_LINES) from None
        try:
            header = next(reader)
        except StopIteration:
            if skipped:
                raise FileRejected(NO_COLUMN_NAMES, lines=skipped) from None
            raise FileRejected(EMPTY_FILE) from None
        except csv.Error as exc:
            raise FileRejected(
                gettext_noop("The header row could not be read as CSV (%(detail)s); check the file "
                             "is a plain CSV export."), detail=str(exc),
            ) from None
        if lines.overlong:
            raise FileRejected(gettext_noop(
                "The first line is over a megabyte long; this does not look like a CSV header."
            ))
    if len(header) > options.max_columns:
        raise FileRejected(
            gettext_noop("The header has %(n)s columns; at most %(most)s are supported. "
                         "Is this the right file?"),
            n=f"{len(header):,}", most=options.max_columns,
        )
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]  # a BOM the chosen codec did not swallow
    return Table(
        encoding=source.encoding,
        dialect=dialect,
        headers=clean_headers(header),
        raw_headers=tuple(header),
        header_line_no=lines.line_no,
        title_lines=skipped,
        _reader=reader,
        _lines=lines,
        _max_columns=options.max_columns,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class TablePreview:
    """What the mapping page shows before the owner confirms the import."""

    encoding: DetectedEncoding
    dialect: DetectedDialect
    headers: tuple[str, ...]
    raw_headers: tuple[str, ...]
    renamed_duplicates: tuple[str, ...]
    sample_rows: tuple[tuple[str, ...], ...]
    title_lines: int = 0  # lines above the column names that were skipped


def preview_table(
    binary: BinaryIO, options: ReadOptions = DEFAULT_OPTIONS, *, rows: int = 20
) -> TablePreview:
    """The first `rows` rows; raises FileRejected for a file with a header and nothing else,
    so such a file is refused at upload instead of failing in the worker."""
    table = open_table(binary, options)
    sample: list[tuple[str, ...]] = []
    any_record = False
    for record in table.records():
        any_record = True
        if isinstance(record, RawRecord):
            sample.append(tuple(record.fields))
            if len(sample) >= rows:
                break
    if not any_record:
        raise FileRejected(HEADER_ONLY)
    return TablePreview(
        encoding=table.encoding,
        dialect=table.dialect,
        headers=table.headers.names,
        raw_headers=table.raw_headers,
        renamed_duplicates=table.headers.renamed,
        sample_rows=tuple(sample),
        title_lines=table.title_lines,
    )
