import math

import pytest

from campaigns.analysis.lift import (
    FISHER_TEST,
    WELCH_TEST,
    Z_TEST,
    VerdictKind,
    conversion_lift,
    katz_ratio_interval,
    newcombe_interval,
    revenue_lift,
)


# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_the_difference_interval_matches_newcombes_published_values(x1, n1, x2, n2, low, high):
    interval = newcombe_interval(x1, n1, x2, n2)

    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_the_ratio_interval_is_katz_log_interval_computed_by_hand():
    # RR = 0.06 / 0.04 = 1.5; se(log RR) = sqrt(1/600 - 1/10000 + 1/40 - 1/1000)
    se = math.sqrt(1 / 600 - 1 / 10000 + 1 / 40 - 1 / 1000)

    interval = katz_ratio_interval(600, 10000, 40, 1000)

    assert interval.low == pytest.approx(1.5 * math.exp(-1.959964 * se), rel=1e-6)
    assert interval.high == pytest.approx(1.5 * math.exp(1.959964 * se), rel=1e-6)


def test_a_large_campaign_uses_the_pooled_z_test_computed_by_hand():
    # pooled rate 640 / 11000; z = (0.06 - 0.04) / sqrt(p (1 - p) (1/10000 + 1/1000))
    pooled = 640 / 11000
    z = 0.02 / math.sqrt(pooled * (1 - pooled) * (1 / 10000 + 1 / 1000))

    result = conversion_lift(
        treated_n=10000, treated_conversions=600, holdout_n=1000, holdout_conversions=40
    )

    assert result.test_name == Z_TEST
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert result.treated_rate == 0.06
    assert result.holdout_rate == 0.04
    assert result.absolute_lift_points == pytest.approx(2.0)
    assert result.relative_lift == pytest.approx(0.5)
    assert result.small_sample is False


def test_a_clear_effect_gets_a_confident_verdict_with_numbers():
    result = conversion_lift(
        treated_n=10000, treated_conversions=600, holdout_n=1000, holdout_conversions=40
    )

    assert result.significant is True
    assert result.verdict_kind == VerdictKind.INCREASED
    assert result.absolute_lift_ci_points.low == pytest.approx(0.5, abs=0.05)
    assert result.absolute_lift_ci_points.high == pytest.approx(3.2, abs=0.05)
    assert result.p_value == pytest.approx(0.010, abs=0.0005)


def _fisher_two_sided_by_hand(x1, n1, x2, n2):
    # Sum the hypergeometric probabilities of all tables with the same margins
    # that are no more likely than the observed one.
    buyers, total = x1 + x2, n1 + n2

    def probability(k):
        return math.comb(n1, k) * math.comb(n2, buyers - k) / math.comb(total, buyers)

    observed = probability(x1)
    ks = range(max(0, buyers - n2), min(buyers, n1) + 1)
    return sum(p for p in map(probability, ks) if p <= observed * (1 + 1e-7))


def test_a_small_holdout_switches_to_fishers_exact_test_computed_by_hand():
    # 1000 emailed, 50 bought; 100 held out, 2 bought: 100 * 52 / 1100 = 4.7 expected < 5
    result = conversion_lift(
        treated_n=1000, treated_conversions=50, holdout_n=100, holdout_conversions=2
    )

    assert result.test_name == FISHER_TEST
    assert result.p_value == pytest.approx(_fisher_two_sided_by_hand(50, 1000, 2, 100), rel=1e-9)
    assert result.treated_rate == 0.05
    assert result.holdout_rate == 0.02
    assert result.absolute_lift_points == pytest.approx(3.0)
    assert result.relative_lift == pytest.approx(1.5)
    assert result.small_sample is True


def test_a_small_sample_verdict_refuses_to_claim_an_effect_even_when_p_is_small():
    result = conversion_lift(
        treated_n=20, treated_conversions=15, holdout_n=20, holdout_conversions=1
    )

    assert result.p_value < 0.001
    assert result.significant is False
    assert result.small_sample is True
    assert result.verdict_kind == VerdictKind.TOO_FEW
    # every expected cell is >= 5 here, so the normal approximation is still valid
    assert result.test_name == Z_TEST


