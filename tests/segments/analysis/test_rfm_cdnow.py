from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.analysis.features import customer_features
from segments.analysis.rfm import assign_rfm_segments, rfm_scores

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "value"])
    return pd.DataFrame({
        "customer_id": raw["customer_id"],
        "order_id": range(len(raw)),
        "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
        "net_total": raw["value"],
    })


def _segments(orders: pd.DataFrame) -> pd.Series:
    return assign_rfm_segments(rfm_scores(customer_features(orders)))


def test_no_cdnow_customers_segment_depends_on_the_order_of_customer_ids(cdnow_orders):
    # given the same shop with every customer id shuffled
    ids = np.sort(cdnow_orders["customer_id"].unique())
    shuffled = dict(zip(ids, np.random.default_rng(3).permutation(ids), strict=True))
    relabelled = cdnow_orders.assign(customer_id=cdnow_orders["customer_id"].map(shuffled))

    # when both are segmented
    before = _segments(cdnow_orders)
    after = _segments(relabelled)

    # then every customer keeps their segment
    after_by_original = after.rename(index={new: old for old, new in shuffled.items()})
    changed = (before != after_by_original.reindex(before.index)).sum()
    assert changed == 0


def test_every_one_order_cdnow_customer_scores_f_one(cdnow_orders):
    features = customer_features(cdnow_orders)

    scores = rfm_scores(features)

    one_order = features["frequency"] == 1
    assert one_order.mean() > 0.4  # the premise: most CDNOW customers buy once or twice
    assert scores.loc[one_order, "f_score"].unique().tolist() == [1]
