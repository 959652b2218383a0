"""The import report's cleaning notes, in the reader's language.

The reader counts what it fixed under fixed English keys, stored with the import
(`ImportJob.cleaning_notes`); they become words here, when a page shows them, so a
report reads in the language of whoever opens it, not of the worker that wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import gettext, gettext_noop

from ingest.pipeline.rows import DROPPED_IDENTICAL, KEPT_IDENTICAL, ROWS_CLEANED

# Counted on the report's own lines (the identical-rows sentence and the duplicates
# figure), not as cleaning: listing them again under "What was cleaned" would sit
# beside "0 rows cleaned" and contradict it.
SHOWN_ELSEWHERE = frozenset({DROPPED_IDENTICAL, KEPT_IDENTICAL, ROWS_CLEANED})

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
             if note not in SHOWN_ELSEWHERE and count]
    return sorted(shown, key=lambda pair: (-pair[1], pair[0]))
