"""CSV dialect detection: delimiter, quote character and decimal comma."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

DELIMITERS: str = ",;\t|"
_MAX_SAMPLE_RECORDS = 200

_NUMERIC_CELL = re.compile(
    r"^[\s(+\-]*[€$£¥]?\s*[\d][\d.,'\s\u00a0\u202f]*\s*(?:[€$£¥]|[A-Z]{3})?\)?$"
)
_COMMA_DECIMAL = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{1,2}")
_DOT_DECIMAL = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)\.\d{1,2}")
# "1.200": twelve hundred grouped by a dot, or 1.2 written with three decimals.
_DOT_GROUPED = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3})+")


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectedDialect:
    """How the file separates fields and writes decimals."""

    delimiter: str
    quotechar: str
    decimal_comma: bool


def detect_dialect(sample: str, *, complete: bool = False) -> DetectedDialect:
    """Detect the dialect from the start of the file (`complete` if `sample` is all of it)."""
    lines = sample.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        # The sample usually ends mid-line; a cut record would look inconsistent.
        sample = "".join(lines[:-1])
    delimiter = _pick_delimiter(sample)
    quotechar = _pick_quotechar(sample, delimiter)
    records = _records(sample, delimiter, quotechar)
    return DetectedDialect(
        delimiter=delimiter,
        quotechar=quotechar,
        decimal_comma=detect_decimal_comma(records[1:], delimiter=delimiter),
    )


def _records(sample: str, delimiter: str, quotechar: str = '"') -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar=quotechar)
    records: list[list[str]] = []
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) >= _MAX_SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # a broken sample still tells us something about the records before it
    return records


def _consistency(records: list[list[str]]) -> tuple[float, int]:
    if not records:
        return 0.0, 0
    width = len(records[0])
    if width < 2:
        return 0.0, width
    same = sum(1 for r in records if len(r) == width)
    return same / len(records), width


def _pick_delimiter(sample: str) -> str:
    scored: list[tuple[float, int, str]] = []
    for delimiter in DELIMITERS:
        consistency, width = _consistency(_records(sample, delimiter))
        # Round so that one ragged line does not beat a delimiter with more columns.
        scored.append((round(consistency * 20) / 20, width, delimiter))
    scored.sort(reverse=True)
    best = scored[0]
    if best[0] == 0.0:
        return ","  # one column or empty: comma is the honest default
    tied = [d for c, w, d in scored if (c, w) == best[:2]]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
            if sniffed in tied:
                return sniffed
        except csv.Error:
            pass
    return best[2]


def _pick_quotechar(sample: str, delimiter: str) -> str:
    if '"' in sample:
        return '"'
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=delimiter)
    except csv.Error:
        return '"'
    return "'" if sniffed.quotechar == "'" else '"'


def detect_decimal_comma(records: list[list[str]], *, delimiter: str = ",") -> bool:
    """True when numeric cells use a comma as the decimal separator (e.g. `12,50`).

    Cells like `1.200` say nothing on their own. When they are all there is, a `;` file
    reads them as thousands: Excel writes `;` where the comma is the decimal mark.
    """
    votes: Counter[str] = Counter()
    for record in records:
        for cell in record:
            if len(cell) > 24 or not _NUMERIC_CELL.match(cell):
                continue
            digits = re.sub(r"[^\d,.\-]", "", cell)
            if _COMMA_DECIMAL.fullmatch(digits):
                votes["comma"] += 1
            elif _DOT_DECIMAL.fullmatch(digits):
                votes["dot"] += 1
            elif _DOT_GROUPED.fullmatch(digits):
                votes["grouped"] += 1
    if votes["comma"] == votes["dot"] == 0:
        return delimiter == ";" and votes["grouped"] > 0
    return votes["comma"] > votes["dot"]
