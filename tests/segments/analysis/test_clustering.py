import re

import numpy as np
import pandas as pd
import pytest

from segments.analysis.clustering import (
    FREQUENT_MIN_ORDERS,
    RECENT_MAX_DAYS,
    SILHOUETTE_TIE,
    NameClaim,
    choose_k,
    claims_untrue,
    cluster_names,
    cluster_rules,
    fit_kmeans,
    match_to_previous,
    prepare_matrix,
    stable_best_k,
    ward_on_sample,
)

# Three kinds of customer, 30 each: (recency_days, frequency, avg_order_value, tenure_days)
GROUPS = {
    "champions": (5.0, 12, 120.0, 700.0),
    "lapsed": (400.0, 1, 25.0, 420.0),
    "newcomers": (10.0, 1, 40.0, 12.0),
}


def _blobs(per_group: int = 30) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    rows, truth = [], []
    for g, (recency, frequency, aov, tenure) in enumerate(GROUPS.values()):
        for _ in range(per_group):
            jitter = rng.uniform(0.85, 1.15, size=4)
            rows.append(
                (
                    recency * jitter[0],
                    max(1, round(frequency * jitter[1])),
                    aov * jitter[2],
                    tenure * jitter[3],
                )
            )
            truth.append(g)
    features = pd.DataFrame(
        rows, columns=["recency_days", "frequency", "avg_order_value", "tenure_days"]
    )
    features["monetary"] = features["frequency"] * features["avg_order_value"]
    features.index = pd.Index(range(1, len(features) + 1), name="customer_id")
    return features, np.array(truth)


def test_prepared_matrix_is_log_scaled_and_standardised():
    features = pd.DataFrame({"frequency": [0.0, np.e - 1]})

    matrix = prepare_matrix(features, ["frequency"])

    # log1p gives [0, 1]; standardising gives [-1, 1].
    assert matrix.values[:, 0].tolist() == pytest.approx([-1.0, 1.0])
    assert matrix.inverse(matrix.values)[:, 0].tolist() == pytest.approx([0.0, np.e - 1])


def test_a_constant_column_does_not_produce_nan():
    matrix = prepare_matrix(pd.DataFrame({"frequency": [1, 1, 1]}), ["frequency"])

    assert matrix.values.tolist() == [[0.0], [0.0], [0.0]]


def test_choose_k_finds_three_well_separated_groups_and_returns_the_curve():
    features, _ = _blobs()
    matrix = prepare_matrix(features)

    choice = choose_k(matrix.values, k_range=range(2, 6))

    assert choice.k == 3
    assert sorted(choice.silhouette) == [2, 3, 4, 5]
    assert choice.silhouette[3] == max(choice.silhouette.values())


def test_choose_k_skips_a_k_whose_smallest_cluster_is_below_the_minimum_share():
    rng = np.random.default_rng(0)
    # Two tight groups of 60 plus one far outlier: k=3 isolates the outlier (1/121 < 2 %).
    X = np.vstack([rng.normal(0, 0.1, (60, 2)), rng.normal(5, 0.1, (60, 2)), [[50.0, 50.0]]])

    loose = choose_k(X, k_range=[2, 3], min_share=0.0)
    strict = choose_k(X, k_range=[2, 3], min_share=0.02)

    assert loose.smallest_share[3] == pytest.approx(1 / 121)
    assert strict.k == 2


def test_choose_k_falls_back_to_the_smallest_k_when_every_k_leaves_a_tiny_cluster():
    X = np.vstack(
        [np.zeros((50, 2)), [[10.0, 10.0]], [[-10.0, 10.0]], [[10.0, -10.0]], [[-10.0, -10.0]]]
    )

    choice = choose_k(X, k_range=[3, 4], min_share=0.05)

    assert choice.k == 3
    assert "smallest" in choice.reason


def test_choose_k_with_too_few_customers_does_not_fail():
    choice = choose_k(np.array([[0.0], [1.0]]), k_range=range(3, 9))

    assert choice.k == 2
    assert choice.silhouette == {}


