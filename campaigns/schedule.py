"""A wall-clock time in the shop's zone -> the UTC instant it names (pure; no Django).

Daylight saving makes two kinds of local time special:

* one the clocks skip (spring forward, e.g. 01:30 in London on the last Sunday
  of March) names no instant at all: it is refused, and the owner picks another;
* one the clocks pass twice (fall back, 01:30 on the last Sunday of October)
  names two: the first (still on summer time, ``fold=0``) is chosen, and the
  page shows the UTC instant so the choice is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class NonExistentLocalTime(ValueError):
    """The clocks skip this local time in that zone (the change to summer time)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LocalTime:
    utc: datetime
    ambiguous: bool  # the clocks pass this local time twice; `utc` is the first


def local_to_utc(wall: datetime, zone: str) -> LocalTime:
    """`wall` (naive, read in `zone`) as an aware UTC datetime."""
    if wall.tzinfo is not None:
        raise ValueError("expected a naive local time")
    tz = ZoneInfo(zone)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    utc = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return LocalTime(utc=utc, ambiguous=False)
    # The offsets differ around a change: a time that exists survives the round trip.
    if utc.astimezone(tz).replace(tzinfo=None) != wall:
        raise NonExistentLocalTime(f"{wall:%Y-%m-%d %H:%M} does not exist in {zone}")
    return LocalTime(utc=utc, ambiguous=True)
