import numpy as np
import pandas as pd
import pytest

from segments.analysis.classifier import train_segment_classifier


def _features_and_labels(n: int = 120) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    features = pd.DataFrame(
        {
            "frequency": rng.integers(1, 13, n),
            "recency_days": rng.uniform(0, 365, n),  # noise: the label ignores it
            "avg_order_value": rng.uniform(10, 100, n),  # noise as well
        }
    )
    # Segment depends on frequency only, so it must be the most important feature.
    labels = np.select(
        [features["frequency"] <= 4, features["frequency"] <= 8], ["low", "mid"], "high"
    )
    return features, labels


def test_metrics_come_from_a_held_out_quarter_not_the_training_rows():
    features, labels = _features_and_labels()

    result = train_segment_classifier(features, labels)

    assert result.test_size == 30
    assert sum(map(sum, result.confusion)) == 30


def test_a_learnable_segment_is_predicted_accurately_on_held_out_customers():
    features, labels = _features_and_labels()

    result = train_segment_classifier(features, labels)

    assert result.accuracy >= 0.9
    assert result.macro_f1 >= 0.85


def test_the_stratified_split_puts_every_segment_in_the_test_set():
    features, labels = _features_and_labels()

    result = train_segment_classifier(features, labels)

    assert result.confusion_labels == ["high", "low", "mid"]
    assert all(sum(row) > 0 for row in result.confusion)
    assert {name: m.support for name, m in result.per_class.items()} == {
        name: sum(row) for name, row in zip(result.confusion_labels, result.confusion)
    }


def test_importances_point_at_the_feature_that_defines_the_segments():
    features, labels = _features_and_labels()

    result = train_segment_classifier(features, labels)

    assert max(result.feature_importances, key=result.feature_importances.get) == "frequency"
    assert sum(result.feature_importances.values()) == pytest.approx(1.0)


def test_the_kept_model_predicts_segments_for_new_customers():
    features, labels = _features_and_labels()
    result = train_segment_classifier(features, labels)
    newcomers = pd.DataFrame(
        {"frequency": [1, 12], "recency_days": [5.0, 5.0], "avg_order_value": [50.0, 50.0]},
        index=pd.Index([501, 502], name="customer_id"),
    )

    predicted = result.predict(newcomers)

    assert predicted.to_dict() == {501: "low", 502: "high"}


def test_a_segment_with_a_single_member_does_not_break_training():
    features, labels = _features_and_labels(40)
    labels = labels.copy()
    labels[0] = "solo"

    result = train_segment_classifier(features, labels)

    assert "solo" in result.confusion_labels
    assert 0.0 <= result.accuracy <= 1.0


def test_placement_uses_the_forest_saved_as_bytes_and_fills_missing_features():
    from segments.analysis.classifier import model_from_bytes, model_to_bytes, place_customers

    rng = np.random.default_rng(3)
    features = pd.DataFrame({"frequency": rng.integers(1, 20, 400).astype(float),
                             "monetary": rng.gamma(2.0, 50.0, 400)})
    labels = np.where(features["frequency"] > 8, "cluster-1", "cluster-2")
    trained = train_segment_classifier(features, labels)
    restored = model_from_bytes(model_to_bytes(trained.model, key=KEY), key=KEY)
    newcomers = pd.DataFrame({"frequency": [2.0, 15.0, np.nan], "monetary": [30.0, 400.0, 80.0]},
                             index=[101, 102, 103])

    placed = place_customers(restored, newcomers, columns=trained.columns,
                             fill={"frequency": 15.0})

    assert placed.loc[101, "segment"] == "cluster-2"
    assert placed.loc[102, "segment"] == "cluster-1"
    assert placed.loc[103, "segment"] == "cluster-1"  # the missing frequency became 15
    expected = trained.model.predict_proba(
        np.array([[2.0, 30.0], [15.0, 400.0], [15.0, 80.0]])).max(axis=1)
    assert np.allclose(placed["probability"], expected)


KEY = b"an install's key, for tests"


class _RunsCode:
    """A pickle that, when loaded, creates a file: what a tampered row could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("signature", ["none", "wrong key", "tampered payload"])
def test_stored_model_bytes_are_never_unpickled_without_a_valid_signature(tmp_path, signature):
    import hashlib
    import hmac
    import io as _io

    import joblib

    from segments.analysis.classifier import UntrustedModel, model_from_bytes, model_to_bytes

    marker = tmp_path / "ran"
    buffer = _io.BytesIO()
    joblib.dump(_RunsCode(marker), buffer)
    evil = buffer.getvalue()
    honest = model_to_bytes(train_segment_classifier(
        pd.DataFrame({"x": np.arange(40.0)}), np.where(np.arange(40) > 20, "a", "b")).model, key=KEY)
    prefix = honest[: honest.index(b":") + 1]
    stored = {
        "none": evil,
        "wrong key": prefix + hmac.new(b"another install", evil, hashlib.sha256).digest() + evil,
        "tampered payload": honest[: len(prefix) + 32] + evil,
    }[signature]

    with pytest.raises(UntrustedModel):
        model_from_bytes(stored, key=KEY)
    assert not marker.exists()
