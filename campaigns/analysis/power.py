"""How small an effect can this campaign detect, before it is sent?

Shown on the compose page so the owner sees that 300 recipients with a 10% holdout
can only detect huge effects. The calculation assumes the analysis in ``lift.py``
(two-sided pooled z-test on purchase rates) and solves for the lift ``d`` at which

    power = Phi((d - z_alpha * se_pooled(d)) / se_unpooled(d))

with the holdout converting at the baseline rate and the emailed group at
baseline + d. The baseline should be the segment's historical 7-day purchase rate;
when that is unknown (a new shop, an empty segment) 5% is used, a typical rate for
emailed retail customers, and the sentence says so.

``detectable_lift`` returns the numbers and which case applies;
``campaigns/verdicts.py`` words them in the reader's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy import optimize, stats

from campaigns.analysis.holdout import holdout_size

DEFAULT_BASELINE_RATE = 0.05


class DetectableKind(StrEnum):
    NO_HOLDOUT = "no_holdout"  # the holdout rounds to nobody: nothing to compare with
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


def detectable_lift(
    *,
    audience_size: int,
    holdout_share: float = 0.10,
    baseline_rate: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> DetectableLift:
    """E.g. 1,200 recipients with a 10% holdout can detect a lift of about 8.1 points
    (from 5.0% to 13.1% buying within 7 days) at 95% confidence with 80% power."""
    points = minimum_detectable_lift(
        audience_size=audience_size,
        holdout_share=holdout_share,
        baseline_rate=baseline_rate,
        alpha=alpha,
        power=power,
    )
    if holdout_size(audience_size, holdout_share) == 0:
        kind = DetectableKind.NO_HOLDOUT
    elif math.isinf(points):
        kind = DetectableKind.TOO_SMALL
    else:
        kind = DetectableKind.DETECTABLE
    return DetectableLift(
        kind=kind,
        audience_size=audience_size,
        holdout_share=holdout_share,
        baseline_rate=DEFAULT_BASELINE_RATE if baseline_rate is None else baseline_rate,
        baseline_assumed=baseline_rate is None,
        lift_points=points,
        confidence=1 - alpha,
        power=power,
    )
