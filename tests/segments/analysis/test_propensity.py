import math

import numpy as np
import pandas as pd
import pytest

from segments.analysis.propensity import (
    InsufficientHistory,
    build_propensity_dataset,
    evaluate_propensity,
    score_customers,
)

START = pd.Timestamp("2023-01-01")
END = pd.Timestamp("2024-12-31")


def _orders(rows: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "order_id": range(len(rows)),
            "ordered_at": pd.to_datetime([d for _, d in rows], format="ISO8601"),
            "net_total": 20.0,
        }
    )


def _shop(customers: int = 200, seed: int = 7) -> pd.DataFrame:
    # Each customer buys at their own rate until they silently churn: the textbook
    # BG/NBD world, where recency and frequency carry the signal.
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        start = START + pd.Timedelta(days=int(rng.integers(0, 300)))
        churn = start + pd.Timedelta(days=float(rng.exponential(400)))
        gap = float(rng.choice([15, 40, 120]))
        moment = start
        while moment <= min(churn, END):
            rows.append((customer, moment))
            moment += pd.Timedelta(days=float(rng.exponential(gap)))
    frame = pd.DataFrame(rows, columns=["customer_id", "ordered_at"])
    return frame.assign(order_id=range(len(frame)), net_total=25.0)


def test_labels_cover_the_horizon_after_the_cutoff_inclusive_of_its_last_day():
    orders = _orders(
        [
            (1, "2024-01-01"),
            (1, "2024-03-31"),  # exactly cutoff + 90 days: bought
            (2, "2024-01-01"),
            (2, "2024-04-01"),  # one day too late: not bought
            (3, "2024-01-01"),
            (3, "2024-01-01 00:00:01"),  # one second after cutoff: bought
            (4, "2024-02-01"),  # first order after the cutoff: not a customer yet
        ]
    )

    dataset = build_propensity_dataset(orders, pd.Timestamp("2024-01-01"), horizon_days=90)

    assert dataset["label"].to_dict() == {1: 1, 2: 0, 3: 1}


def test_features_ignore_everything_after_the_cutoff():
    orders = _orders([(1, "2024-01-01"), (1, "2024-01-10")])
    later = pd.concat([orders, _orders([(1, "2024-02-01"), (1, "2024-05-01")])], ignore_index=True)
    cutoff = pd.Timestamp("2024-01-15")

    before = build_propensity_dataset(orders, cutoff).drop(columns="label")
    after = build_propensity_dataset(later, cutoff).drop(columns="label")

    pd.testing.assert_frame_equal(before, after)


def test_evaluation_trains_one_horizon_before_the_evaluation_cutoff():
    orders = _shop()

    result = evaluate_propensity(orders, cutoff=pd.Timestamp("2024-09-01"), horizon_days=90)

    assert result.eval_cutoff == pd.Timestamp("2024-09-01")
    assert result.train_cutoff == pd.Timestamp("2024-06-03")
    assert 0 < result.base_rate < 1


def test_the_model_ranks_buyers_well_and_reports_comparable_baselines():
    result = evaluate_propensity(_shop(), horizon_days=90)

    assert result.model.auc > 0.75
    assert result.bgnbd is not None and result.bgnbd.auc > 0.7
    assert result.recency.auc > 0.6
    aucs = {"model": result.model.auc, "bgnbd": result.bgnbd.auc, "recency": result.recency.auc}
    assert result.winner == max(aucs, key=aucs.get)


def test_top_share_precision_beats_the_base_rate_and_recall_grows_with_the_share():
    result = evaluate_propensity(_shop(), horizon_days=90)

    assert result.model.precision_at[0.1] > result.base_rate
    assert result.model.recall_at[0.1] < result.model.recall_at[0.2] <= 1.0


def test_roc_and_calibration_curves_are_chart_ready():
    result = evaluate_propensity(_shop(), horizon_days=90)

    assert (result.roc_fpr[0], result.roc_tpr[0], result.roc_fpr[-1], result.roc_tpr[-1]) == (
        0,
        0,
        1,
        1,
    )
    assert len(result.calibration_predicted) == len(result.calibration_observed) >= 2
    assert all(0 <= p <= 1 for p in result.calibration_predicted + result.calibration_observed)


def test_current_scores_favour_active_customers_over_long_silent_ones():
    orders = _shop()
    active = pd.concat(
        [
            orders,
            pd.DataFrame(
                {
                    "customer_id": 999,
                    "ordered_at": pd.date_range("2024-06-01", "2024-12-30", freq="14D"),
                }
            ).assign(order_id=lambda f: range(10_000, 10_000 + len(f)), net_total=25.0),
        ],
        ignore_index=True,
    )
    silent = pd.DataFrame(
        {
            "customer_id": 998,
            "ordered_at": [pd.Timestamp("2023-02-01")],
            "order_id": [20_000],
            "net_total": [25.0],
        }
    )

    scores = score_customers(pd.concat([active, silent], ignore_index=True))

    assert scores["propensity"].between(0, 1).all()
    assert scores.loc[999, "propensity"] > 0.5 > scores.loc[998, "propensity"]


def test_a_period_where_everyone_bought_cannot_be_evaluated():
    orders = _orders([(1, "2024-01-01"), (1, "2024-03-01"), (1, "2024-05-01"), (1, "2024-07-01")])

    with pytest.raises(InsufficientHistory):
        evaluate_propensity(orders, horizon_days=90)


def test_percent_below_counts_only_strictly_lower_customers_at_ties_and_ends():
    from segments.analysis.propensity import percent_below

    chances = pd.Series([0.9, 0.5, 0.1, 0.5, float("nan")])

    below = percent_below(chances)

    # by hand: of the 4 scored, 3 are below 0.9, 1 below each 0.5, none below 0.1
    assert below.iloc[:4].tolist() == [75.0, 25.0, 0.0, 25.0]
    assert math.isnan(below.iloc[4])
    assert percent_below(pd.Series([0.3] * 5)).tolist() == [0.0] * 5
