import math

import pytest
from scipy.stats import norm

from campaigns.analysis.power import (
    DetectableKind,
    detectable_lift,
    minimum_detectable_lift,
)


def test_a_bigger_audience_detects_a_smaller_lift():
    sizes = [100, 300, 1000, 3000, 10000, 100000]

    lifts = [minimum_detectable_lift(audience_size=n, baseline_rate=0.05) for n in sizes]

    assert lifts == sorted(lifts, reverse=True)
    assert len(set(lifts)) == len(lifts)


def test_a_bigger_holdout_share_detects_a_smaller_lift_up_to_half():
    lifts = [
        minimum_detectable_lift(audience_size=2000, holdout_share=s, baseline_rate=0.05)
        for s in (0.05, 0.1, 0.2, 0.5)
    ]

    assert lifts == sorted(lifts, reverse=True)


def test_with_many_people_it_agrees_with_the_textbook_closed_form():
    # (z_0.975 + z_0.8) * sqrt(2 p (1 - p) / n) for two equal groups of 50,000
    closed_form = 100 * (norm.ppf(0.975) + norm.ppf(0.8)) * math.sqrt(2 * 0.05 * 0.95 / 50000)

    lift = minimum_detectable_lift(audience_size=100000, holdout_share=0.5, baseline_rate=0.05)

    assert lift == pytest.approx(closed_form, rel=0.03)


def test_the_answer_has_exactly_the_requested_power_under_an_independent_calculation():
    lift = minimum_detectable_lift(audience_size=1200, holdout_share=0.1, baseline_rate=0.05) / 100
    n1, n2, p0, p1 = 1080, 120, 0.05, 0.05 + lift
    pooled = (n1 * p1 + n2 * p0) / (n1 + n2)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    se_alt = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n2)

    power = norm.cdf((lift - norm.ppf(0.975) * se_null) / se_alt)

    assert power == pytest.approx(0.8, abs=1e-6)


def test_an_unknown_baseline_assumes_five_percent():
    assert minimum_detectable_lift(audience_size=1200) == minimum_detectable_lift(
        audience_size=1200, baseline_rate=0.05
    )


@pytest.mark.parametrize("audience", [0, 1, 4])
def test_no_holdout_means_nothing_is_detectable(audience):
    assert minimum_detectable_lift(audience_size=audience) == math.inf


def test_a_holdout_of_one_cannot_detect_even_everyone_buying():
    assert minimum_detectable_lift(audience_size=5) == math.inf


def test_the_result_names_the_audience_holdout_lift_and_target_rate():
    result = detectable_lift(audience_size=1200, baseline_rate=0.05)

    assert result.kind == DetectableKind.DETECTABLE
    assert (result.audience_size, result.holdout_share) == (1200, 0.10)
    assert result.lift_points == minimum_detectable_lift(audience_size=1200, baseline_rate=0.05)
    assert result.target_rate == pytest.approx(0.05 + result.lift_points / 100)
    assert (result.confidence, result.power) == (pytest.approx(0.95), 0.8)
    assert result.baseline_assumed is False


def test_the_result_says_when_the_baseline_is_assumed():
    result = detectable_lift(audience_size=1200)

    assert result.baseline_assumed is True
    assert result.baseline_rate == 0.05


@pytest.mark.parametrize(
    ("audience", "kind"),
    [(0, DetectableKind.NO_HOLDOUT), (4, DetectableKind.NO_HOLDOUT), (5, DetectableKind.TOO_SMALL)],
)
def test_a_tiny_audience_is_marked_as_not_measurable(audience, kind):
    result = detectable_lift(audience_size=audience)

    assert result.kind == kind
    assert result.lift_points == math.inf
