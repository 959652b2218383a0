"""Writing rejected rows back out as a CSV the owner can open in a spreadsheet safely."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import Protocol, TextIO

from ingest.pipeline.parsing import FORMULA_STARTS

# Plain signed numbers are data, not formulas; prefixing them would corrupt returns like -2.
_PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


class RejectedRow(Protocol):
    line_no: int
    reason: str
    raw: object


def neutralise_cell(value: str) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (OWASP CSV injection)."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_rejects(rejections: Iterable[RejectedRow], out: TextIO, headers: Sequence[str]) -> int:
    """Write `line, reason, <original columns...>, raw line`; returns the number of rows written.

    Rows that could not be split into fields keep their raw text in the last column.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    # The header cells are the uploaded file's own: as hostile as any other cell.
    writer.writerow([neutralise_cell(c) for c in ["line", "reason", *headers, "raw line"]])
    count = 0
    for rejection in rejections:
        if isinstance(rejection.raw, dict):
            cells = [str(rejection.raw.get(h, "")) for h in headers]
            raw_line = ""
        else:
            cells = [""] * len(headers)
            raw_line = str(rejection.raw).rstrip("\r\n")
        row = [str(rejection.line_no), rejection.reason, *cells, raw_line]
        writer.writerow([neutralise_cell(c) for c in row])
        count += 1
    return count
