"""A random forest that learns the segment from features, for two uses: scoring new
customers between reclustering runs, and telling the owner which features define
the segments (importances). Metrics come from a stratified held-out split only;
scores on training rows would flatter a forest to ~100 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split


@dataclass(frozen=True, kw_only=True, slots=True)
class ClassMetrics:
    precision: float
    recall: float
    support: int


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class SegmentClassifier:
    columns: tuple[str, ...]
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion_labels: list[str]
    confusion: list[list[int]]  # rows = true label, columns = predicted, in confusion_labels order
    feature_importances: dict[str, float]
    test_size: int
    model: RandomForestClassifier

    def predict(self, features: pd.DataFrame) -> pd.Series:
        predicted = self.model.predict(features[list(self.columns)].to_numpy(dtype=float))
        return pd.Series(predicted, index=features.index, name="segment")


def train_segment_classifier(
    features: pd.DataFrame,
    labels: Sequence[object] | pd.Series | np.ndarray,
    *,
    columns: Sequence[str] | None = None,
    test_share: float = 0.25,
    random_state: int = 0,
) -> SegmentClassifier:
    columns = list(columns or [c for c in features.columns if features[c].notna().all()])
    X = features[columns].to_numpy(dtype=float)
    y = np.asarray(labels).astype(str)
    classes, counts = np.unique(y, return_counts=True)
    # Stratifying needs two members per class and a test set that can hold every class.
    n_test = max(round(test_share * len(y)), len(classes))
    stratify = y if counts.min() >= 2 and n_test <= len(y) - len(classes) else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=n_test, stratify=stratify, random_state=random_state
    )
    model = RandomForestClassifier(
        n_estimators=200, random_state=random_state, n_jobs=1, class_weight="balanced"
    ).fit(X_train, y_train)
    predicted = model.predict(X_test)
    precision, recall, _, support = precision_recall_fscore_support(
        y_test, predicted, labels=classes, zero_division=0
    )
    return SegmentClassifier(
        columns=tuple(columns),
        accuracy=float(accuracy_score(y_test, predicted)),
        macro_f1=float(
            f1_score(y_test, predicted, labels=classes, average="macro", zero_division=0)
        ),
        per_class={
            str(c): ClassMetrics(precision=float(p), recall=float(r), support=int(s))
            for c, p, r, s in zip(classes, precision, recall, support)
        },
        confusion_labels=[str(c) for c in classes],
        confusion=confusion_matrix(y_test, predicted, labels=classes).tolist(),
        feature_importances=dict(zip(columns, map(float, model.feature_importances_))),
        test_size=len(y_test),
        model=model,
    )
