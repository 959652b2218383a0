"""Purchase propensity: the chance a customer orders within the next ``horizon_days``.

Everything is split by time, never at random: features use orders at or before a
cutoff and the label is "ordered in (cutoff, cutoff + horizon]". To evaluate without
leakage the model is trained at ``cutoff - horizon`` (its labels end at ``cutoff``)
and evaluated at ``cutoff``, whose labels the model has never seen. The same
evaluation set also ranks customers by BG/NBD expected purchases and by plain
recency, so the page can say whether the model beats the simple answers.

The model is a logistic regression on log1p, standardised features: small shops have
a few hundred customers, where it is as good as boosting, better calibrated, and
cannot memorise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segments.analysis.clv import expected_purchases, fit_bgnbd, summary_from_orders
from segments.analysis.features import FEATURE_COLUMNS, align_timestamp, customer_features


class InsufficientHistory(ValueError):
    """Raised when a split has one class only, so nothing can be learned or measured."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RankingMetrics:
    auc: float
    precision_at: dict[float, float]  # top share -> share of them who bought
    recall_at: dict[float, float]  # top share -> share of buyers found there


@dataclass(frozen=True, kw_only=True, slots=True)
class PropensityEvaluation:
    train_cutoff: pd.Timestamp
    eval_cutoff: pd.Timestamp
    horizon_days: int
    train_customers: int
    eval_customers: int
    base_rate: float  # share of evaluation customers who bought
    model: RankingMetrics
    roc_fpr: list[float]
    roc_tpr: list[float]
    calibration_predicted: list[float]
    calibration_observed: list[float]
    bgnbd: RankingMetrics | None  # None when BG/NBD could not be fitted
    recency: RankingMetrics
    winner: str  # "model", "bgnbd" or "recency": highest AUC


def build_propensity_dataset(
    orders: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int = 90
) -> pd.DataFrame:
    """Features as of ``cutoff`` plus ``label`` (1 = ordered in (cutoff, cutoff + horizon])."""
    cutoff = align_timestamp(cutoff, orders["ordered_at"])
    features = customer_features(orders, as_of=cutoff)
    window_end = cutoff + pd.Timedelta(days=horizon_days)
    in_window = orders.loc[(orders["ordered_at"] > cutoff) & (orders["ordered_at"] <= window_end)]
    buyers = set(in_window["customer_id"].unique())
    return features.assign(label=features.index.isin(buyers).astype("int64"))


def _log1p_nonnegative(X: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(X, 0, None))


