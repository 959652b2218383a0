"""The import report's cleaning notes, in the reader's language.

The reader counts what it fixed under fixed English keys, stored with the import
(`ImportJob.cleaning_notes`); they become words here, when a page shows them, so a
report reads in the language of whoever opens it, not of the worker that wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

from ingest.pipeline.mapping import MONEY_IN, MONEY_OUT, NO_MONEY
from ingest.pipeline.rows import (
    DROPPED_IDENTICAL,
    FOOTER_LINE,
    KEPT_IDENTICAL,
    LEFT_OUT,
    ROWS_CLEANED,
)

# Counted on the report's own lines (the identical-rows sentence and the duplicates
# figure, the rows left out and the footer), not as cleaning: listing them again under
# "What was cleaned" would sit beside "0 rows cleaned" and contradict it.
SHOWN_ELSEWHERE = frozenset({DROPPED_IDENTICAL, KEPT_IDENTICAL, ROWS_CLEANED, FOOTER_LINE})

# Every fixed note the reader writes, marked for the catalogue.
FIXED_NOTES = (
    gettext_noop("read (parentheses) as a negative amount"),
    gettext_noop("stripped currency symbol"),
    gettext_noop("removed thousands separators"),
    gettext_noop("decimal comma converted"),
    gettext_noop("two-digit year expanded"),
    gettext_noop("converted spreadsheet date number"),
    gettext_noop("day and month could be either way: read month-first"),
    gettext_noop("removed mailto: from email"),
    gettext_noop("took the address from a name and address"),
    gettext_noop("lowercased email"),
    gettext_noop("unrecognised yes/no value treated as unknown"),
    gettext_noop("unrecognised gender treated as unknown"),
    gettext_noop("implausible birth year treated as unknown"),
    gettext_noop("unrecognised currency code treated as unknown"),
    gettext_noop("replaced undecodable characters"),
    gettext_noop("cancellation invoice netted as a return"),
    gettext_noop("refund netted as a return"),
    gettext_noop("line total taken from order total"),  # stored by imports before unpriced lines
    gettext_noop("no line amount: the order total counts once for its order"),
    gettext_noop("made return amount negative"),
    gettext_noop("outlier quantity flagged"),
    gettext_noop("outlier amount flagged"),
    gettext_noop("skipped: erased"),
    # ingest.pipeline.rows.PARTLY_REFUNDED_UNKNOWN, ingest.services.imports.REFUNDS_ABOVE_GOODS
    gettext_noop("orders partly refunded, and the file does not say how much: counted in full"),
    gettext_noop("orders refunded more than their goods (shipping or tax refunded too): "
                 "refund counted down to 0 at most"),
)

# The field names the text cleaner puts into its notes.
FIELD_LABELS = (
    gettext_noop("customer id"),
    gettext_noop("order id"),
    gettext_noop("status"),
    gettext_noop("name"),
    gettext_noop("sku"),
    gettext_noop("product name"),
    gettext_noop("category"),
    gettext_noop("country"),
    gettext_noop("city"),
    gettext_noop("email"),
    gettext_noop("text"),
    gettext_noop("event type"),
    gettext_noop("event time"),
)

# Notes with a field or a number in them (see ingest.pipeline.parsing and rows).
_PATTERNS = (
    (re.compile(r"(?P<field>.+) starts like a spreadsheet formula"),
     gettext_noop("%(field)s starts like a spreadsheet formula")),
    (re.compile(r"removed control characters from (?P<field>.+)"),
     gettext_noop("removed control characters from %(field)s")),
    (re.compile(r"trimmed (?P<field>.+) whitespace"), gettext_noop("trimmed %(field)s whitespace")),
    (re.compile(r"shortened (?P<field>.+) to (?P<n>\d+) characters"),
     gettext_noop("shortened %(field)s to %(n)s characters")),
    (re.compile(r"forward-filled order fields \((?P<preset>.+)\)"),
     gettext_noop("forward-filled order fields (%(preset)s)")),
)


def note_text(note: str) -> str:
    """One stored note in the active language (a note we do not know stays as stored)."""
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(note)
        if match:
            parts = match.groupdict()
            if "field" in parts:
                parts["field"] = gettext(parts["field"])
            return gettext(template) % parts
    return gettext(note)


def cleaning_notes_shown(notes: Mapping[str, int]) -> list[tuple[str, int]]:
    """The notes for "What was cleaned", in words, most frequent first."""
    shown = [(note_text(note), count) for note, count in notes.items()
             if note not in SHOWN_ELSEWHERE and not note.startswith(LEFT_OUT) and count]
    return sorted(shown, key=lambda pair: (-pair[1], pair[0]))


# A row kind the reader qualified with its own words: "Express Checkout Payment (money out)".
_QUALIFIED_KIND = re.compile(
    rf"(?P<kind>.+) \((?P<why>{re.escape(MONEY_OUT)}|{re.escape(MONEY_IN)}|{re.escape(NO_MONEY)})\)")


@dataclass(frozen=True, kw_only=True, slots=True)
class RowsLeftOut:
    """Rows the file's preset read as no order line, by what they are (the report's words)."""

    rows: int
    kinds: list[tuple[str, int]]  # most frequent first


def rows_left_out(notes: Mapping[str, int]) -> int:
    return sum(count for note, count in notes.items() if note.startswith(LEFT_OUT))


def footer_lines(notes: Mapping[str, int]) -> int:
    """Lines below the table that were the export's own footer, skipped."""
    return notes.get(FOOTER_LINE, 0)


def rows_left_out_shown(notes: Mapping[str, int]) -> RowsLeftOut | None:
    """What was left out, in words: an export's own kinds as it names them ("General
    Withdrawal"), with our qualifiers and kinds (eBay's "not paid") translated."""
    kinds = []
    for note, count in notes.items():
        if not note.startswith(LEFT_OUT) or not count:
            continue
        kind = note.removeprefix(LEFT_OUT)
        qualified = _QUALIFIED_KIND.fullmatch(kind)
        if qualified:
            kind = gettext("%(kind)s (%(why)s)") % {"kind": qualified["kind"],
                                                    "why": gettext(qualified["why"])}
        else:
            kind = gettext(kind)
        kinds.append((kind, count))
    if not kinds:
        return None
    return RowsLeftOut(rows=sum(count for _, count in kinds),
                       kinds=sorted(kinds, key=lambda pair: (-pair[1], pair[0])))
