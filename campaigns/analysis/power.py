"""How small an effect can this campaign detect, before it is sent?

Shown on the compose page so the owner sees that 300 recipients with a 10% holdout
can only detect huge effects. The calculation assumes the analysis in ``lift.py``
(two-sided pooled z-test on purchase rates) and solves for the lift ``d`` at which

    power = Phi((d - z_alpha * se_pooled(d)) / se_unpooled(d))

with the holdout converting at the baseline rate and the emailed group at
baseline + d. The baseline should be the segment's historical 7-day purchase rate;
when that is unknown (a new shop, an empty segment) 5% is used, a typical rate for
emailed retail customers, and the sentence says so.

Power alone is not enough: the report (``lift.py``) answers "too few to tell" when a
group has fewer than ``MIN_GROUP_SIZE`` people, or when an expected cell of its 2x2
table is under ``MIN_EXPECTED_CELL`` (it then uses Fisher's exact test and makes no
claim). ``detectable_lift`` therefore promises a lift only when, at the rates it names,
both groups are big enough and every expected cell reaches the minimum; otherwise it
names the audience needed to detect ``REFERENCE_LIFT_POINTS``.

``detectable_lift`` returns the numbers and which case applies;
``campaigns/verdicts.py`` words them in the reader's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy import optimize, stats

from campaigns.analysis.holdout import holdout_size
from campaigns.analysis.lift import MIN_EXPECTED_CELL, MIN_GROUP_SIZE

DEFAULT_BASELINE_RATE = 0.05
# The lift, in percentage points, the "email at least N customers" advice is sized for:
# 5 points (5% -> 10% buying) is a strong but believable effect of one email.
REFERENCE_LIFT_POINTS = 5.0
# Past this the search for the audience needed stops: nobody has a bigger list.
_LARGEST_AUDIENCE = 100_000_000


class DetectableKind(StrEnum):
    NO_HOLDOUT = "no_holdout"  # the holdout rounds to nobody: nothing to compare with
    BELOW_MINIMUM = "below_minimum"  # a group under the report's MIN_GROUP_SIZE
    TOO_SMALL = "too_small"  # not even everyone buying would be detected
    DETECTABLE = "detectable"


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectableLift:
    kind: DetectableKind
    audience_size: int
    holdout_share: float  # fraction, 0.1 = 10%
    baseline_rate: float  # fraction; the assumed default when baseline_assumed
    baseline_assumed: bool
    lift_points: float  # percentage points; math.inf unless DETECTABLE
    confidence: float  # 0.95
    power: float  # 0.8
    holdout_n: int = 0
    # Unless DETECTABLE: the smallest audience at this holdout share for which the
    # report could call REFERENCE_LIFT_POINTS with ``power``; None when none can
    # (no holdout share, or no such audience below _LARGEST_AUDIENCE).
    audience_needed: int | None = None
    reference_lift_points: float = REFERENCE_LIFT_POINTS

    @property
    def target_rate(self) -> float:
        """The emailed group's purchase rate that would just be detected (fraction)."""
        return self.baseline_rate + self.lift_points / 100


def power_at(
    *, lift: float, treated_n: int, holdout_n: int, baseline_rate: float, alpha: float = 0.05
) -> float:
    """Power to detect an absolute ``lift`` (fraction) with the given groups."""
    p0, p1 = baseline_rate, baseline_rate + lift
    pooled = (treated_n * p1 + holdout_n * p0) / (treated_n + holdout_n)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / holdout_n))
    se_alt = math.sqrt(p1 * (1 - p1) / treated_n + p0 * (1 - p0) / holdout_n)
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    if se_alt == 0:
        return 1.0
    # The opposite tail (significant in the wrong direction) is negligible here.
    return float(stats.norm.cdf((lift - z_alpha * se_null) / se_alt))


