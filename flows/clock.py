"""The flows' clock: real time, or a fixed instant a test (or the browser test's server) sets.

Waits of hours and days cannot be slept through in a test; every service here
takes ``now`` from this module, so moving the clock moves the whole app.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

_fixed: datetime | None = None


def now() -> datetime:
    return _fixed if _fixed is not None else timezone.now()


def set_now(value: datetime | None) -> None:
    """Fix the clock at an aware instant (None: real time again)."""
    global _fixed
    if value is not None and value.tzinfo is None:
        raise ValueError("the flows clock takes aware datetimes only")
    _fixed = value
