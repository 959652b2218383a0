"""Shared by the segments benchmarks: a fresh database holding the generated orders."""

from __future__ import annotations

import argparse
import time


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None,
                        help="default: lines / 10, the shape of the 1M file")
    return parser.parse_args()


def load_orders(lines: int, customers: int | None = None) -> tuple[float, str]:
    """Set up Django on a fresh database and load the orders file; returns (seconds, path).

    Loading goes through the real import services (tests/segments/demo_loader.py), so the
    analysis is measured on exactly what an owner's upload stores; it is not timed here.
    """
    from benchmarks.common import ensure_orders_file, setup_django

    path = ensure_orders_file(lines, customers or max(lines // 10, 100))
    setup_django("profiler_bench_segments")
    from tests.segments.demo_loader import load_order_lines

    started = time.perf_counter()
    load_order_lines(path)
    seconds = time.perf_counter() - started
    analyze()
    return seconds, str(path)


def analyze() -> None:
    """Give the planner statistics, as autovacuum would a minute after a bulk load.

    Without this the pages are measured on tables PostgreSQL has never looked at
    (COPY seconds earlier), and a join plan chosen blind can be 10x slower than the
    one a running shop gets (the product page: 2.2 s instead of 0.13 s).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
