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
    [(0, DetectableKind.NO_HOLDOUT), (4, DetectableKind.NO_HOLDOUT),
     (5, DetectableKind.BELOW_MINIMUM)],
)
def test_a_tiny_audience_is_marked_as_not_measurable(audience, kind):
    result = detectable_lift(audience_size=audience)

    assert result.kind == kind
    assert result.lift_points == math.inf


# --- the report's own rules: at least MIN_GROUP_SIZE per group, Fisher when a cell is small


@pytest.mark.parametrize("audience", [10, 50, 100, 200, 290, 294])
def test_a_holdout_under_the_reports_minimum_promises_no_power_and_names_the_audience_needed(
    audience,
):
    from campaigns.analysis.holdout import holdout_size
    from campaigns.analysis.lift import MIN_GROUP_SIZE

    result = detectable_lift(audience_size=audience, baseline_rate=0.05)

    assert holdout_size(audience, 0.10) < MIN_GROUP_SIZE
    assert result.kind == DetectableKind.BELOW_MINIMUM
    assert result.lift_points == math.inf
    needed = result.audience_needed
    assert needed is not None and needed > audience
    # the size named is enough under every rule the report applies...
    enough = detectable_lift(audience_size=needed, baseline_rate=0.05)
    assert enough.kind == DetectableKind.DETECTABLE
    assert enough.lift_points <= result.reference_lift_points
    # ...and one fewer is not
    short = detectable_lift(audience_size=needed - 1, baseline_rate=0.05)
    assert short.kind != DetectableKind.DETECTABLE or short.lift_points > result.reference_lift_points


def test_a_holdout_of_exactly_the_minimum_can_be_detectable():
    assert detectable_lift(audience_size=295, baseline_rate=0.05).kind == DetectableKind.DETECTABLE
    assert detectable_lift(audience_size=294, baseline_rate=0.05).kind == DetectableKind.BELOW_MINIMUM


@pytest.mark.parametrize("audience", [295, 300, 301, 450, 1000, 1200, 5000, 40000])
@pytest.mark.parametrize("baseline", [0.0, 0.01, 0.05, 0.3])
def test_the_promised_lift_at_its_own_rates_is_one_the_report_calls(audience, baseline):
    from campaigns.analysis.holdout import holdout_size
    from campaigns.analysis.lift import MIN_GROUP_SIZE, needs_exact_test, pooled_z_test_p_value

    result = detectable_lift(audience_size=audience, baseline_rate=baseline)
    if result.kind != DetectableKind.DETECTABLE:
        assert result.audience_needed is not None and result.audience_needed > audience
        return
    holdout_n = holdout_size(audience, 0.10)
    treated_n = audience - holdout_n

    # given the expected buyers at the rates the sentence names
    bought = treated_n * result.target_rate
    held_bought = holdout_n * baseline

    # the report's own rules let it answer: groups big enough, no Fisher fallback,
    # and at those rates the z-test clears 95%
    assert min(treated_n, holdout_n) >= MIN_GROUP_SIZE
    assert not needs_exact_test(bought, treated_n, held_bought, holdout_n)
    assert pooled_z_test_p_value(bought, treated_n, held_bought, holdout_n) < 0.05


def test_groups_of_thirty_with_few_buyers_need_a_bigger_lift_than_power_alone_says():
    # 300 at 10%: 30 held out, 1% of them is 0.3 buyers: at the lift power alone names,
    # the expected table has a cell under 5 and the report would use Fisher.
    power_only = minimum_detectable_lift(audience_size=300, baseline_rate=0.01)

    result = detectable_lift(audience_size=300, baseline_rate=0.01)

    assert result.lift_points > power_only