def test_kmeans_recovers_the_groups_with_sizes_and_original_unit_centroids():
    features, truth = _blobs()
    matrix = prepare_matrix(
        features, ["recency_days", "frequency", "avg_order_value", "tenure_days"]
    )

    fit = fit_kmeans(matrix, 3)

    assert sorted(fit.sizes.tolist()) == [30, 30, 30]
    assert pd.crosstab(fit.labels, truth).max(axis=1).tolist() == [30, 30, 30]
    most_frequent = fit.centroids["frequency"].idxmax()
    assert fit.centroids.loc[most_frequent, "frequency"] == pytest.approx(12, rel=0.1)
    assert fit.centroids.loc[most_frequent, "recency_days"] == pytest.approx(5, rel=0.15)
    assert fit.inertia > 0


def test_ward_on_a_sample_agrees_with_kmeans_on_clear_groups():
    features, _ = _blobs()
    matrix = prepare_matrix(features)
    fit = fit_kmeans(matrix, 3)

    comparison = ward_on_sample(matrix.values, 3, kmeans_labels=fit.labels, sample_size=60)

    assert len(comparison.sample_positions) == 60
    assert comparison.adjusted_rand == pytest.approx(1.0)


def test_matching_recovers_previous_ids_for_shuffled_centroids():
    previous = pd.DataFrame({"x": [0.0, 5.0, 10.0], "y": [0.0, 5.0, 10.0]}, index=[7, 8, 9])
    new = pd.DataFrame({"x": [10.2, 0.1, 4.9], "y": [9.9, -0.2, 5.1]}, index=[0, 1, 2])

    assert match_to_previous(new, previous) == {0: 9, 1: 7, 2: 8}


def test_matching_gives_extra_new_clusters_fresh_ids():
    previous = pd.DataFrame({"x": [0.0, 10.0]}, index=[0, 1])
    new = pd.DataFrame({"x": [10.0, 50.0, 0.0]}, index=[0, 1, 2])

    assert match_to_previous(new, previous) == {0: 1, 2: 0, 1: 2}


def test_matching_without_a_previous_run_keeps_labels():
    new = pd.DataFrame({"x": [1.0, 2.0]}, index=[0, 1])

    assert match_to_previous(new, new.iloc[0:0]) == {0: 0, 1: 1}


def test_clusters_are_named_by_their_members_facts():
    features, truth = _blobs()

    names = {label: d.name for label, d in cluster_names(features, truth).items()}

    # champions: ~5 days, ~12 orders; lapsed: ~400 days (11-15 months), 1 order;
    # newcomers: ~10 days, 1 order
    assert names == {0: "Recent, frequent", 1: "Last order 12–14 months ago, 1 order",
                     2: "Recent, 1 order"}


def test_a_shop_where_everyone_left_long_ago_has_no_recent_cluster():
    # given: the shop, every customer 255-1,000+ days since the last order;
    # the nearest cluster was called "Recent, frequent" for being nearer than the rest
    rng = np.random.default_rng(3)
    near = pd.DataFrame({"recency_days": rng.uniform(255, 496, 60), "frequency": 5.0,
                         "monetary": 300.0})
    far = pd.DataFrame({"recency_days": rng.uniform(900, 1400, 60), "frequency": 1.0,
                        "monetary": 30.0})
    features = pd.concat([near, far], ignore_index=True)
    labels = np.array([0] * 60 + [1] * 60)

    names = cluster_names(features, labels)

    assert not any("recent" in d.name.lower() for d in names.values())
    for label, orders in ((0, "frequent"), (1, "1 order")):
        found = re.fullmatch(r"Last order (\d+)–(\d+) months ago, " + orders, names[label].name)
        assert found, names[label].name
        # the months named are the middle half of the members' days, to the nearest month
        days = features.loc[labels == label, "recency_days"]
        assert abs(int(found[1]) - days.quantile(0.25) / 30.44) <= 0.5
        assert abs(int(found[2]) - days.quantile(0.75) / 30.44) <= 0.5


@pytest.mark.parametrize("recency, orders", [
    (RECENT_MAX_DAYS, FREQUENT_MIN_ORDERS), (RECENT_MAX_DAYS + 1, FREQUENT_MIN_ORDERS - 1),
    (0, 1), (10_404, 1), (30, 2), (400, 40),
])
def test_each_word_of_a_name_holds_for_the_members_median_in_absolute_terms(recency, orders):
    # given: clusters around an adversarial point and a far-away contrast cluster
    features = pd.DataFrame({
        "recency_days": [recency, recency, recency + 1, 5_000, 5_000],
        "frequency": [orders, orders, orders, 100, 100],
        "monetary": [50.0, 60, 70, 9_000, 9_000],
    })

    name = cluster_names(features, np.array([0, 0, 0, 1, 1]))[0].name.lower()

    assert ("recent" in name) == (recency <= RECENT_MAX_DAYS)
    assert ("frequent" in name) == (orders >= FREQUENT_MIN_ORDERS)
    if orders < FREQUENT_MIN_ORDERS:
        assert (f"{orders} order" in name)


