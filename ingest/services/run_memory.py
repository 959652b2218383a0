"""What one run of an import remembers across its chunks.

Only speed depends on it: a resumed run starts with an empty memory and loads
the same rows, just with more work for the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunMemory:
    # Written by the reader thread:
    # each customer key's details as last staged (a 64-bit hash), see `_mark_changed_customers`;
    customers: dict[str, int] = field(default_factory=dict)
    # the 64-bit hashes of the order keys staged so far (a collision only costs speed).
    orders: set[int] = field(default_factory=set)
    # Written by the loading thread: the database ids it has learned.
    customer_ids: dict[str, int] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    # Also set by the loading thread, read by the reader: off after a chunk met orders
    # of an earlier import (an overlapping export), whose next chunks likely hold
    # more; they go to staging until a chunk meets none.
    copy_fresh: bool = True
