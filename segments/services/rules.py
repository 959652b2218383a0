"""Basket rules and recommendations: their own job, chained after a segmentation run.

The refresh (segments.services.refresh) ends by queueing a RuleMiningJob for its run.
The job reads what it needs back from PostgreSQL (the purchased lines up to the run's
``as_of`` and the run's RFM memberships), mines the rules on all orders and per RFM
segment, derives each customer's recommendations, and saves both under that run in
one transaction. Rules stay versioned with the run they were mined for; the
recommendations table, like the scores, holds only the current run's.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from profiler_site.core.jobs import WAITING_FOR_WORKER, job_enqueue, job_progress
from segments.analysis import baskets as basket_analysis
from segments.analysis.recommendations import recommend
from segments.models import BasketRule, Recommendation, RuleMiningJob, SegmentationRun
from segments.services import db

STEPS = 5
RECOMMENDATIONS_PER_CUSTOMER = 5
RECOMMENDATION_COLUMNS = ["run_id", "customer_id", "product_id", "rank", "score", "source"]
# Shared with the refresh's save: a rules save and a run's save never interleave, so the
# recommendations are always those of the run that is current when they commit.
SAVE_LOCK = 0x5E6_0002


def rule_mining_start(*, run: SegmentationRun) -> RuleMiningJob:
    """Queue the rules job for ``run`` (replacing an earlier one: a re-run starts clean).

    Call inside the transaction that makes ``run`` current: the task is sent when it
    commits, so the job never reads a half-saved run.
    """
    from segments.tasks import mine_rules_task

    RuleMiningJob.objects.filter(run=run).delete()
    # Only the owner's settings stay: the summary is the job's to write (a re-run of
    # the same run must not look mined before its job ran).
    requested = (run.baskets or {}).get("requested") or {}
    SegmentationRun.objects.filter(pk=run.pk).update(baskets={"requested": requested})
    job = RuleMiningJob.objects.create(run=run, message=WAITING_FOR_WORKER)
    job_enqueue(job=job, task=mine_rules_task)
    return job


def _step(job: RuleMiningJob, index: int, phase: str) -> float:
    job_progress(job=job, processed=index, total=STEPS, phase=phase)
    return time.perf_counter()


def _rule_rows(frame: pd.DataFrame, segment_key: str, run: SegmentationRun) -> list[BasketRule]:
    return [
        BasketRule(
            run=run, segment_key=segment_key,
            antecedent_ids=[int(p) for p in row.antecedents],
            consequent_ids=[int(p) for p in row.consequents],
            support=float(row.support), confidence=float(row.confidence), lift=float(row.lift),
            leverage=float(row.leverage), conviction=float(row.conviction),
            order_count=int(row.order_count),
        )
        for row in frame.itertuples(index=False)
    ]


def _mining_summary(result: basket_analysis.RuleMiningResult) -> dict[str, Any]:
    choice = result.support_choice
    return {
        "basket_count": result.basket_count,
        "item_count": result.item_count,
        "frequent_item_count": result.frequent_item_count,
        "rule_count": len(result.rules),
        "min_support": result.parameters.min_support,
        "min_count": result.parameters.min_count,
        "min_confidence": result.parameters.min_confidence,
        "max_len": result.parameters.max_len,
        "reason": choice.reason if choice else "",
    }


def rule_overrides(requested: dict | None) -> dict:
    """The owner's support / confidence / itemset length, for mine_rules; empty = automatic."""
    requested = requested or {}
    overrides = {}
    if requested.get("min_support"):
        overrides["min_support"] = float(requested["min_support"])
    if requested.get("min_confidence"):
        overrides["min_confidence"] = float(requested["min_confidence"])
    if requested.get("max_len"):
        overrides["max_len"] = int(requested["max_len"])
    return overrides


def _rfm_keys(run: SegmentationRun) -> pd.Series:
    """customer_id → RFM segment key in ``run``."""
    frame = db.copy_query(
        "SELECT customer_id, rfm_key FROM segments_segmentmembership WHERE run_id = %(run)s",
        {"run": run.pk}, dtype={"customer_id": "int64", "rfm_key": str},
    )
    return frame.set_index("customer_id")["rfm_key"]


