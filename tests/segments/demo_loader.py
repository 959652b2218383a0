"""Load an order-lines CSV (the demo shop's format) through the real import services.

Tests and benchmarks of the analysis side get exactly the rows an owner's upload
would give: same customer keys, cleaning, returns and order totals.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from ingest.models import ImportJob
from ingest.services.imports import import_confirm, import_run, import_upload_create
from profiler_site.core.jobs import execute_job


def load_order_lines(path: str | Path | pd.DataFrame) -> int:
    """Import the file (or frame) as an owner's upload would, in this process; returns rows read."""
    if isinstance(path, pd.DataFrame):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
            path.to_csv(handle, index=False)
        path = handle.name
    path = Path(path)
    with path.open("rb") as handle:
        job = import_upload_create(file=handle, name=path.name, size=path.stat().st_size)
    import_confirm(job=job, remember=False)
    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job.rows_read


def load_demo_shop(customers: int = 1500, seed: int = 7, tmp_dir: Path | None = None) -> int:
    from ingest.demo.generate import generate_demo_orders

    path = Path(tmp_dir or "/tmp") / f"demo-{customers}-{seed}.csv"
    if not path.exists():
        generate_demo_orders(path, customers=customers, seed=seed)
    return load_order_lines(path)
