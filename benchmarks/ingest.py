"""Ingest benchmark: a 1,000,000-line order CSV through the real API to "job finished",
against a raw PostgreSQL COPY of the same file into an unindexed table, in the same run.

    python -m benchmarks.ingest            (embedded PostgreSQL/Redis, or DATABASE_URL/REDIS_URL)

Target: at most 10x raw COPY (aim 5x); worker peak memory at most 1 GB.
"""

from __future__ import annotations

import time

from benchmarks.common import Worker, ensure_orders_file, machine, report, setup_django


def raw_copy_seconds(path) -> float:
    from django.db import connection

    with connection.cursor() as cur:
        header = path.open(encoding="utf-8").readline().strip().split(",")
        cur.execute("DROP TABLE IF EXISTS bench_raw_copy")
        columns = ", ".join(f'"{h}" text' for h in header)
        cur.execute(f"CREATE UNLOGGED TABLE bench_raw_copy ({columns})")
        start = time.perf_counter()
        with path.open("rb") as handle:
            cur.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_raw_copy")
    return elapsed


def main() -> None:
    path = ensure_orders_file()
    setup_django("profiler_bench_ingest")
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    from ingest.models import ImportJob

    user = get_user_model().objects.create_superuser("bench", "b@example.com", "bench-pass-123")
    client = Client()
    client.force_login(user)
    # The baseline runs before and after the import, and the faster counts: after an
    # import PostgreSQL may still be writing its checkpoint, which slows a COPY.
    baseline_before = raw_copy_seconds(path)
    # A running server has its views imported already; this process's first request
    # would otherwise spend ~0.35 s importing every URL's module inside the timing.
    assert client.get("/api/imports/").status_code == 200
    worker = Worker(queues="default")
    worker.wait_ready()
    # The request body is built before timing: a browser or `curl` streams the file,
    # where the test client would spend ~0.3 s assembling 100 MB in Python first.
    with path.open("rb") as handle:
        body = encode_multipart(BOUNDARY, {"file": handle})
    try:
        start = time.perf_counter()
        response = client.generic("POST", "/api/imports/", body, MULTIPART_CONTENT)
        assert response.status_code == 201, response.content
        uploaded = time.perf_counter() - start
        job_id = response.json()["id"]
        while True:
            job = ImportJob.objects.get(pk=job_id)
            if not job.is_active:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    finally:
        worker.stop()
    assert job.status == "succeeded", job.error
    baseline_after = raw_copy_seconds(path)
    baseline = min(baseline_before, baseline_after)
    print(f"machine: {machine()}")
    print(f"import through the API: {seconds:.1f} s for {job.rows_read:,} rows "
          f"({job.rows_read / seconds:,.0f} rows/s), {job.orders_created:,} orders, "
          f"{job.customers_created:,} customers; worker peak RSS {worker.peak_rss / 2**20:.0f} MiB")
    print(f"of which the upload request: {uploaded:.1f} s; the worker's run: "
          f"{(job.finished_at - job.started_at).total_seconds():.1f} s")
    print(f"raw COPY of the same file into an unindexed table: {baseline:.1f} s "
          f"(before the import {baseline_before:.1f} s, after {baseline_after:.1f} s)")
    print(f"ratio: {seconds / baseline:.1f}x (target <= 10x)")
    report("ingest", seconds, baseline, rows=job.rows_read, upload_seconds=round(uploaded, 3),
           baseline_before_seconds=round(baseline_before, 3),
           baseline_after_seconds=round(baseline_after, 3),
           worker_peak_rss_mb=round(worker.peak_rss / 2**20), target_ratio=10)


if __name__ == "__main__":
    main()
