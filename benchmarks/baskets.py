"""The basket rules job (read from PostgreSQL, mine, recommend, save) vs plain mlxtend in memory.

    python -m benchmarks.baskets [--lines 1000000] [--reuse-data]

Ours: the whole RuleMiningJob a segmentation run queues, as the worker executes it:
COPY the purchased lines and the run's RFM memberships out of PostgreSQL, mine_rules on
all orders (adaptive support, sparse miner) and per RFM segment, recommendations for
every customer, and the save (rules, half a million recommendations by COPY). The
segmentation run it needs is done first, outside the timing. Baseline:
benchmarks/baskets_reference.mlxtend_baseline on the same baskets already in memory, at
the support ours chose, all orders only. Targets: ratio ≤ 1.5, peak memory ≤ 2 GB (ours:
the process's peak RSS during the job, reset after the segmentation run).
"""

from __future__ import annotations

import resource
import time

from benchmarks.segments_data import arguments, load_orders


def _reset_peak_rss() -> bool:
    # Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    load_orders(args.lines, args.customers, reuse=args.reuse_data)
    from benchmarks.baskets_reference import mlxtend_baseline
    from benchmarks.common import machine, report
    from profiler_site.core.jobs import execute_job
    from segments.models import RuleMiningJob, SegmentationRun
    from segments.services import db
    from segments.services.refresh import segmentation_run_execute
    from segments.services.rules import rule_mining_execute

    run = SegmentationRun.objects.create()
    status = execute_job(model=SegmentationRun, job_id=run.pk, task_id="bench",
                         work=segmentation_run_execute)
    assert status == "succeeded", status
    job = RuleMiningJob.objects.get(run=run)

    peak_reset = _reset_peak_rss()
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    status = execute_job(model=RuleMiningJob, job_id=job.pk, task_id="bench-rules",
                         work=rule_mining_execute)
    seconds = time.perf_counter() - started
    ours_peak = _peak_rss_mb()
    job.refresh_from_db()
    assert status == "succeeded", job.error
    run.refresh_from_db()
    overall = run.baskets["all"]
    steps = run.baskets.get("timings", {})
    print(f"machine: {machine()}")
    print(f"ours: {job.message} ({overall['rule_count']} rules on all orders from "
          f"{overall['basket_count']:,} baskets at support {overall['min_support']}) in "
          f"{seconds:.2f}s; steps {steps} (peak RSS {ours_peak:.0f} MB)")

    lines = db.basket_lines_frame(as_of=run.as_of)
    try:
        base = mlxtend_baseline(lines[["order_id", "product_id"]], overall["min_support"],
                                overall["min_confidence"], overall["max_len"])
        base_seconds, base_rules = base.seconds, base.rule_count
    except MemoryError:
        base_seconds, base_rules = float("nan"), None
    print(f"mlxtend: {base_rules} rules in {base_seconds:.2f}s")
    report("baskets", seconds, base_seconds, lines=args.lines, rules=overall["rule_count"],
           baseline_rules=base_rules, all_rules=run.rules.count(),
           mining_all_orders_seconds=steps.get("rules, all orders"),
           peak_rss_mb=round(ours_peak), rss_before_mb=round(rss_before),
           peak_reset=peak_reset, target_ratio=1.5, target_peak_mb=2048)


if __name__ == "__main__":
    main()
