"""`{{ share|percent }}`: a share (0.0-1.0) as a whole percentage that never rounds to a
false end: 0.3 % of revenue is "<1%", not "0%", and a 99.7 % chance is ">99%", not
"100%". Exactly 0 and exactly 1 stay "0%" and "100%"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    share = float(value)
    if 0 < abs(share) < 0.005:
        return "<1%" if share > 0 else "-<1%"  # a returns-only group's share is below zero
    if 0.995 <= share < 1:
        return ">99%"
    # Half up, as people round (Python's round() would show 0.5 % as "0%").
    return f"{Decimal(repr(share * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"
