"""Full segments refresh from PostgreSQL vs a bare in-memory pandas/scikit-learn script.

    python -m benchmarks.segments_refresh [--lines 1000000] [--reuse-data]

Ours: the whole segmentation run as the worker executes it: SQL features → RFM → k by
silhouette → k-means → Ward check → cluster rules and names → classifier → BG/NBD +
Gamma-Gamma (+ holdout) → propensity (+ comparison) → LDA interests → segment top
sellers → overview figures → save (scores, memberships, segments, Sankey transitions,
page data), reading from and writing to PostgreSQL. Basket rules and recommendations
are the run's next job (queued by the save, timed by benchmarks/baskets.py); this
benchmark checks that it was queued. Baseline: the orders already in a DataFrame, then
only RFM + k selection + k-means + random forest, with the same sample sizes we use.
Target: ratio ≤ 1.5, ≤ 60 s.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.segments_data import arguments, load_orders


def baseline(path: str) -> float:
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import silhouette_score

    lines = pd.read_csv(path, usecols=["order_id", "email", "ordered_at", "quantity", "unit_price"],
                        dtype={"order_id": str})
    started = time.perf_counter()  # timing starts with the data in memory
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"])
    lines["total"] = lines["quantity"] * lines["unit_price"]
    orders = lines.groupby("order_id").agg(email=("email", "first"), at=("ordered_at", "first"),
                                           total=("total", "sum"))
    now = orders["at"].max()
    per = orders.groupby("email").agg(last=("at", "max"), first=("at", "min"),
                                      frequency=("total", "size"), monetary=("total", "sum"))
    features = pd.DataFrame({
        "recency": (now - per["last"]).dt.total_seconds() / 86400,
        "frequency": per["frequency"], "aov": per["monetary"] / per["frequency"],
        "tenure": (now - per["first"]).dt.total_seconds() / 86400,
    })
    for column, ascending in (("recency", False), ("frequency", True), ("aov", True)):
        pd.qcut(features[column].rank(method="first", ascending=ascending), 5, labels=False)
    X = np.log1p(features.clip(lower=0).to_numpy())
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rng = np.random.default_rng(0)
    sample = X[rng.choice(len(X), min(20_000, len(X)), replace=False)]
    best = max(range(3, 9), key=lambda k: silhouette_score(
        sample, KMeans(k, n_init=10, random_state=0).fit_predict(sample),
        sample_size=min(5000, len(sample)), random_state=0))
    labels = KMeans(best, n_init=10, random_state=0).fit_predict(X)
    pick = rng.choice(len(X), min(20_000, len(X)), replace=False)
    RandomForestClassifier(200, random_state=0, n_jobs=1).fit(X[pick], labels[pick])
    return time.perf_counter() - started


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    # Its own database: the pages and baskets benchmarks recreate theirs when they start.
    load_seconds, path = load_orders(args.lines, args.customers,
                                     database="profiler_bench_segments_refresh",
                                     reuse=args.reuse_data)
    from benchmarks.common import machine, report
    from profiler_site.core.jobs import execute_job
    from segments.models import RuleMiningJob, SegmentationRun
    from segments.services.refresh import segmentation_run_execute

    run = SegmentationRun.objects.create()
    started = time.perf_counter()
    status = execute_job(model=SegmentationRun, job_id=run.pk, task_id="bench",
                         work=segmentation_run_execute)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    assert status == "succeeded", run.error
    rules_job = RuleMiningJob.objects.get(run=run)  # queued by the save, for a worker
    base = baseline(path)
    timings = {k: round(v, 2) for k, v in run.metrics.get("timings", {}).items()}
    print(f"machine: {machine()}\nloaded {path} in {load_seconds:.1f}s\nsteps: {timings}")
    report("segments_refresh", seconds, base, lines=args.lines, customers=run.customer_count,
           k=run.k_chosen, rules_job=rules_job.status, target_ratio=1.5, target_seconds=60,
           steps=timings)


if __name__ == "__main__":
    main()
