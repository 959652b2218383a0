"""Header normalisation, de-duplication and fingerprinting."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


def normalise_header(header: str) -> str:
    """Fold a header to a lookup key: case, accents, spaces and punctuation do not matter.

    "E-Mail", "e mail" and "EMAIL" all become "email"; CJK letters are kept
    (str.isalnum is true for them), so "订单号" stays "订单号".
    """
    folded = unicodedata.normalize("NFKD", header.replace("\ufeff", "")).casefold()
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


@dataclass(frozen=True, kw_only=True, slots=True)
class CleanHeaders:
    """Header names made unique; `renamed` says which were changed so the page can tell the user."""

    names: tuple[str, ...]
    renamed: tuple[str, ...]


def clean_headers(raw: Sequence[str]) -> CleanHeaders:
    """Strip headers, name blank ones, and disambiguate duplicates as `Name`, `Name (2)`..."""
    names: list[str] = []
    renamed: list[str] = []
    seen: set[str] = set()
    for position, header in enumerate(raw, start=1):
        base = " ".join(header.replace("\ufeff", "").split()) or f"Column {position}"
        name = base
        counter = 2
        while name.casefold() in seen:
            name = f"{base} ({counter})"
            counter += 1
        if name != base:
            renamed.append(f"{base!r} appears more than once; column {position} is now {name!r}")
        seen.add(name.casefold())
        names.append(name)
    return CleanHeaders(names=tuple(names), renamed=tuple(renamed))


def header_fingerprint(headers: Sequence[str]) -> str:
    """Stable hash of the (cleaned, case-folded) header row, to remember a mapping per export format.

    Order is kept on purpose: the same export tool always writes the same order,
    and two different tools with the same column set are rare enough to confirm.
    """
    cleaned = clean_headers(headers).names
    key = "\x1f".join(unicodedata.normalize("NFKC", h).casefold() for h in cleaned)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
