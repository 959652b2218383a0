"""Did the email make people buy? Emailed group versus random holdout.

Methods, chosen for honesty at the small sizes a one-person shop has:

* absolute lift (difference of purchase rates): Newcombe's hybrid score interval
  (Newcombe 1998, method 10), built from two Wilson intervals. Unlike Wald it
  stays inside [-1, 1] and keeps its coverage when rates are near 0.
* relative lift (risk ratio - 1): Katz log interval; undefined when either group
  has no buyers, because a ratio with a zero is infinite or zero.
* p-value: pooled two-proportion z-test, or Fisher's exact test when any expected
  cell of the 2x2 table is below 5, where the normal approximation fails.

The verdict only claims an effect when the p-value is below ``alpha`` *and* the
interval excludes zero, and never when the sample is small. It is a ``VerdictKind``,
not a sentence: ``campaigns/verdicts.py`` words it in the reader's language.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from scipy import stats

MIN_EXPECTED_CELL = 5.0
MIN_GROUP_SIZE = 30  # below this the holdout rate is too coarse to compare with

# Names of methods, in English: stable identifiers for the API, translated for display.
Z_TEST = "two-proportion z-test"
FISHER_TEST = "Fisher's exact test"
WELCH_TEST = "Welch's t-test"
NEWCOMBE_INTERVAL = "Newcombe hybrid score interval"
KATZ_INTERVAL = "Katz log risk-ratio interval"


class VerdictKind(StrEnum):
    TOO_FEW = "too_few"  # small sample: no claim, whatever the p-value
    INCREASED = "increased"
    REDUCED = "reduced"
    NO_DIFFERENCE = "no_difference"


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversionLift:
    treated_n: int
    treated_conversions: int
    holdout_n: int
    holdout_conversions: int
    treated_rate: float  # fraction, 0.05 = 5%
    holdout_rate: float
    absolute_lift_points: float  # percentage points: 3.1 = +3.1 points
    absolute_lift_ci_points: Interval
    absolute_ci_method: str
    relative_lift: float | None  # fraction: 0.25 = 25% more buyers; None if undefined
    relative_lift_ci: Interval | None
    relative_ci_method: str
    p_value: float
    test_name: str
    confidence: float  # 0.95
    small_sample: bool
    significant: bool
    verdict_kind: VerdictKind
    treated_revenue_per_recipient: float | None
    holdout_revenue_per_recipient: float | None
    revenue_per_recipient_difference: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RevenueLift:
    treated_per_recipient: float
    holdout_per_recipient: float
    difference: float
    difference_ci: Interval
    p_value: float
    test_name: str


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> Interval:
    """Wilson score interval for one proportion."""
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95) -> Interval:
    """Newcombe hybrid score interval for p1 - p2 (as fractions)."""
    p1, p2 = x1 / n1, x2 / n2
    w1 = wilson_interval(x1, n1, confidence=confidence)
    w2 = wilson_interval(x2, n2, confidence=confidence)
    difference = p1 - p2
    return Interval(
        low=difference - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2),
        high=difference + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2),
    )


def katz_ratio_interval(
    x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95
) -> Interval | None:
    """Katz log interval for the risk ratio p1 / p2; None when a group has no events."""
    if x1 == 0 or x2 == 0:
        return None
    log_ratio = math.log((x1 / n1) / (x2 / n2))
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    z = _z(confidence)
    return Interval(low=math.exp(log_ratio - z * se), high=math.exp(log_ratio + z * se))


def needs_exact_test(x1: int, n1: int, x2: int, n2: int) -> bool:
    pooled = (x1 + x2) / (n1 + n2)
    expected = (n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    return min(expected) < MIN_EXPECTED_CELL


def pooled_z_test_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # nobody or everybody bought in both groups: no difference to test
    z = (x1 / n1 - x2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def fisher_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def conversion_lift(
    *,
    treated_n: int,
    treated_conversions: int,
    holdout_n: int,
    holdout_conversions: int,
    treated_revenue: float | None = None,
    holdout_revenue: float | None = None,
    alpha: float = 0.05,
) -> ConversionLift:
    """Compare purchase rates of emailed and held-out customers.

    ``*_revenue`` are total attributed revenue per group, for revenue per recipient.
    """
    for name, n, x in (
        ("treated", treated_n, treated_conversions),
        ("holdout", holdout_n, holdout_conversions),
    ):
        if n <= 0:
            raise ValueError(
                f"{name}_n must be positive; without a {name} group there is no comparison"
            )
        if not 0 <= x <= n:
            raise ValueError(f"{name}_conversions must be between 0 and {name}_n")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")

    x1, n1, x2, n2 = treated_conversions, treated_n, holdout_conversions, holdout_n
    confidence = 1 - alpha
    exact = needs_exact_test(x1, n1, x2, n2)
    p_value = fisher_p_value(x1, n1, x2, n2) if exact else pooled_z_test_p_value(x1, n1, x2, n2)
    difference = newcombe_interval(x1, n1, x2, n2, confidence=confidence)
    ratio = katz_ratio_interval(x1, n1, x2, n2, confidence=confidence)
    lift_points = 100 * (x1 / n1 - x2 / n2)
    ci_points = Interval(low=100 * difference.low, high=100 * difference.high)
    small = exact or min(n1, n2) < MIN_GROUP_SIZE
    significant = (not small) and p_value < alpha and not ci_points.contains(0.0)
    test_name = FISHER_TEST if exact else Z_TEST

    treated_rpr = None if treated_revenue is None else treated_revenue / n1
    holdout_rpr = None if holdout_revenue is None else holdout_revenue / n2
    return ConversionLift(
        treated_n=n1,
        treated_conversions=x1,
        holdout_n=n2,
        holdout_conversions=x2,
        treated_rate=x1 / n1,
        holdout_rate=x2 / n2,
        absolute_lift_points=lift_points,
        absolute_lift_ci_points=ci_points,
        absolute_ci_method=NEWCOMBE_INTERVAL,
        relative_lift=(x1 / n1) / (x2 / n2) - 1 if x2 else None,
        relative_lift_ci=None
        if ratio is None
        else Interval(low=ratio.low - 1, high=ratio.high - 1),
        relative_ci_method=KATZ_INTERVAL,
        p_value=p_value,
        test_name=test_name,
        confidence=confidence,
        small_sample=small,
        significant=significant,
        verdict_kind=_verdict_kind(lift_points=lift_points, small=small, significant=significant),
        treated_revenue_per_recipient=treated_rpr,
        holdout_revenue_per_recipient=holdout_rpr,
        revenue_per_recipient_difference=(
            None if treated_rpr is None or holdout_rpr is None else treated_rpr - holdout_rpr
        ),
    )


def revenue_lift(
    treated_revenue: Sequence[float], holdout_revenue: Sequence[float], *, alpha: float = 0.05
) -> RevenueLift:
    """Revenue per recipient (one value per recipient, zeros included).

    Welch's t-test tolerates unequal group sizes and variances; revenue is skewed,
    so treat its interval as approximate for groups under a few hundred people.
    """
    if len(treated_revenue) < 2 or len(holdout_revenue) < 2:
        raise ValueError("each group needs at least two recipients")
    result = stats.ttest_ind(treated_revenue, holdout_revenue, equal_var=False)
    ci = result.confidence_interval(confidence_level=1 - alpha)
    treated_mean = float(sum(treated_revenue) / len(treated_revenue))
    holdout_mean = float(sum(holdout_revenue) / len(holdout_revenue))
    p_value = float(result.pvalue)
    return RevenueLift(
        treated_per_recipient=treated_mean,
        holdout_per_recipient=holdout_mean,
        difference=treated_mean - holdout_mean,
        difference_ci=Interval(low=float(ci.low), high=float(ci.high)),
        # Identical constant groups give nan; there is no evidence of a difference.
        p_value=1.0 if math.isnan(p_value) else p_value,
        test_name=WELCH_TEST,
    )


def _verdict_kind(*, lift_points: float, small: bool, significant: bool) -> VerdictKind:
    if small:
        return VerdictKind.TOO_FEW
    if significant and lift_points > 0:
        return VerdictKind.INCREASED
    if significant:
        return VerdictKind.REDUCED
    return VerdictKind.NO_DIFFERENCE


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))
