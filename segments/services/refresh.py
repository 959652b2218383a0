"""The full refresh: read the shop from PostgreSQL, run every analysis, save the results.

Each step is a pure function from ``segments.analysis``; this module only moves data
between the database and those functions, records metrics for the Models page, and
writes everything in one transaction so pages never see half a run. Basket rules and
recommendations are mined next, by the run's own job (segments.services.rules), which
the save queues.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils.translation import gettext_noop
from threadpoolctl import threadpool_limits

from profiler_site.core.jobs import job_progress
from profiler_site.core.shop import shop_profile
from segments import selectors
from segments.analysis.classifier import model_to_bytes, train_segment_classifier
from segments.analysis.clustering import (
    RULE_FOR_EVERYONE,
    KSelection,
    choose_k,
    cluster_names,
    cluster_rules,
    fit_kmeans,
    match_to_previous,
    prepare_matrix,
    ward_on_sample,
)
from segments.analysis.clv import ELIGIBLE_MODELS, PERIOD_DAYS, estimate_clv
from segments.analysis.features import ALL_COLUMNS
from segments.analysis.interests import category_counts, find_interests
from segments.analysis.overview import monthly_revenue, order_totals
from segments.analysis.propensity import (
    InsufficientHistory,
    evaluate_propensity,
    percent_below,
    score_customers,
)
from segments.analysis.rfm import (
    RFM_SEGMENTS,
    assign_rfm_segments,
    quintile_edges,
    rfm_scores,
)
from segments.models import (
    BasketRule,
    CustomerScore,
    InterestTopic,
    KMode,
    PlacementModel,
    Segment,
    SegmentationRun,
    SegmentKind,
    SegmentMembership,
)
from segments.services import db
from segments.services.placement import model_signing_key
from segments.services.rules import SAVE_LOCK, rule_mining_start

logger = logging.getLogger(__name__)

STEPS = 9
# Silhouette and the classifier are quadratic / slow in customers: above these sizes
# they work on a random sample (the page says so). K-means itself sees everyone.
K_SELECTION_SAMPLE = 20_000
CLASSIFIER_SAMPLE = 20_000
# k-means restarts per k on the selection sample: on the 1M-line benchmark shop (20k
# sampled customers) the best of 3 gave the same k and a silhouette curve within 0.001
# of the best of 10 (k = 8: 0.002).
K_SELECTION_RESTARTS = 3
# The depth-3 tree behind each cluster's rule learns its splits from a sample; the
# coverage and precision it reports are counted on everyone.
RULE_SAMPLE = 20_000
# LDA learns its topics from a sample; every customer's topics are then inferred.
INTEREST_SAMPLE = 5_000
ROC_POINTS = 200


@dataclass(kw_only=True)
class _Results:
    """What the analysis steps produce, gathered before the single save."""

    features: pd.DataFrame  # ALL_COLUMNS of analysis.features, index customer_id
    timestamps: pd.DataFrame  # first_order_at, last_order_at
    columns: dict[str, pd.Series] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    topics: list[InterestTopic] = field(default_factory=list)
    # (kind, key) -> (top products, top categories) of the segment's members
    top_sellers: dict[tuple[str, str], tuple[list, list]] = field(default_factory=dict)
    # The segment classifier, kept to place customers imported before the next run.
    placement: PlacementModel | None = None
    rfm_edges: dict[str, list[float | None]] = field(default_factory=dict)
    propensity_error: str | None = None
    selection: KSelection | None = None
    k: int = 0


def _step(run: SegmentationRun, index: int, phase: str) -> float:
    job_progress(job=run, processed=index, total=STEPS, phase=phase)
    return time.perf_counter()


def _sample_positions(n: int, size: int, seed: int = 0) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


# ----------------------------------------------------------------------- steps


def _rfm(results: _Results) -> None:
    scores = rfm_scores(results.features)
    results.rfm_edges = quintile_edges(results.features, scores)
    results.columns.update(
        r_score=scores["r_score"], f_score=scores["f_score"], m_score=scores["m_score"],
        rfm_key=assign_rfm_segments(scores),
    )


def _rfm_rule(slug: str) -> str:
    segment = RFM_SEGMENTS[slug]

    def span(values: frozenset[int]) -> str:
        low, high = min(values), max(values)
        return f"= {low}" if low == high else f"{low}–{high}"

    return f"R {span(segment.r_scores)} and average of F and M {span(segment.fm_scores)}"


def _previous_cluster_centroids(previous: SegmentationRun | None) -> pd.DataFrame:
    if previous is None:
        return pd.DataFrame()
    rows = {
        int(s.key.removeprefix("cluster-")): s.centroid
        for s in previous.segments.filter(kind=SegmentKind.CLUSTER)
        if s.centroid
    }
    return pd.DataFrame.from_dict(rows, orient="index") if rows else pd.DataFrame()


def _clusters(run: SegmentationRun, results: _Results, previous_centroids: pd.DataFrame) -> None:
    features = results.features
    matrix = prepare_matrix(features)
    positions = _sample_positions(len(features), K_SELECTION_SAMPLE)
    selection = choose_k(matrix.values[positions],
                         n_init=K_SELECTION_RESTARTS if len(positions) >= 5_000 else 10)
    k = selection.k
    reason = selection.reason
    if run.k_mode == KMode.FIXED and run.k_requested:
        distinct = len(np.unique(matrix.values, axis=0))
        k = max(1, min(int(run.k_requested), distinct, len(features)))
        reason = f"You chose k={run.k_requested}." + (
            f" Only {distinct:,} distinct customers, so k={k}." if k != run.k_requested else ""
        )
    if len(positions) < len(features):
        reason += f" Silhouette measured on a random sample of {len(positions):,} customers."
    fit = fit_kmeans(matrix, k, init=selection.centroids.get(k))
    results.selection, results.k = selection, k
    results.metrics["k_reason"] = reason

    if k >= 2 and len(features) > k:
        ward = ward_on_sample(matrix.values, k, kmeans_labels=fit.labels)
        results.metrics["ward"] = {
            "adjusted_rand": ward.adjusted_rand, "sample_size": len(ward.sample_positions),
        }

    if not previous_centroids.empty and set(matrix.columns) <= set(previous_centroids.columns):
        stable = match_to_previous(fit.centroids_scaled, matrix.transform(previous_centroids))
    else:
        # Ids start at 1 for people ("cluster-1"); later runs inherit them by matching.
        stable = {int(label): int(label) + 1 for label in fit.centroids.index}
    keys = {label: f"cluster-{sid}" for label, sid in stable.items()}
    results.columns["cluster_key"] = pd.Series(
        [keys[int(label)] for label in fit.labels], index=features.index, dtype=object
    )

    rules = (
        cluster_rules(features[[c for c in ALL_COLUMNS if features[c].notna().all()]], fit.labels,
                      fit_sample=RULE_SAMPLE)
        if k >= 2 else {}
    )
    names = cluster_names(features, fit.labels)
    for label in fit.centroids.index:
        description = names[int(label)]
        rule = rules.get(int(label))
        # A rule that misdescribes the cluster is not stored as its definition: the
        # pages say no short rule describes it (its coverage and precision are kept).
        rule_text = (rule.text if rule.describes else "") if rule else RULE_FOR_EVERYONE
        results.segments.append(
            Segment(
                kind=SegmentKind.CLUSTER,
                key=f"cluster-{stable[int(label)]}",
                name=description.name,
                description=description.description,
                rule_text=rule_text,
                rule_coverage=rule.coverage if rule else 1.0,
                rule_precision=rule.precision if rule else 1.0,
                centroid={c: float(v) for c, v in fit.centroids.loc[label].items()},
                name_claims=[asdict(claim) for claim in description.claims],
            )
        )


def _classifier(results: _Results) -> None:
    features = results.features
    labels = results.columns["cluster_key"]
    if labels.nunique() < 2 or len(features) < 20:
        results.metrics["classifier"] = {"skipped": "Too few customers or clusters to train on."}
        return
    positions = _sample_positions(len(features), CLASSIFIER_SAMPLE, seed=1)
    columns = [c for c in ALL_COLUMNS if features[c].notna().all()]
    training = features.iloc[positions][columns]
    model = train_segment_classifier(training, labels.iloc[positions].to_numpy(), columns=columns)
    results.placement = PlacementModel(
        columns=list(columns),
        fill={c: float(training[c].median()) for c in columns},
        model=model_to_bytes(model.model, key=model_signing_key()),
    )
    results.metrics["classifier"] = {
        "target": "cluster",
        "trained_on": len(positions),
        "sampled": bool(len(positions) < len(features)),
        "accuracy": model.accuracy,
        "macro_f1": model.macro_f1,
        "test_size": model.test_size,
        "per_class": {
            k: {"precision": m.precision, "recall": m.recall, "support": m.support}
            for k, m in model.per_class.items()
        },
        "confusion_labels": model.confusion_labels,
        "confusion": model.confusion,
        "feature_importances": model.feature_importances,
    }


def _clv(results: _Results, orders: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """The value columns, from the count model chosen on the shop's own holdout, and
    what the Models page shows of the choice (numbers and codes only: the page words
    them)."""
    index = results.features.index
    clv = estimate_clv(orders, as_of=as_of)
    info: dict[str, Any] = {
        "enough_history": clv.enough_history, "reason": clv.reason,
        "repeat_buyers": clv.repeat_buyers,
    }
    if clv.enough_history and clv.customers is not None:
        c = clv.customers.reindex(index)
        results.columns.update(
            p_alive=c["p_alive"],
            expected_orders_90=c["expected_orders_90"],
            expected_orders_365=c["expected_orders_365"],
            # NaN (stored as NULL) when the spend model could not be trusted.
            expected_value_12m=c["clv"],
        )
        info["period_days"] = PERIOD_DAYS
        info["model"] = {"chosen": str(clv.count_params.model), "basis": str(clv.choice_basis),
                         "params": dataclasses.asdict(clv.count_params)}
        spend = clv.spend
        info["spend"] = {
            "usable": spend.params is not None,
            "problem": None if spend.problem is None else str(spend.problem),
            "repeat_buyers": spend.repeat_buyers,
            "params": None if spend.params is None else dataclasses.asdict(spend.params),
        }
        if clv.holdout is not None:
            chosen = clv.holdout.chosen_check
            info["comparison"] = [
                {"model": str(check.model), "eligible": check.model in ELIGIBLE_MODELS,
                 "params": dataclasses.asdict(check.params),
                 "predicted_total": check.predicted_total, "actual_total": check.actual_total,
                 "rmse": check.rmse}
                for check in clv.holdout.checks
            ]
            by_frequency = chosen.by_frequency.to_dict(orient="list")
            by_frequency["predicted_by_model"] = {
                str(check.model): check.by_frequency["predicted"].tolist()
                for check in clv.holdout.checks}
            info["holdout"] = {
                "days": round(clv.holdout_days),
                "predicted_total": chosen.predicted_total,
                "actual_total": chosen.actual_total,
                "miss_share": chosen.miss_share,
                "misses_badly": chosen.misses_badly,
                "by_frequency": by_frequency,
            }
    results.metrics["clv"] = info


def _thin(xs: list[float], ys: list[float], points: int) -> tuple[list[float], list[float]]:
    if len(xs) <= points:
        return xs, ys
    keep = np.unique(np.linspace(0, len(xs) - 1, points).round().astype(int))
    return [xs[i] for i in keep], [ys[i] for i in keep]


def _ranking(m) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "auc": m.auc,
        "precision_at": {str(k): v for k, v in m.precision_at.items()},
        "recall_at": {str(k): v for k, v in m.recall_at.items()},
    }


def _propensity_scores(results: _Results, orders: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """Each customer's chance to buy (score columns). The model's evaluation, which only
    the Models page shows, runs apart: _propensity_evaluation."""
    try:
        scores = score_customers(orders, as_of=as_of)["propensity"].reindex(results.features.index)
    except (InsufficientHistory, ValueError) as exc:
        results.propensity_error = str(exc) or "Not enough history."
        return
    results.columns["propensity"] = scores
    results.columns["propensity_percentile"] = percent_below(scores)


def _propensity_evaluation(results: _Results, orders: pd.DataFrame) -> None:
    try:
        evaluation = evaluate_propensity(orders)
    except (InsufficientHistory, ValueError) as exc:
        results.metrics["propensity"] = {"enough_history": False,
                                         "reason": str(exc) or "Not enough history."}
        return
    fpr, tpr = _thin(evaluation.roc_fpr, evaluation.roc_tpr, ROC_POINTS)
    results.metrics["propensity"] = {
        "enough_history": True,
        "horizon_days": evaluation.horizon_days,
        "train_cutoff": evaluation.train_cutoff.isoformat(),
        "eval_cutoff": evaluation.eval_cutoff.isoformat(),
        "train_customers": evaluation.train_customers,
        "eval_customers": evaluation.eval_customers,
        "base_rate": evaluation.base_rate,
        "roc_fpr": fpr,
        "roc_tpr": tpr,
        "calibration_predicted": evaluation.calibration_predicted,
        "calibration_observed": evaluation.calibration_observed,
        "comparison": {
            "model": _ranking(evaluation.model),
            "bgnbd": _ranking(evaluation.bgnbd),
            "recency": _ranking(evaluation.recency),
        },
        "winner": evaluation.winner,
    }


def _propensity_settle(run: SegmentationRun, results: _Results) -> None:
    """After both halves (inside the save's transaction): scores only with a model whose
    evaluation passed, and the reason when there are none."""
    if results.propensity_error is not None and results.metrics["propensity"]["enough_history"]:
        results.metrics["propensity"] = {"enough_history": False,
                                         "reason": results.propensity_error}
    if not results.metrics["propensity"]["enough_history"] and "propensity" in results.columns:
        # Too little history to check the model (a small shop): its scores were written
        # with the others while it was being checked; take them back.
        CustomerScore.objects.filter(run=run).update(propensity=None, propensity_percentile=None)


def _interests(results: _Results, counts: pd.DataFrame) -> None:
    index = results.features.index
    fitted = find_interests(counts, fit_sample=INTEREST_SAMPLE)
    results.topics = [
        InterestTopic(topic_index=t.topic_id, name=t.name,
                      terms=[[term, weight] for term, weight in t.top_terms])
        for t in fitted.topics
    ]
    interests = fitted.customer_interests
    # One JSON list per customer, built column-wise: a row loop over 100k customers
    # (json.dumps each) costs more than the topic inference itself.
    quoted = {t.topic_id: json.dumps(t.name) for t in fitted.topics}
    items = pd.Series(
        [
            f'{{"topic": {int(topic)}, "name": {quoted[int(topic)]}, '
            f'"weight": {float(weight)!r}}}'
            for topic, weight in zip(interests["topic_id"], interests["weight"].round(3))
        ],
        index=interests["customer_id"].to_numpy(),
    )
    ranks = interests["rank"].to_numpy()
    joined = items[ranks == 1]
    for rank in range(2, int(ranks.max(initial=1)) + 1):
        more = items[ranks == rank].reindex(joined.index)
        joined = joined + (", " + more).fillna("")
    joined = "[" + joined + "]"
    results.columns["interests"] = joined.reindex(index, fill_value="[]")


def _segment_stats(results: _Results) -> None:
    f = results.features
    total_revenue = float(f["monetary"].sum()) or 1.0
    n = len(f)
    frames = {
        SegmentKind.RFM: results.columns["rfm_key"],
        SegmentKind.CLUSTER: results.columns["cluster_key"],
    }
    existing = {(s.kind, s.key): s for s in results.segments}
    for kind, keys in frames.items():
        grouped = f.groupby(keys.to_numpy())
        stats = grouped.agg(
            size=("frequency", "size"), revenue=("monetary", "sum"),
            recency=("recency_days", "mean"), frequency=("frequency", "mean"),
            monetary=("monetary", "mean"),
        )
        for key, row in stats.iterrows():
            segment = existing.get((kind, key))
            if segment is None:  # RFM segments are defined by the grid, not fitted
                info = RFM_SEGMENTS[key]
                segment = Segment(kind=kind, key=key, name=info.name,
                                  description=info.description, rule_text=_rfm_rule(key),
                                  rule_coverage=1.0, rule_precision=1.0)
                results.segments.append(segment)
            segment.size = int(row["size"])
            segment.share = row["size"] / n
            segment.revenue = round(float(row["revenue"]), 2)
            segment.revenue_share = float(row["revenue"]) / total_revenue
            segment.avg_recency_days = float(row["recency"])
            segment.avg_frequency = float(row["frequency"])
            segment.avg_monetary = float(row["monetary"])
            segment.top_products, segment.top_categories = results.top_sellers.get(
                (kind, key), ([], [])
            )


TOP_PRODUCTS = 10
TOP_CATEGORIES = 8


def _unknown_without_prices(sums: pd.DataFrame) -> pd.DataFrame:
    """Revenue NaN (unknown, shown as such) where no line had an amount of its own, not 0."""
    sums.loc[sums["priced"] == 0, "revenue"] = np.nan
    return sums


def _known(revenue: float) -> float | None:
    return None if np.isnan(revenue) else float(revenue)


def _segment_top_sellers(results: _Results, lines: pd.DataFrame, products: pd.DataFrame) -> None:
    """Per segment: best-selling products and categories of its members (for its page).

    Same numbers as selectors.segment_top_products / segment_top_categories: orders
    (distinct) and revenue over the members' purchased lines.
    """
    by_kind = {SegmentKind.RFM: results.columns["rfm_key"],
               SegmentKind.CLUSTER: results.columns["cluster_key"]}
    product_info = products.set_index("id")
    names = product_info["label"]
    # Group on integer codes, not on strings: pandas hashes object columns row by row.
    # Category codes follow the names' sorted order, so ties still break by name.
    category_of = product_info["category"].where(product_info["category"] != "", "(none)")
    category_names = np.unique(np.append(category_of.to_numpy(dtype=str), "(none)"))
    product_rows = product_info.index.get_indexer(lines["product_id"].to_numpy())
    product_category = np.searchsorted(category_names, category_of.to_numpy(dtype=str))
    none_code = int(np.searchsorted(category_names, "(none)"))
    category = np.where(product_rows >= 0, product_category[product_rows], none_code)
    customer_rows = results.features.index.get_indexer(lines["customer_id"].to_numpy())
    order_ids = lines["order_id"].to_numpy()
    product_ids = lines["product_id"].to_numpy()
    revenue = lines["line_total"].to_numpy(dtype=float)
    for kind, keys in by_kind.items():
        key_codes, key_names = pd.factorize(keys.to_numpy())
        member = np.where(customer_rows >= 0, key_codes[customer_rows], -1)
        keep = member >= 0
        frame = pd.DataFrame({"key": member[keep], "order_id": order_ids[keep],
                              "product_id": product_ids[keep], "category": category[keep],
                              "revenue": revenue[keep]})
        per_product = _unknown_without_prices(frame.groupby(["key", "product_id"], sort=False).agg(
            orders=("order_id", "nunique"), revenue=("revenue", "sum"),
            priced=("revenue", "count")).reset_index())
        per_product = per_product.sort_values(["key", "orders", "revenue", "product_id"],
                                              ascending=[True, False, False, True])
        per_product = per_product.groupby("key", sort=False).head(TOP_PRODUCTS)
        per_category = _unknown_without_prices(frame.groupby(["key", "category"], sort=False).agg(
            orders=("order_id", "nunique"), revenue=("revenue", "sum"),
            priced=("revenue", "count")).reset_index())
        per_category = per_category.sort_values(["key", "revenue", "category"],
                                                ascending=[True, False, True])
        per_category = per_category.groupby("key", sort=False).head(TOP_CATEGORIES)
        top_products = {
            key_names[code]: [{"id": int(pid), "name": names.get(pid, ""),
                               "category": product_info["category"].get(pid, ""),
                               "orders": int(n), "revenue": _known(rev)}
                              for pid, n, rev in zip(group["product_id"], group["orders"],
                                                     group["revenue"])]
            for code, group in per_product.groupby("key", sort=False)
        }
        top_categories = {
            key_names[code]: [{"category": str(category_names[c]), "orders": int(n),
                               "revenue": _known(rev)}
                              for c, n, rev in zip(group["category"], group["orders"],
                                                   group["revenue"])]
            for code, group in per_category.groupby("key", sort=False)
        }
        for key in key_names:
            results.top_sellers[(kind, key)] = (top_products.get(key, []),
                                                top_categories.get(key, []))


# ----------------------------------------------------------------------- save

SCORE_COLUMNS = [
    "customer_id", "run_id", "first_order_at", "last_order_at", "recency_days", "frequency",
    "monetary", "avg_order_value", "tenure_days", "mean_days_between_orders", "return_rate",
    "r_score", "f_score", "m_score", "rfm_key", "cluster_key", "placed_by", "p_alive",
    "expected_orders_90", "expected_orders_365", "expected_value_12m", "propensity",
    "propensity_percentile", "interests", "plot_x", "plot_y",
]


def _score_frame(run: SegmentationRun, results: _Results) -> pd.DataFrame:
    f = results.features
    frame = f.join(results.timestamps).reset_index()
    for column in ("first_order_at", "last_order_at"):
        # ISO strings made by NumPy in C ("…T16:42:04.000000Z", which PostgreSQL reads as
        # UTC): pandas formats timezone-aware timestamps one by one, ~1 s per 100k.
        values = frame[column].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
        frame[column] = np.datetime_as_string(values, unit="us", timezone="UTC").astype(object)
    frame["run_id"] = run.pk
    frame["placed_by"] = "run"
    for name in ("r_score", "f_score", "m_score", "rfm_key", "cluster_key", "interests"):
        frame[name] = results.columns[name].to_numpy()
    for name in ("p_alive", "expected_orders_90", "expected_orders_365", "expected_value_12m",
                 "propensity", "propensity_percentile"):
        column = results.columns.get(name)
        frame[name] = np.nan if column is None else column.to_numpy(dtype=float)
    if "interests" not in results.columns:
        frame["interests"] = "[]"
    frame["plot_x"] = np.log1p(f["recency_days"].clip(lower=0)).to_numpy()
    frame["plot_y"] = np.log1p(f["monetary"].clip(lower=0)).to_numpy()
    return frame


def _transitions(run: SegmentationRun, previous: SegmentationRun | None) -> dict[str, Any]:
    if previous is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT p.rfm_key, c.rfm_key, COUNT(*)
               FROM segments_segmentmembership c
               JOIN segments_segmentmembership p
                 ON p.customer_id = c.customer_id AND p.run_id = %s
               WHERE c.run_id = %s GROUP BY 1, 2 ORDER BY 3 DESC""",
            [previous.pk, run.pk],
        )
        rows = cursor.fetchall()
    return {"previous_run": previous.pk, "rfm": [[a, b, n] for a, b, n in rows]}


