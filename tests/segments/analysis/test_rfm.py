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


def test_ten_customers_fall_into_fifths_of_two_with_the_most_recent_scoring_five():
    features = _features(
        recency=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        frequency=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        monetary=[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    )

    scores = rfm_scores(features)

    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # F is a fixed scale of purchases: 1, 2, 3, 4-5, 6+.
    assert scores["f_score"].tolist() == [1, 2, 3, 4, 4, 5, 5, 5, 5, 5]
    assert scores["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_identical_customers_get_identical_scores_whatever_their_ids():
    # given three identical one-order customers among others (ids 1..3 and 7..9)
    features = _features(
        recency=[40, 40, 40, 5, 300, 12, 40, 40, 40, 80],
        frequency=[1, 1, 1, 4, 1, 2, 1, 1, 1, 7],
        monetary=[25.0, 25.0, 25.0, 400.0, 10.0, 60.0, 25.0, 25.0, 25.0, 900.0],
    )

    scores = rfm_scores(features)

    # then the six identical rows share one score triple; by hand: recency 40 holds
    # sorted places 3..8 of 10 from the oldest (mid-rank share 0.5) -> R = 3; spend
    # 25.00 holds places 2..7 of 10 from the lowest (share 0.4) -> M = 3; one order -> F = 1.
    identical = scores.loc[[1, 2, 3, 7, 8, 9]]
    assert identical.drop_duplicates().values.tolist() == [[3, 1, 3]]


def test_one_order_customers_all_score_f_one_and_returns_only_too():
    features = _features(recency=list(range(8)), frequency=[1, 1, 1, 1, 1, 1, 0, 2],
                         monetary=[5.0] * 8)

    scores = rfm_scores(features)

    assert scores["f_score"].tolist() == [1, 1, 1, 1, 1, 1, 1, 2]


@pytest.mark.parametrize(("orders", "f"), [(0, 1), (1, 1), (2, 2), (3, 3), (4, 4), (5, 4),
                                           (6, 5), (40, 5)])
def test_the_frequency_scale_is_one_two_three_four_to_five_and_six_or_more(orders, f):
    features = _features(recency=[1.0, 2.0], frequency=[orders, 1], monetary=[1.0, 2.0])

    assert rfm_scores(features)["f_score"].iloc[0] == f


def test_all_tied_values_score_the_middle_for_everyone():
    features = _features(recency=[7.0] * 10, frequency=[1] * 10, monetary=[5.0] * 10)

    scores = rfm_scores(features)

    assert scores["r_score"].unique().tolist() == [3]
    assert scores["m_score"].unique().tolist() == [3]


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


def test_every_segment_has_a_name_and_a_description():
    for segment in RFM_SEGMENTS.values():
        assert segment.name and segment.description


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

    assert edges["frequency"] == [1, 2, 3, 5]
    assert edges["recency_days"] == [9.0, 7.0, 5.0, 3.0]
    pd.testing.assert_frame_equal(scores_from_edges(features, edges), scores)


def test_placement_by_stored_edges_gives_tied_customers_the_runs_own_scores():
    from segments.analysis.rfm import quintile_edges, scores_from_edges

    # given a run where ties straddle every quintile boundary
    features = _features(
        recency=[3, 3, 3, 3, 3, 9, 9, 9, 20, 20, 20, 20],
        frequency=[1, 1, 1, 1, 2, 1, 1, 3, 1, 1, 5, 6],
        monetary=[10.0, 10.0, 10.0, 15.0, 15.0, 15.0, 15.0, 30.0, 30.0, 30.0, 80.0, 80.0],
    )
    scores = rfm_scores(features)
    edges = quintile_edges(features, scores)

    # when newcomers identical to each run customer are placed by the stored edges
    newcomers = features.reset_index(drop=True)
    placed = scores_from_edges(newcomers, edges)

    # then each gets exactly the score the run gave the same values
    assert placed.values.tolist() == scores.values.tolist()


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


def test_a_customer_without_a_purchase_scores_least_recent_however_recent_their_refund():
    # customer 1 only returned something, yesterday; the others bought
    features = _features(recency=[1, 2, 30, 60, 90], frequency=[0, 1, 1, 2, 1],
                         monetary=[-20.0, 20.0, 20.0, 40.0, 20.0])

    scores = rfm_scores(features)

    assert scores["r_score"].tolist() == [1, 5, 4, 3, 2]
    assert assign_rfm_segments(scores).iloc[0] == "lost"