def _model() -> Pipeline:
    # A module-level function, not a lambda, keeps the pipeline picklable.
    return make_pipeline(
        FunctionTransformer(_log1p_nonnegative),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


def _fit(dataset: pd.DataFrame) -> Pipeline:
    if dataset["label"].nunique() < 2:
        raise InsufficientHistory("Training period has only buyers or only non-buyers.")
    return _model().fit(dataset[list(FEATURE_COLUMNS)].to_numpy(dtype=float), dataset["label"])


def _ranking_metrics(y: np.ndarray, score: np.ndarray, shares: tuple[float, ...]) -> RankingMetrics:
    order = np.argsort(-score, kind="stable")
    positives = max(int(y.sum()), 1)
    precision, recall = {}, {}
    for share in shares:
        top = y[order[: max(1, int(np.ceil(share * len(y))))]]
        precision[share] = float(top.mean())
        recall[share] = float(top.sum() / positives)
    return RankingMetrics(
        auc=float(roc_auc_score(y, score)), precision_at=precision, recall_at=recall
    )


def _bgnbd_scores(
    orders: pd.DataFrame, cutoff: pd.Timestamp, index: pd.Index, horizon_days: int
) -> np.ndarray | None:
    summary = summary_from_orders(orders, calibration_end=cutoff, period_days=7.0).reindex(index)
    if (summary["frequency"] > 0).sum() < 2:
        return None
    params = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    # The conditional expectation already equals P(alive) x expected orders if alive.
    return expected_purchases(
        horizon_days / 7.0, params, summary["frequency"], summary["recency"], summary["T"]
    )


def evaluate_propensity(
    orders: pd.DataFrame,
    *,
    cutoff: pd.Timestamp | None = None,
    horizon_days: int = 90,
    top_shares: tuple[float, ...] = (0.1, 0.2),
) -> PropensityEvaluation:
    """Train at ``cutoff - horizon``, evaluate at ``cutoff`` (default: the newest cutoff
    whose label window is fully observed)."""
    horizon = pd.Timedelta(days=horizon_days)
    eval_cutoff = (
        orders["ordered_at"].max() - horizon
        if cutoff is None
        else align_timestamp(cutoff, orders["ordered_at"])
    )
    train_cutoff = eval_cutoff - horizon
    train = build_propensity_dataset(orders, train_cutoff, horizon_days)
    evaluation = build_propensity_dataset(orders, eval_cutoff, horizon_days)
    if train.empty or evaluation["label"].nunique() < 2:
        raise InsufficientHistory("Evaluation period has only buyers or only non-buyers.")
    model = _fit(train)
    y = evaluation["label"].to_numpy()
    score = model.predict_proba(evaluation[list(FEATURE_COLUMNS)].to_numpy(dtype=float))[:, 1]
    fpr, tpr, _ = roc_curve(y, score)
    observed, predicted = calibration_curve(
        y, score, n_bins=min(10, max(2, len(y) // 10)), strategy="quantile"
    )
    bgnbd_score = _bgnbd_scores(orders, eval_cutoff, evaluation.index, horizon_days)
    results = {
        "model": _ranking_metrics(y, score, top_shares),
        "bgnbd": None if bgnbd_score is None else _ranking_metrics(y, bgnbd_score, top_shares),
        "recency": _ranking_metrics(y, -evaluation["recency_days"].to_numpy(), top_shares),
    }
    winner = max(
        (name for name, m in results.items() if m is not None), key=lambda name: results[name].auc
    )
    return PropensityEvaluation(
        train_cutoff=train_cutoff,
        eval_cutoff=eval_cutoff,
        horizon_days=horizon_days,
        train_customers=len(train),
        eval_customers=len(evaluation),
        base_rate=float(y.mean()),
        model=results["model"],
        roc_fpr=fpr.tolist(),
        roc_tpr=tpr.tolist(),
        calibration_predicted=predicted.tolist(),
        calibration_observed=observed.tolist(),
        bgnbd=results["bgnbd"],
        recency=results["recency"],
        winner=winner,
    )


def score_customers(
    orders: pd.DataFrame, *, as_of: pd.Timestamp | None = None, horizon_days: int = 90
) -> pd.DataFrame:
    """Current propensity per customer: trained at ``as_of - horizon`` (the latest cutoff
    with a complete label window), applied to features as of ``as_of``."""
    as_of = (
        orders["ordered_at"].max()
        if as_of is None
        else align_timestamp(as_of, orders["ordered_at"])
    )
    model = _fit(
        build_propensity_dataset(orders, as_of - pd.Timedelta(days=horizon_days), horizon_days)
    )
    current = customer_features(orders, as_of=as_of)
    probability = model.predict_proba(current[list(FEATURE_COLUMNS)].to_numpy(dtype=float))[:, 1]
    return pd.DataFrame({"propensity": probability}, index=current.index)


def percent_below(values: pd.Series) -> pd.Series:
    """Per value, the share (0..100) of the other values that are strictly lower.

    "More likely than X% of customers" must be true at ties and ends: the top
    customer is above everyone but themselves (never 100%), tied customers get the
    same share, and the lowest (or all tied) get 0. Missing values stay missing.
    """
    count = values.notna().sum()
    if count == 0:
        return values.astype(float)
    return (values.rank(method="min") - 1) / count * 100
