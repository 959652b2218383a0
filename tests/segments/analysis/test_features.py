import math

import pandas as pd
import pytest

from segments.analysis.features import ALL_COLUMNS, FEATURE_COLUMNS, customer_features


def _orders(rows: list[tuple], *, tz: str | None = None, returns: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_id", "ordered_at", "net_total", "returned_total"]
    )
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    if tz:
        frame["ordered_at"] = frame["ordered_at"].dt.tz_localize(tz)
    return frame if returns else frame.drop(columns="returned_total")


ROWS = [
    (1, 10, "2024-01-01", 100.0, 0.0),
    (1, 11, "2024-01-11", 50.0, 50.0),
    (1, 12, "2024-01-31", 30.0, 0.0),
    (2, 20, "2024-01-21", 200.0, 0.0),
]


@pytest.mark.parametrize(
    ("customer", "column", "expected"),
    [
        (1, "recency_days", 0.0),
        (1, "frequency", 3),
        (1, "monetary", 180.0),
        (1, "avg_order_value", 60.0),
        (1, "tenure_days", 30.0),
        (1, "mean_days_between_orders", 15.0),
        (1, "return_rate", 50.0 / 230.0),
        (2, "recency_days", 10.0),
        (2, "frequency", 1),
        (2, "monetary", 200.0),
        (2, "avg_order_value", 200.0),
        (2, "tenure_days", 10.0),
        (2, "return_rate", 0.0),
    ],
)
def test_each_feature_matches_the_hand_computed_value(customer, column, expected):
    features = customer_features(_orders(ROWS))

    assert features.loc[customer, column] == pytest.approx(expected)


def test_single_order_customers_have_no_mean_gap_between_orders():
    features = customer_features(_orders(ROWS))

    assert math.isnan(features.loc[2, "mean_days_between_orders"])


def test_the_table_has_every_documented_column_indexed_by_customer():
    features = customer_features(_orders(ROWS))

    assert list(features.columns) == list(ALL_COLUMNS)
    assert features.index.name == "customer_id"
    assert set(FEATURE_COLUMNS) <= set(features.columns)


def test_as_of_ignores_later_orders_and_counts_days_from_as_of():
    features = customer_features(_orders(ROWS), as_of=pd.Timestamp("2024-01-15"))

    assert list(features.index) == [1]
    assert features.loc[1, "frequency"] == 2
    assert features.loc[1, "recency_days"] == pytest.approx(4.0)
    assert features.loc[1, "tenure_days"] == pytest.approx(14.0)


def test_lines_of_one_order_count_as_one_order_with_their_summed_total():
    rows = [(1, 10, "2024-01-01", 30.0, 0.0), (1, 10, "2024-01-01", 20.0, 0.0)]

    features = customer_features(_orders(rows))

    assert features.loc[1, "frequency"] == 1
    assert features.loc[1, "monetary"] == pytest.approx(50.0)


def test_return_rate_is_zero_when_returns_are_not_supplied():
    features = customer_features(_orders(ROWS, returns=False))

    assert features["return_rate"].tolist() == [0.0, 0.0]


def test_day_counts_are_fractional():
    rows = [(1, 10, "2024-01-01 00:00", 10.0, 0.0), (1, 11, "2024-01-01 12:00", 10.0, 0.0)]

    features = customer_features(_orders(rows), as_of=pd.Timestamp("2024-01-02 00:00"))

    assert features.loc[1, "recency_days"] == pytest.approx(0.5)
    assert features.loc[1, "mean_days_between_orders"] == pytest.approx(0.5)


def test_timezone_aware_orders_give_the_same_features_as_naive_ones():
    aware = customer_features(
        _orders(ROWS, tz="Europe/Berlin"), as_of=pd.Timestamp("2024-02-01", tz="Europe/Berlin")
    )
    naive = customer_features(_orders(ROWS), as_of=pd.Timestamp("2024-02-01"))

    pd.testing.assert_frame_equal(aware, naive)


def test_a_naive_as_of_with_aware_orders_is_refused():
    with pytest.raises(ValueError, match="naive"):
        customer_features(_orders(ROWS, tz="UTC"), as_of=pd.Timestamp("2024-02-01"))


def _with_gross(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "ordered_at", "net_total",
                                        "returned_total", "gross_total"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def test_a_return_exported_as_its_own_order_is_not_a_purchase():
    # given customer 1 bought once (40.00) and sent it back three weeks later as a
    # return of its own (gross 0, net -40.00); customer 2 bought once, for as_of
    orders = _with_gross([
        (1, 10, "2024-01-01", 40.0, 0.0, 40.0),
        (1, 11, "2024-01-22", -40.0, 40.0, 0.0),
        (2, 20, "2024-03-01", 10.0, 0.0, 10.0),
    ])

    features = customer_features(orders)

    # then one order, nothing spent, and the last purchase is the purchase, not the return
    assert features.loc[1, "frequency"] == 1
    assert features.loc[1, "monetary"] == 0.0
    assert features.loc[1, "recency_days"] == 60.0
    assert features.loc[1, "tenure_days"] == 60.0
    assert math.isnan(features.loc[1, "mean_days_between_orders"])


def test_a_refund_only_customer_has_no_purchase_and_is_dated_by_the_refund():
    orders = _with_gross([
        (1, 10, "2024-01-01", -15.0, 0.0, -15.0),
        (2, 20, "2024-01-11", 10.0, 0.0, 10.0),
    ])

    features = customer_features(orders)

    assert features.loc[1, "frequency"] == 0
    assert features.loc[1, "monetary"] == -15.0
    assert features.loc[1, "avg_order_value"] == -15.0
    assert features.loc[1, "recency_days"] == 10.0


def test_an_order_returned_in_full_on_the_same_order_is_still_one_purchase():
    orders = _with_gross([(1, 10, "2024-01-01", 0.0, 25.0, 25.0)])

    features = customer_features(orders)

    assert features.loc[1, "frequency"] == 1
    assert features.loc[1, "monetary"] == 0.0
    assert features.loc[1, "return_rate"] == 1.0