def test_clusters_that_would_share_a_name_are_told_apart_by_their_spend():
    features = pd.DataFrame({"recency_days": [10.0] * 6, "frequency": [1] * 6,
                             "monetary": [10.0, 12, 14, 500, 520, 540]})

    names = cluster_names(features, np.array([0, 0, 0, 1, 1, 1]))

    assert names[0].name == "Recent, 1 order, spend 11–13"
    assert names[1].name == "Recent, 1 order, spend 510–530"


def test_the_description_gives_the_members_medians_beside_the_shops():
    features, truth = _blobs()

    lapsed = cluster_names(features, truth)[1].description

    median = features.loc[truth == 1, "recency_days"].median()
    assert f"last order {median:,.0f} days ago (median" in lapsed


def test_fewest_clusters_win_among_silhouettes_within_the_tie():
    assert stable_best_k({4: 0.50, 7: 0.50 + SILHOUETTE_TIE / 2}) == 4
    assert stable_best_k({4: 0.50, 7: 0.50 + SILHOUETTE_TIE * 2}) == 7
    assert stable_best_k({3: 0.2, 4: 0.6, 5: 0.6}) == 4


def test_choose_k_takes_the_fewest_clusters_within_the_tie_and_says_which_rule_chose():
    features, _ = _blobs()
    matrix = prepare_matrix(features)

    choice = choose_k(matrix.values, k_range=range(2, 6))

    best = max(choice.silhouette.values())
    if choice.silhouette[choice.k] < best:
        assert "within 0.01 of the best" in choice.reason
    else:
        assert "has the best silhouette" in choice.reason
    assert choice.silhouette[choice.k] >= best - SILHOUETTE_TIE
    assert choice.k == min(k for k, v in choice.silhouette.items() if v >= best - SILHOUETTE_TIE)


def test_the_same_customers_in_another_row_order_get_the_same_clusters():
    features, _ = _blobs()
    shuffled = features.sample(frac=1.0, random_state=0)

    first = fit_kmeans(prepare_matrix(features), 3)
    second = fit_kmeans(prepare_matrix(shuffled), 3)

    by_customer = pd.Series(second.labels, index=shuffled.index).reindex(features.index)
    assert (by_customer.to_numpy() == first.labels).all()
    # numbered by centroid: cluster 0 is the most recent
    assert list(first.centroids["recency_days"]) == sorted(first.centroids["recency_days"])


def test_a_rule_describes_its_cluster_only_above_the_coverage_and_precision_thresholds():
    features = pd.DataFrame({"frequency": [1, 2, 3, 4, 5, 6, 7, 8] * 4})
    clean = (features["frequency"] >= 5).astype(int).to_numpy()
    noise = np.random.default_rng(0).integers(0, 2, len(features))

    assert all(r.describes for r in cluster_rules(features, clean, max_depth=2).values())
    assert not all(r.describes for r in cluster_rules(features, noise, max_depth=2).values())


def test_rules_read_as_friendly_thresholds_with_coverage_and_precision():
    features = pd.DataFrame(
        {
            "frequency": [1, 2, 3, 4, 5, 6, 7, 8],
            "recency_days": [50.0, 10.0, 40.0, 20.0, 30.0, 60.0, 5.0, 70.0],
        }
    )
    labels = (features["frequency"] >= 4).astype(int).to_numpy()

    rules = cluster_rules(features, labels, max_depth=2)

    assert rules[1].text == "orders ≥ 4"
    assert rules[0].text == "orders ≤ 3"
    assert (rules[1].coverage, rules[1].precision, rules[1].support) == (1.0, 1.0, 5)