def _mine(job: RuleMiningJob, run: SegmentationRun, lines: pd.DataFrame,
          timings: dict[str, float]) -> tuple[dict[str, Any], list[BasketRule], pd.DataFrame]:
    """Rules on all orders, then per RFM segment: (summary, rule rows, all-orders rules)."""
    requested = (run.baskets or {}).get("requested") or {}
    baskets = lines[["order_id", "product_id"]]
    overrides = rule_overrides(requested)
    t = _step(job, 1, gettext_noop("Mining rules on all orders"))
    try:
        overall = basket_analysis.mine_rules(baskets, **overrides)
    except basket_analysis.TooManyItemsetsError as exc:
        return ({"all": {"error": str(exc)}, "segments": {}, "requested": requested}, [],
                pd.DataFrame(columns=basket_analysis.RULE_COLUMNS))
    summary: dict[str, Any] = {"all": _mining_summary(overall), "segments": {},
                               "requested": requested}
    rules = _rule_rows(overall.rules, "", run)
    timings["rules, all orders"] = time.perf_counter() - t

    t = _step(job, 2, gettext_noop("Mining rules per RFM segment"))
    order_customer = lines.drop_duplicates("order_id").set_index("order_id")["customer_id"]
    order_segment = order_customer.map(_rfm_keys(run))
    per_segment = basket_analysis.mine_rules_per_segment(baskets, order_segment, **overrides)
    for key, outcome in per_segment.items():
        if isinstance(outcome, basket_analysis.SkippedSegment):
            summary["segments"][str(key)] = {
                "skipped": outcome.reason, "basket_count": outcome.basket_count,
            }
        else:
            summary["segments"][str(key)] = _mining_summary(outcome)
            rules += _rule_rows(outcome.rules, str(key), run)
    timings["rules per segment"] = time.perf_counter() - t
    return summary, rules, overall.rules


def _recommendations(lines: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    customer_products = lines[["customer_id", "product_id"]].drop_duplicates()
    popularity = lines.drop_duplicates(["order_id", "product_id"]).groupby("product_id").size()
    return recommend(customer_products, rules, popularity, top_n=RECOMMENDATIONS_PER_CUSTOMER)


def rule_mining_execute(job: RuleMiningJob) -> str:
    """Mine ``job``'s run's rules and recommendations and save them; returns the message."""
    timings: dict[str, float] = {}
    run = SegmentationRun.objects.defer("page_data").get(pk=job.run_id)
    if run.as_of is None:
        return "The analysis had no orders: no rules to mine."
    if SegmentationRun.objects.filter(is_current=True, pk__gt=run.pk).exists():
        # A newer analysis is current and has its own rules job: mining this one's
        # would only keep the worker from it.
        return "A newer analysis replaced this one before its rules were mined."
    t = _step(job, 0, gettext_noop("Reading order lines"))
    lines = db.basket_lines_frame(as_of=run.as_of)
    timings["read"] = time.perf_counter() - t

    summary, rules, overall = _mine(job, run, lines, timings)

    t = _step(job, 3, gettext_noop("Recommendations"))
    recommendations = _recommendations(lines, overall)
    csv = (db.csv_text(recommendations.assign(run_id=run.pk), RECOMMENDATION_COLUMNS)
           if len(recommendations) else b"")
    timings["recommendations"] = time.perf_counter() - t

    t = _step(job, 4, gettext_noop("Saving"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SAVE_LOCK])
        # Idempotent: a redelivered task replaces what an earlier attempt saved.
        BasketRule.objects.filter(run=run).delete()
        BasketRule.objects.bulk_create(rules, batch_size=2000)
        if SegmentationRun.objects.filter(pk=run.pk, is_current=True).exists():
            Recommendation.objects.all().delete()
            db.copy_text("segments_recommendation", RECOMMENDATION_COLUMNS, csv)
        timings["save"] = time.perf_counter() - t
        summary["timings"] = {k: round(v, 3) for k, v in timings.items()}
        SegmentationRun.objects.filter(pk=run.pk).update(baskets=summary)
    job_progress(job=job, processed=STEPS, total=STEPS, phase=gettext_noop("Saved"))
    customers = recommendations["customer_id"].nunique()
    return f"{len(rules):,} basket rules; recommendations for {customers:,} customers."
