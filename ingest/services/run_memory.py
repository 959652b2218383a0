"""What one run of an import remembers across its chunks.

Only speed depends on it: a resumed run starts with an empty memory and loads
the same rows, just with more work for the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class HashMemory:
    """A growing map of 64-bit key hashes to 64-bit values, a chunk at a time.

    Vectorised: a chunk's keys are looked up together in a hash index instead of
    one Python dictionary lookup each. Two keys with the same hash count as one
    unless the memory also keeps the `texts` of its keys (`exact=True`); without,
    it serves only where a mix-up costs speed, never a wrong row.
    """

    def __init__(self, *, exact: bool = False) -> None:
        self._keys = pd.Index(np.empty(0, dtype=np.uint64))
        self._values = np.empty(0, dtype=np.uint64)
        self._texts = np.empty(0, dtype=object) if exact else None

    def get(self, keys: np.ndarray, texts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Which keys are known, and the value of each (0 where unknown)."""
        positions = self._keys.get_indexer(keys.astype(np.uint64, copy=False))
        known = positions >= 0
        if self._texts is not None:  # the same hash of another text is not known
            known[known] = self._texts[positions[known]] == np.asarray(texts, dtype=object)[known]
        values = np.zeros(len(positions), dtype=np.uint64)
        values[known] = self._values[positions[known]]
        return known, values

    def put(self, keys: np.ndarray, values: np.ndarray, texts: np.ndarray | None = None) -> None:
        """Remember the values of these keys (distinct within the call)."""
        keys, values = keys.astype(np.uint64, copy=False), values.astype(np.uint64, copy=False)
        positions = self._keys.get_indexer(keys)
        known = positions >= 0
        self._values[positions[known]] = values[known]
        self._keys = self._keys.append(pd.Index(keys[~known]))
        self._values = np.concatenate([self._values, values[~known]])
        if self._texts is not None:
            texts = np.asarray(texts, dtype=object)
            self._texts[positions[known]] = texts[known]
            self._texts = np.concatenate([self._texts, texts[~known]])

    def changed(self, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Which keys (distinct within the call) are new or hold another value than last
        time; remembers the new values."""
        known, before = self.get(keys)
        changed = ~known | (before != values.astype(np.uint64, copy=False))
        self.put(keys[changed], values[changed])
        return changed


def key_hashes(keys) -> np.ndarray:
    """64-bit hashes of text keys, the same for the same text wherever it comes from.

    Not categorised first: keys are mostly distinct, so that would only add a pass.
    """
    return pd.util.hash_array(np.asarray(keys, dtype=object), categorize=False)


@dataclass
class RunMemory:
    # Written by the reader thread:
    # each customer's details as last staged, see `_mark_changed_customers`;
    customers: HashMemory = field(default_factory=HashMemory)
    # the 64-bit hashes of the order keys staged so far (a collision only costs speed).
    orders: set[int] = field(default_factory=set)
    # Written by the loading thread: the database ids it has learned, by key.
    customer_ids: HashMemory = field(default_factory=lambda: HashMemory(exact=True))
    product_ids: HashMemory = field(default_factory=lambda: HashMemory(exact=True))
    # Also set by the loading thread, read by the reader: off after a chunk met orders
    # of an earlier import (an overlapping export), whose next chunks likely hold
    # more; they go to staging until a chunk meets none.
    copy_fresh: bool = True
