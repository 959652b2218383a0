"""Basket rules as the refresh mines them (read from PostgreSQL) vs plain mlxtend in memory.

    python -m benchmarks.baskets [--lines 1000000]

Ours: COPY the purchased lines out of PostgreSQL, then mine_rules (adaptive support,
sparse miner). Baseline: benchmarks/baskets_reference.mlxtend_baseline on the same
baskets already in memory, at the support ours chose. Targets: ratio ≤ 1.5, peak
memory ≤ 2 GB (ours, measured as the process's peak RSS before the baseline runs).
"""

from __future__ import annotations

import resource
import time

from benchmarks.segments_data import arguments, load_orders


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    load_orders(args.lines, args.customers)
    from benchmarks.baskets_reference import mlxtend_baseline
    from benchmarks.common import report
    from segments.analysis.baskets import mine_rules
    from segments.services import db

    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    lines = db.basket_lines_frame(as_of=db.newest_order_at())
    result = mine_rules(lines[["order_id", "product_id"]])
    seconds = time.perf_counter() - started
    ours_peak = _peak_rss_mb()
    params = result.parameters
    print(f"ours: {len(result.rules)} rules from {result.basket_count:,} baskets at support "
          f"{params.min_support} in {seconds:.2f}s (peak RSS {ours_peak:.0f} MB)")
    try:
        base = mlxtend_baseline(lines[["order_id", "product_id"]], params.min_support,
                                params.min_confidence, params.max_len)
        base_seconds, base_rules = base.seconds, base.rule_count
    except MemoryError:
        base_seconds, base_rules = float("nan"), None
    print(f"mlxtend: {base_rules} rules in {base_seconds:.2f}s")
    report("baskets", seconds, base_seconds, lines=args.lines, rules=len(result.rules),
           baseline_rules=base_rules, peak_rss_mb=round(ours_peak), rss_before_mb=round(rss_before),
           target_ratio=1.5, target_peak_mb=2048)


if __name__ == "__main__":
    main()