def _overview(orders: pd.DataFrame, as_of_dt, *, analysed: int) -> dict[str, Any]:
    """The overview page's figures (what selectors.overview_kpis and monthly_revenue
    compute live), from the orders already in memory; ``analysed``: the run's customers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ingest_customer")
        customers = cursor.fetchone()[0]
        # Orders dated after the analysis' "now" (in the future): left out, and said so.
        cursor.execute("SELECT COUNT(*) FROM ingest_order WHERE NOT is_cancelled "
                       "AND ordered_at > %s", [as_of_dt])
        dated_ahead = cursor.fetchone()[0]
    totals = order_totals(orders, newest=as_of_dt)
    return {
        "kpis": {
            "customers": customers, "orders": totals.orders, "revenue": totals.revenue,
            "active_customers": totals.active_customers, "repeat_rate": totals.repeat_rate,
            "newest_order_at": as_of_dt.isoformat(), "dated_ahead": dated_ahead,
            "not_analysed": customers - analysed,
        },
        "monthly_revenue": monthly_revenue(orders, time_zone=shop_profile().time_zone),
    }


def _save_start(run: SegmentationRun) -> None:
    """The first half of the save, inside the run's transaction. Pages keep reading the
    previous run's rows until the transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SAVE_LOCK])
    # A redelivered task may have saved part of this run before dying: start clean.
    Segment.objects.filter(run=run).delete()
    BasketRule.objects.filter(run=run).delete()
    InterestTopic.objects.filter(run=run).delete()
    SegmentMembership.objects.filter(run=run).delete()


