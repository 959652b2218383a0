import itertools

import pandas as pd
import pytest

from segments.analysis.rfm import RFM_SEGMENTS, assign_rfm_segments, rfm_scores, rfm_segment

ALL_SCORES = list(itertools.product(range(1, 6), repeat=3))


def _features(recency: list[float], frequency: list[int], monetary: list[float]) -> pd.DataFrame:
    index = pd.Index(range(1, len(recency) + 1), name="customer_id")
    return pd.DataFrame(
        {"recency_days": recency, "frequency": frequency, "monetary": monetary}, index=index
    )


def test_ten_customers_fall_into_quintiles_of_two_with_the_most_recent_scoring_five():
    features = _features(
        recency=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        frequency=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        monetary=[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    )

    scores = rfm_scores(features)

    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_all_tied_frequencies_still_spread_over_the_five_scores():
    features = _features(recency=list(range(10)), frequency=[1] * 10, monetary=[5.0] * 10)

    scores = rfm_scores(features)

    assert sorted(scores["f_score"].value_counts().to_dict().items()) == [
        (s, 2) for s in range(1, 6)
    ]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_fewer_than_five_customers_get_scores_in_range_without_error(n):
    features = _features(
        recency=list(range(n)), frequency=list(range(1, n + 1)), monetary=[1.0] * n
    )

    scores = rfm_scores(features)

    assert scores.isin([1, 2, 3, 4, 5]).all().all()
    assert len(scores) == n
    if n > 1:
        assert scores["r_score"].iloc[0] > scores["r_score"].iloc[-1]
        assert scores["f_score"].iloc[-1] > scores["f_score"].iloc[0]


def test_no_customers_give_an_empty_score_table():
    assert rfm_scores(_features([], [], [])).empty


def test_every_score_combination_belongs_to_exactly_one_segment():
    for r, f, m in ALL_SCORES:
        owners = [s.slug for s in RFM_SEGMENTS.values() if s.contains(r, f, m)]
        assert owners == [rfm_segment(r, f, m)], (r, f, m)


def test_every_segment_is_reachable():
    reached = {rfm_segment(r, f, m) for r, f, m in ALL_SCORES}

    assert reached == set(RFM_SEGMENTS)
    assert len(RFM_SEGMENTS) == 11


@pytest.mark.parametrize(
    ("r", "f", "m", "slug"),
    [
        (5, 5, 5, "champions"),
        (4, 4, 5, "loyal"),
        (5, 2, 3, "potential_loyalist"),
        (5, 1, 1, "new"),
        (4, 1, 1, "promising"),
        (3, 3, 3, "need_attention"),
        (3, 1, 2, "about_to_sleep"),
        (2, 4, 3, "at_risk"),
        (1, 5, 5, "cant_lose"),
        (2, 1, 1, "hibernating"),
        (1, 1, 1, "lost"),
    ],
)
def test_typical_scores_land_in_the_expected_segment(r, f, m, slug):
    assert rfm_segment(r, f, m) == slug


def test_the_vectorised_assignment_agrees_with_the_scalar_one():
    scores = pd.DataFrame(ALL_SCORES, columns=["r_score", "f_score", "m_score"])

    assigned = assign_rfm_segments(scores)

    assert assigned.tolist() == [rfm_segment(*row) for row in ALL_SCORES]


def test_the_why_sentence_quotes_the_customers_scores():
    why = RFM_SEGMENTS["champions"].why(5, 4, 5)

    assert "R=5" in why and "F=4" in why and "M=5" in why


def test_every_segment_has_a_name_description_and_why_template():
    for segment in RFM_SEGMENTS.values():
        assert segment.name and segment.description and "{r}" in segment.why_template


def test_scores_outside_one_to_five_are_rejected():
    with pytest.raises(ValueError):
        rfm_segment(0, 3, 3)


def test_quintile_edges_give_distinct_values_their_own_scores_back():
    from segments.analysis.rfm import quintile_edges, scores_from_edges

    features = pd.DataFrame({"recency_days": [float(d) for d in range(10, 0, -1)],
                             "frequency": list(range(1, 11)),
                             "monetary": [10.0 * i for i in range(1, 11)]})
    scores = rfm_scores(features)

    edges = quintile_edges(features, scores)

    assert edges["frequency"] == [2, 4, 6, 8]
    assert edges["recency_days"] == [9.0, 7.0, 5.0, 3.0]
    pd.testing.assert_frame_equal(scores_from_edges(features, edges), scores)


def test_newcomers_are_scored_on_the_runs_scale_and_ties_on_an_edge_get_the_lower_score():
    from segments.analysis.rfm import scores_from_edges

    edges = {"recency_days": [300.0, 100.0, 50.0, 10.0], "frequency": [1, 1, 2, 4],
             "monetary": [20.0, 50.0, 100.0, 200.0]}
    newcomers = pd.DataFrame({"recency_days": [0.5, 100.0, 400.0],
                              "frequency": [1, 3, 9], "monetary": [20.0, 60.0, 1000.0]})

    scores = scores_from_edges(newcomers, edges)

    assert scores["r_score"].tolist() == [5, 2, 1]
    assert scores["f_score"].tolist() == [1, 4, 5]
    assert scores["m_score"].tolist() == [1, 3, 5]
