"""Evaluating every trigger of the four starter flows after a run vs one hand-written query.

    python -m benchmarks.flows [--lines 1000000] [--reuse-data]

Ours: `flows_evaluate` for the four starter flows switched on (win back, welcome,
cross-sell, abandoned cart) right after a segmentation run: per flow one INSERT ...
SELECT of its entrants with the re-entry rule, the erased check and the holdout
draw, through the real services, in a transaction rolled back after each try (the
foreign-key checks a commit would run are forced inside the timing).
Baseline: one hand-written SQL query selecting the same entrants (a UNION ALL of the
four trigger conditions, no re-entry, holdout or insert), in the same run. Both are
run three times; the best of each counts. The entrant counts must match.
Data: the orders file through the real import, one real segmentation run, and a
previous run made from it with one customer in seven moved out of At Risk / Can't
Lose (so the win-back trigger has movers); cart events for one customer in twenty.
Target: ratio <= 2, <= 2 s.
"""

from __future__ import annotations

import time
from datetime import timedelta

from benchmarks.segments_data import arguments, load_orders

TRIES = 3

BASELINE_SQL = """
SELECT count(*) FROM (
  SELECT cur.customer_id FROM segments_segmentmembership cur
  LEFT JOIN segments_segmentmembership prev ON prev.run_id = %(previous)s
       AND prev.customer_id = cur.customer_id
  WHERE cur.run_id = %(current)s AND cur.rfm_key IN ('at_risk', 'cant_lose')
    AND (prev.customer_id IS NULL OR prev.rfm_key NOT IN ('at_risk', 'cant_lose'))
  UNION ALL
  SELECT DISTINCT o.customer_id FROM ingest_order o
  WHERE NOT o.is_cancelled AND o.gross_total > 0
    AND o.ordered_at > %(welcome_from)s AND o.ordered_at <= %(welcome_to)s
    AND NOT EXISTS (SELECT 1 FROM ingest_order b WHERE b.customer_id = o.customer_id
                    AND NOT b.is_cancelled AND b.gross_total > 0
                    AND (b.ordered_at, b.id) < (o.ordered_at, o.id))
  UNION ALL
  SELECT DISTINCT o.customer_id FROM ingest_order o
  WHERE NOT o.is_cancelled AND o.gross_total > 0
    AND o.ordered_at > %(cross_from)s AND o.ordered_at <= %(cross_to)s
  UNION ALL
  SELECT DISTINCT e.customer_id FROM ingest_event e
  WHERE e.type = 'add_to_cart' AND e.occurred_at > %(cart_from)s AND e.occurred_at <= %(cart_to)s
    AND NOT EXISTS (SELECT 1 FROM ingest_order o WHERE o.customer_id = e.customer_id
                    AND NOT o.is_cancelled AND o.gross_total > 0 AND o.ordered_at > e.occurred_at)
) entrants
"""


def _previous_run_from(current_id: int, previous_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segments_segmentmembership (run_id, customer_id, rfm_key, cluster_key, "
            "placed_by, placement_probability) "
            "SELECT %s, customer_id, CASE WHEN customer_id %% 7 = 0 THEN 'loyal' ELSE rfm_key END, "
            "cluster_key, placed_by, placement_probability "
            "FROM segments_segmentmembership WHERE run_id = %s", [previous_id, current_id])


def _cart_events(at) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ingest_event (customer_id, type, occurred_at, properties, source, "
            "dedupe_key) SELECT id, 'add_to_cart', %s - make_interval(hours => (5 + id %% 48)::int), "
            "'{}', 'bench', 'bench-' || id FROM ingest_customer WHERE id %% 20 = 0", [at])
        cursor.execute("ANALYZE ingest_event")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    load_seconds, path = load_orders(args.lines, args.customers, database="profiler_bench_flows",
                                     reuse=args.reuse_data)
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max

    from benchmarks.common import machine, report
    from flows.models import Flow
    from flows.services.triggers import flows_evaluate
    from flows.starters import starter_switch_on
    from ingest.models import Order
    from profiler_site.core.jobs import execute_job
    from profiler_site.core.models import JobStatus
    from profiler_site.core.shop import shop_profile_forget
    from segments.models import SegmentationRun
    from segments.services.refresh import segmentation_run_execute

    previous = SegmentationRun.objects.create(status=JobStatus.SUCCEEDED)
    run = SegmentationRun.objects.create()
    status = execute_job(model=SegmentationRun, job_id=run.pk, task_id="bench",
                         work=segmentation_run_execute)
    assert status == "succeeded", SegmentationRun.objects.get(pk=run.pk).error
    _previous_run_from(run.pk, previous.pk)
    now = Order.objects.aggregate(m=Max("ordered_at"))["m"] + timedelta(days=3)
    _cart_events(now)
    settings.DEFAULT_FROM_EMAIL = "shop@bench.example"
    shop_profile_forget()
    for key in ("win_back", "welcome", "cross_sell", "abandoned_cart"):
        starter_switch_on(key=key)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    ours, entered = [], 0
    for _ in range(TRIES):
        with transaction.atomic():
            started = time.perf_counter()
            results = flows_evaluate(now=now)
            # The foreign-key checks of the new rows are deferred to commit; run them
            # now, inside the timing, since the rollback below would skip them.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            ours.append(time.perf_counter() - started)
            entered = sum(r.entered for r in results)
            transaction.set_rollback(True)
    params = {
        "current": run.pk, "previous": previous.pk,
        "welcome_from": now - timedelta(days=14), "welcome_to": now - timedelta(days=7),
        "cross_from": now - timedelta(days=10), "cross_to": now - timedelta(days=3),
        "cart_from": now - timedelta(days=7, hours=4), "cart_to": now - timedelta(hours=4),
    }
    base, expected = [], 0
    for _ in range(TRIES):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(BASELINE_SQL, params)
            expected = cursor.fetchone()[0]
            base.append(time.perf_counter() - started)
    assert entered == expected, f"ours entered {entered}, the baseline selects {expected}"
    flows = {f.starter_key: f.trigger_kind for f in Flow.objects.all()}
    print(f"machine: {machine()}\nloaded {path} in {load_seconds:.1f}s\n"
          f"flows: {flows}\nentrants: {entered}\nours: {ours}\nbaseline: {base}")
    report("flows", min(ours), min(base), lines=args.lines, entrants=entered,
           target_ratio=2, target_seconds=2)


if __name__ == "__main__":
    main()