def _save_scores(run: SegmentationRun, results: _Results) -> None:
    """Scores and memberships, inside the transaction _save_start began: the bulk of the
    save, written while the pool still computes what only the Models and segment pages
    show (classifier, holdout, propensity evaluation, top sellers)."""
    scores = _score_frame(run, results)
    # Scores (like the recommendations) describe only the current run: replace them.
    CustomerScore.objects.all().delete()
    db.copy_rows("segments_customerscore", SCORE_COLUMNS, scores)
    # The memberships are the scores' keys: copied inside PostgreSQL, not sent again.
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO segments_segmentmembership
                   (run_id, customer_id, rfm_key, cluster_key, placed_by)
               SELECT run_id, customer_id, rfm_key, cluster_key, placed_by
               FROM segments_customerscore WHERE run_id = %s""", [run.pk])


def _save(run: SegmentationRun, results: _Results, as_of, previous: SegmentationRun | None,
          page_data: dict[str, Any]) -> None:
    """The rest of the save, after _save_scores, in the same transaction."""
    for segment in results.segments:
        segment.run = run
    Segment.objects.bulk_create(results.segments)
    for topic in results.topics:
        topic.run = run
    InterestTopic.objects.bulk_create(results.topics)
    # Only the newest model places customers: older ones are megabytes of nothing.
    PlacementModel.objects.all().delete()
    if results.placement is not None:
        results.placement.run = run
        results.placement.rfm_edges = results.rfm_edges
        results.placement.save()

    results.metrics["transitions"] = _transitions(run, previous)
    # Read back from the rows just written, so the pages see what the selectors
    # would compute live from them.
    points, total = selectors.scatter_points()
    page_data["scatter"] = {"points": [list(p) for p in points], "total": total}
    page_data["rfm_grid"] = selectors.rfm_grid()
    SegmentationRun.objects.filter(is_current=True).exclude(pk=run.pk).update(is_current=False)
    selection = results.selection
    run.as_of = as_of
    run.k_chosen = results.k
    run.k_reason = results.metrics.pop("k_reason", "")
    run.silhouette_curve = {
        "silhouette": {str(k): v for k, v in (selection.silhouette if selection else {}).items()},
        "smallest_share": {str(k): v for k, v in (selection.smallest_share if selection else {}).items()},
        "auto_k": selection.k if selection else None,
    }
    run.metrics = results.metrics
    run.customer_count = len(results.features)
    run.page_data = page_data
    run.is_current = True
    run.save(update_fields=["as_of", "k_chosen", "k_reason", "silhouette_curve", "metrics",
                            "customer_count", "order_count", "page_data", "is_current"])
    # Rules and recommendations next, in their own job: sent when this transaction
    # commits, so it reads the run as saved. Pages show the previous run's rules
    # (and say so) until it is done.
    rule_mining_start(run=run)


# ----------------------------------------------------------------------- entry


def current_run() -> SegmentationRun | None:
    return SegmentationRun.objects.filter(is_current=True).first()


def _one_openmp_thread() -> None:
    # OpenMP's thread count is per calling thread: set it in each pool thread.
    threadpool_limits(limits=1, user_api="openmp")


def _timed(timings: dict[str, float], *steps: tuple[str, Callable[[], object]]) -> None:
    for name, work in steps:
        started = time.perf_counter()
        work()
        timings[name] = time.perf_counter() - started


def segmentation_run_execute(run: SegmentationRun) -> str:
    """Run every step for ``run`` (claimed by execute_job) and save; returns the message.

    The database is read in this thread (a worker thread would have its own connection,
    outside the caller's transaction); the analysis steps that only need those frames
    run on a small thread pool meanwhile. NumPy, SciPy and scikit-learn release the GIL
    in their heavy loops, so clustering, the value models and the interests overlap
    with each other and with PostgreSQL's work on the next query. The save queues the
    run's basket rules job.
    """
    timings: dict[str, float] = {}
    started = _step(run, 0, gettext_noop("Reading orders"))
    as_of_dt = db.newest_order_at()
    if as_of_dt is None:
        return "No orders yet: nothing to analyse."
    as_of = pd.Timestamp(as_of_dt).tz_convert("UTC")
    previous = (
        SegmentationRun.objects.filter(is_current=True).exclude(pk=run.pk).first()
    )
    previous_centroids = _previous_cluster_centroids(previous)
    features = db.features_frame(as_of=as_of_dt)
    results = _Results(
        features=features[list(ALL_COLUMNS)],
        timestamps=features[["first_order_at", "last_order_at"]],
    )
    timings["read"] = time.perf_counter() - started
    _timed(timings, ("RFM scores", lambda: _rfm(results)))

    _step(run, 1, gettext_noop("Clusters, value models and interests"))
    # One BLAS thread for the whole process and one OpenMP thread per pool thread
    # (k-means, the forest): four threads of our own already share two cores, and
    # OpenMP teams spinning on a busy core cost far more than they gain.
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=3, thread_name_prefix="segments",
                               initializer=_one_openmp_thread) as pool:
        # Each step starts as soon as the frames it needs are read: the clusters need
        # only the features, so they run while the lines and orders are read. The
        # interests (the longest step) come next, then the value models.
        segments_done = pool.submit(
            _timed, timings, ("Clusters", lambda: _clusters(run, results, previous_centroids)),
        )
        t = time.perf_counter()
        lines = db.basket_lines_frame(as_of=as_of_dt)
        products = db.products_frame()
        timings["read lines"] = time.perf_counter() - t
        interests_done = pool.submit(
            _timed, timings,
            ("Interests", lambda: _interests(results, category_counts(lines, products))),
        )
        t = time.perf_counter()
        orders = db.orders_frame(as_of=as_of_dt)
        # The models count visits to the shop: a return or refund exported as its own
        # order is not one (the same purchases the features count as frequency). The
        # overview's revenue still nets them, from all orders.
        purchases = db.purchases_only(orders)
        run.order_count = len(purchases)  # the overview's Orders, the API's order_count
        timings["read orders"] = time.perf_counter() - t
        value_done = pool.submit(
            _timed, timings,
            ("Lifetime value (model chosen on a holdout + Gamma-Gamma)",
             lambda: _clv(results, purchases, as_of)),
            ("Purchase propensity", lambda: _propensity_scores(results, purchases, as_of)),
        )
        # The overview's figures from the orders in memory, while the pool works.
        page_data: dict[str, Any] = {}
        _timed(timings, ("Overview figures",
                         lambda: page_data.update(
                             _overview(orders, as_of_dt, analysed=len(features)))))
        for future in (segments_done, interests_done, value_done):
            future.result()
        # What only the Models and segment pages show starts once every score column is
        # ready: it runs on the pool while PostgreSQL writes the scores (its own process,
        # its own core), instead of competing with the steps the scores wait for.
        pages_done = [
            pool.submit(_timed, timings, ("Segment classifier", lambda: _classifier(results))),
            pool.submit(_timed, timings, ("Segment top sellers",
                                          lambda: _segment_top_sellers(results, lines, products))),
            pool.submit(_timed, timings,
                        ("Propensity evaluation",
                         lambda: _propensity_evaluation(results, purchases))),
        ]
        t = _step(run, 8, gettext_noop("Saving"))
        # One transaction from here to the end, so pages never see half a run.
        with transaction.atomic():
            _save_start(run)
            _save_scores(run, results)
            timings["Saving scores"] = time.perf_counter() - t
            for future in pages_done:
                future.result()
            t = time.perf_counter()
            _propensity_settle(run, results)
            _segment_stats(results)
            results.metrics["timings"] = timings
            _save(run, results, as_of_dt, previous, page_data)
            timings["Saving the rest"] = time.perf_counter() - t
    SegmentationRun.objects.filter(pk=run.pk).update(metrics=results.metrics)
    db.planner_statistics_refresh()
    run.processed = STEPS
    return (
        f"{len(features):,} customers in {results.k} clusters; "
        "basket rules are mined next."
    )