def test_rules_for_imperfect_clusters_report_partial_precision():
    features = pd.DataFrame({"frequency": [1, 1, 1, 1, 2, 2, 2, 2]})
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 0])

    rules = cluster_rules(features, labels, max_depth=1)

    assert rules[0].text == "orders ≤ 1"
    assert rules[0].precision == pytest.approx(0.75)
    assert rules[0].coverage == pytest.approx(0.75)


def test_kmeans_started_from_a_samples_centroids_finds_the_same_clusters_as_ten_restarts():
    features, _ = _blobs(per_group=200)
    matrix = prepare_matrix(
        features, ["recency_days", "frequency", "avg_order_value", "tenure_days"]
    )
    sample = matrix.values[np.random.default_rng(0).choice(len(features), 120, replace=False)]
    selection = choose_k(sample, k_range=[3], n_init=3)

    # when
    warm = fit_kmeans(matrix, 3, init=selection.centroids[3])
    restarts = fit_kmeans(matrix, 3)

    # then
    assert pd.crosstab(warm.labels, restarts.labels).max(axis=1).tolist() == [200, 200, 200]
    assert warm.inertia == pytest.approx(restarts.inertia, rel=1e-9)


def test_choose_k_with_three_restarts_picks_the_same_k_and_silhouette_as_ten():
    features, _ = _blobs(per_group=200)
    X = prepare_matrix(features).values

    few, many = choose_k(X, range(3, 6), n_init=3), choose_k(X, range(3, 6), n_init=10)

    assert few.k == many.k == 3
    assert few.silhouette[3] == pytest.approx(many.silhouette[3], abs=0.001)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_silhouette_from_distances_equals_scikit_learns(k):
    from scipy.spatial.distance import cdist
    from sklearn.metrics import silhouette_score

    from segments.analysis.clustering import silhouette_from_distances

    rng = np.random.default_rng(k)
    X = rng.normal(size=(300, 4))
    labels = rng.integers(0, k, size=300)
    labels[0] = k  # a one-member cluster scores 0, as in scikit-learn

    ours = silhouette_from_distances(cdist(X, X), labels)

    assert ours == pytest.approx(silhouette_score(X, labels), abs=1e-12)


def _claims(name_parts: list[str]):
    """The claims cluster_names makes for members whose middle half is these facts."""
    rows = {
        "recent": {"recency_days": [10.0, 20, 30, 40]},
        "frequent": {"frequency": [4, 5, 6, 7]},
        "last order 5–12 months ago": {"recency_days": [150.0, 160, 360, 370]},
        "1 order": {"frequency": [1, 1, 1, 1]},
        "2–3 orders": {"frequency": [2, 2, 3, 3]},
    }
    frame = pd.DataFrame({k: v for part in name_parts for k, v in rows[part].items()})
    return cluster_names(frame, np.zeros(len(frame), dtype=int))[0]


@pytest.mark.parametrize("parts, facts, untrue", [
    (["recent", "frequent"], {"recency_days": 208.0, "frequency": 14, "monetary": 891.0},
     ("recency_days",)),
    # 90.6 days is shown as "90 days ago": recent
    (["recent", "frequent"], {"recency_days": 90.6, "frequency": 4, "monetary": 1.0}, ()),
    (["recent", "frequent"], {"recency_days": 20.0, "frequency": 2, "monetary": 9.0},
     ("frequency",)),
    (["last order 5–12 months ago", "2–3 orders"],
     {"recency_days": 400.0, "frequency": 4, "monetary": 44.0}, ("recency_days", "frequency")),
    (["last order 5–12 months ago", "2–3 orders"],
     {"recency_days": 5 * 30.44, "frequency": 2, "monetary": 44.0}, ()),
    (["recent", "1 order"], {"recency_days": 91.0, "frequency": 2, "monetary": 5.0},
     ("recency_days", "frequency")),
])
def test_a_member_is_told_which_facts_differ_from_their_clusters_name(parts, facts, untrue):
    described = _claims(parts)

    assert described.name.lower() == ", ".join(parts)  # the claims are of this very name
    assert claims_untrue(described.claims, facts) == untrue


def test_a_spend_range_in_a_name_is_claimed_too():
    claims = [NameClaim(fact="monetary", low=1_020.0, high=1_450.0)]

    assert claims_untrue(claims, {"monetary": 1_451.0}) == ("monetary",)
    assert claims_untrue(claims, {"monetary": 1_450.0}) == ()
    assert claims_untrue([], {"monetary": 1.0}) == ()
