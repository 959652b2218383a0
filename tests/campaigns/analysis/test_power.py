import math

import pytest
from scipy.stats import norm

from campaigns.analysis.power import (
    detectable_lift_sentence,
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


def test_the_sentence_names_the_audience_holdout_and_lift():
    sentence = detectable_lift_sentence(audience_size=1200, baseline_rate=0.05)

    lift = minimum_detectable_lift(audience_size=1200, baseline_rate=0.05)
    assert sentence.startswith(
        f"With 1,200 recipients and a 10% holdout you can detect a lift of about {lift:.1f} points"
    )
    assert "at 95% confidence" in sentence
    assert "assumed" not in sentence


def test_the_sentence_says_when_the_baseline_is_assumed():
    assert "The 5% starting rate is assumed" in detectable_lift_sentence(audience_size=1200)


def test_the_sentence_for_a_tiny_audience_says_the_effect_cannot_be_measured():
    assert detectable_lift_sentence(audience_size=4) == (
        "With 4 recipients and a 10% holdout nobody is held out, so the email's effect cannot be measured."
    )
    assert detectable_lift_sentence(audience_size=5) == (
        "With 5 recipients and a 10% holdout the groups are too small to detect any lift at 95% confidence."
    )