def test_no_difference_says_so_and_shows_the_interval():
    result = conversion_lift(
        treated_n=10000, treated_conversions=520, holdout_n=1000, holdout_conversions=48
    )

    assert result.significant is False
    assert result.verdict_kind == VerdictKind.NO_DIFFERENCE
    assert result.absolute_lift_ci_points.contains(0.0)


def test_a_harmful_email_is_reported_as_reducing_purchases():
    result = conversion_lift(
        treated_n=10000, treated_conversions=400, holdout_n=1000, holdout_conversions=60
    )

    assert result.significant is True
    assert result.absolute_lift_points == pytest.approx(-2.0)
    assert result.verdict_kind == VerdictKind.REDUCED


def test_a_p_value_just_under_five_percent_with_an_interval_crossing_zero_is_not_called_an_effect():
    # z-test p = 0.0494 but the Newcombe interval starts just below zero
    result = conversion_lift(
        treated_n=9000, treated_conversions=388, holdout_n=1000, holdout_conversions=30
    )

    assert result.p_value < 0.05
    assert result.absolute_lift_ci_points.low < 0
    assert result.significant is False
    assert result.verdict_kind == VerdictKind.NO_DIFFERENCE


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(50, 1000, 2, 100), (600, 10000, 40, 1000), (0, 50, 0, 50), (50, 50, 10, 50), (3, 40, 9, 40)],
)
def test_every_interval_contains_its_point_estimate(x1, n1, x2, n2):
    result = conversion_lift(
        treated_n=n1, treated_conversions=x1, holdout_n=n2, holdout_conversions=x2
    )

    assert result.absolute_lift_ci_points.contains(result.absolute_lift_points)
    if result.relative_lift_ci is not None:
        assert result.relative_lift_ci.contains(result.relative_lift)


def test_relative_lift_is_undefined_when_nobody_in_the_holdout_bought():
    result = conversion_lift(
        treated_n=500, treated_conversions=30, holdout_n=50, holdout_conversions=0
    )

    assert result.relative_lift is None
    assert result.relative_lift_ci is None


def test_revenue_per_recipient_is_reported_for_both_groups():
    result = conversion_lift(
        treated_n=1000,
        treated_conversions=50,
        holdout_n=100,
        holdout_conversions=2,
        treated_revenue=2500.0,
        holdout_revenue=120.0,
    )

    assert result.treated_revenue_per_recipient == 2.5
    assert result.holdout_revenue_per_recipient == 1.2
    assert result.revenue_per_recipient_difference == pytest.approx(1.3)


@pytest.mark.parametrize(
    "arguments",
    [
        {"treated_n": 0, "treated_conversions": 0, "holdout_n": 10, "holdout_conversions": 0},
        {"treated_n": 10, "treated_conversions": 0, "holdout_n": 0, "holdout_conversions": 0},
        {"treated_n": 10, "treated_conversions": 11, "holdout_n": 10, "holdout_conversions": 0},
        {"treated_n": 10, "treated_conversions": -1, "holdout_n": 10, "holdout_conversions": 0},
    ],
)
def test_impossible_counts_are_refused(arguments):
    with pytest.raises(ValueError):
        conversion_lift(**arguments)


def test_revenue_lift_uses_welchs_t_test_computed_by_hand():
    treated = [0.0, 0.0, 10.0, 20.0, 0.0, 30.0]
    holdout = [0.0, 5.0, 0.0, 0.0]
    m1, m2 = sum(treated) / 6, sum(holdout) / 4
    v1 = sum((x - m1) ** 2 for x in treated) / 5
    v2 = sum((x - m2) ** 2 for x in holdout) / 3
    t = (m1 - m2) / math.sqrt(v1 / 6 + v2 / 4)

    result = revenue_lift(treated, holdout)

    assert result.test_name == WELCH_TEST
    assert result.difference == pytest.approx(m1 - m2)
    assert result.difference_ci.contains(result.difference)
    # Welch-Satterthwaite degrees of freedom, then the two-sided t tail.
    df = (v1 / 6 + v2 / 4) ** 2 / ((v1 / 6) ** 2 / 5 + (v2 / 4) ** 2 / 3)
    from scipy.stats import t as t_distribution

    assert result.p_value == pytest.approx(2 * t_distribution.sf(abs(t), df), rel=1e-9)