def minimum_detectable_lift(
    *,
    audience_size: int,
    holdout_share: float = 0.10,
    baseline_rate: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest absolute lift, in percentage points, detectable with ``power``.

    ``math.inf`` when there is no holdout or even buying by everyone would not be
    detected.
    """
    p0 = DEFAULT_BASELINE_RATE if baseline_rate is None else baseline_rate
    if not 0 <= p0 < 1:
        raise ValueError("baseline_rate must be in [0, 1)")
    holdout_n = holdout_size(audience_size, holdout_share)
    treated_n = audience_size - holdout_n
    if holdout_n == 0 or treated_n == 0:
        return math.inf
    largest = 1 - p0 - 1e-9

    def shortfall(lift: float) -> float:
        return (
            power_at(
                lift=lift, treated_n=treated_n, holdout_n=holdout_n, baseline_rate=p0, alpha=alpha
            )
            - power
        )

    if shortfall(largest) < 0:
        return math.inf
    return 100 * float(optimize.brentq(shortfall, 1e-9, largest, xtol=1e-10))


def reportable_lift(
    *,
    audience_size: int,
    holdout_share: float = 0.10,
    baseline_rate: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """The smallest lift, in percentage points, the report itself could call.

    That is the power-based ``minimum_detectable_lift`` raised, if need be, until the
    expected 2x2 table (holdout at the baseline, emailed at baseline + lift) has every
    cell at least ``MIN_EXPECTED_CELL``; ``math.inf`` when a group is under
    ``MIN_GROUP_SIZE`` or no lift satisfies both.
    """
    p0 = DEFAULT_BASELINE_RATE if baseline_rate is None else baseline_rate
    holdout_n = holdout_size(audience_size, holdout_share)
    treated_n = audience_size - holdout_n
    if min(holdout_n, treated_n) < MIN_GROUP_SIZE:
        return math.inf
    points = minimum_detectable_lift(audience_size=audience_size, holdout_share=holdout_share,
                                     baseline_rate=p0, alpha=alpha, power=power)
    if math.isinf(points):
        return math.inf
    # The pooled rate p0 + lift * treated / n must leave MIN_EXPECTED_CELL buyers and
    # non-buyers in the smaller group: a range of lifts, from `low` to `high`.
    smaller = min(holdout_n, treated_n)
    # (A hair inside the edge: float rounding must not leave a cell at 4.999...)
    edge = MIN_EXPECTED_CELL / smaller * (1 + 1e-9)
    low = (edge - p0) * audience_size / treated_n
    high = min((1 - edge - p0) * audience_size / treated_n, 1 - p0)
    lift = max(points / 100, low)
    return 100 * lift if lift <= high else math.inf


def audience_needed(
    *,
    holdout_share: float,
    baseline_rate: float,
    lift_points: float = REFERENCE_LIFT_POINTS,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int | None:
    """The smallest audience whose ``reportable_lift`` is at most ``lift_points``."""
    if holdout_share <= 0 or baseline_rate + lift_points / 100 >= 1:
        return None

    def enough(n: int) -> bool:
        return reportable_lift(audience_size=n, holdout_share=holdout_share,
                               baseline_rate=baseline_rate, alpha=alpha, power=power) <= lift_points

    # Bigger audiences only shrink the reportable lift: double, then bisect.
    high = 2 * MIN_GROUP_SIZE
    while not enough(high):
        high *= 2
        if high > _LARGEST_AUDIENCE:
            return None
    low = high // 2  # not enough (or below any useful size)
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


def detectable_lift(
    *,
    audience_size: int,
    holdout_share: float = 0.10,
    baseline_rate: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> DetectableLift:
    """E.g. 1,200 recipients with a 10% holdout can detect a lift of about 8.1 points
    (from 5.0% to 13.1% buying within 7 days) at 95% confidence with 80% power; 250
    recipients hold out only 25, under the report's minimum, so instead: email at least
    N customers to detect 5 points."""
    p0 = DEFAULT_BASELINE_RATE if baseline_rate is None else baseline_rate
    if not 0 <= p0 < 1:
        raise ValueError("baseline_rate must be in [0, 1)")
    holdout_n = holdout_size(audience_size, holdout_share)
    points = reportable_lift(audience_size=audience_size, holdout_share=holdout_share,
                             baseline_rate=p0, alpha=alpha, power=power)
    if holdout_n == 0:
        kind = DetectableKind.NO_HOLDOUT
    elif min(holdout_n, audience_size - holdout_n) < MIN_GROUP_SIZE:
        kind = DetectableKind.BELOW_MINIMUM
    elif math.isinf(points):
        kind = DetectableKind.TOO_SMALL
    else:
        kind = DetectableKind.DETECTABLE
    needed = None
    if kind != DetectableKind.DETECTABLE:
        needed = audience_needed(holdout_share=holdout_share, baseline_rate=p0, alpha=alpha,
                                 power=power)
    return DetectableLift(
        kind=kind,
        audience_size=audience_size,
        holdout_share=holdout_share,
        baseline_rate=p0,
        baseline_assumed=baseline_rate is None,
        lift_points=points,
        confidence=1 - alpha,
        power=power,
        holdout_n=holdout_n,
        audience_needed=needed,
    )
