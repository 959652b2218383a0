import numpy as np
import pandas as pd
import pytest

from segments.analysis.clustering import (
    choose_k,
    cluster_rules,
    describe_centroid,
    fit_kmeans,
    match_to_previous,
    prepare_matrix,
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


def test_centroids_are_named_by_where_they_sit_against_all_customers():
    features, _ = _blobs()

    best = describe_centroid(
        pd.Series(
            dict(
                zip(
                    ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"],
                    [5.0, 12, 1440.0, 120.0, 700.0],
                )
            )
        ),
        features,
    )
    lapsed = describe_centroid(
        pd.Series({"recency_days": 400.0, "frequency": 1, "monetary": 25.0}), features
    )

    assert best.name == "Recent, frequent, high spend"
    assert lapsed.name == "Lapsed, one-off, low spend"
    assert "last order 5 days ago" in best.description


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
