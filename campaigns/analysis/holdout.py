"""Random holdout: the customers we deliberately do not email.

The split is reproducible from the seed stored on the campaign, and independent of
the order ids arrive in (they are sorted first), so re-running a send after a crash
produces the same groups.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Below this audience size a single held-out customer is not forced: a holdout of
# one out of five says nothing and costs a fifth of the audience.
MIN_AUDIENCE_FOR_FORCED_HOLDOUT = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldoutSplit:
    treatment_ids: tuple[int, ...]  # ascending
    holdout_ids: tuple[int, ...]  # ascending


def holdout_size(audience_size: int, share: float) -> int:
    """round(n * share), half up, at least 1 when n >= 10, never the whole audience."""
    if audience_size < 0:
        raise ValueError("audience_size must not be negative")
    if not 0 <= share < 1:
        raise ValueError("share must be in [0, 1)")
    # Decimal of the share's shortest repr: 25 * 0.1 is 2.5 here, not 2.5000000000000004.
    exact = Decimal(repr(share)) * audience_size
    size = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if share > 0 and audience_size >= MIN_AUDIENCE_FOR_FORCED_HOLDOUT:
        size = max(size, 1)
    return min(size, max(audience_size - 1, 0))


def split_holdout(customer_ids: Sequence[int], share: float, seed: int) -> HoldoutSplit:
    """Disjoint treatment and holdout groups covering ``customer_ids`` exactly."""
    ordered = sorted(customer_ids)
    if len(set(ordered)) != len(ordered):
        raise ValueError("customer_ids contains duplicates")
    size = holdout_size(len(ordered), share)
    # random.Random(int) is Mersenne Twister with a stable seeding algorithm.
    held_out = set(random.Random(seed).sample(ordered, size))
    return HoldoutSplit(
        treatment_ids=tuple(cid for cid in ordered if cid not in held_out),
        holdout_ids=tuple(cid for cid in ordered if cid in held_out),
    )
