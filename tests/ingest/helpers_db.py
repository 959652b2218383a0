"""Running imports in tests through the same services the worker uses."""

from __future__ import annotations

import io
from pathlib import Path

from ingest.models import ImportJob
from ingest.services.imports import import_confirm, import_run, import_upload_create
from profiler_site.core.jobs import execute_job

DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"


def import_bytes(content: bytes, name: str = "orders.csv", **confirm) -> ImportJob:
    job = import_upload_create(file=io.BytesIO(content), name=name, size=len(content))
    import_confirm(job=job, **confirm)
    try:
        execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    except Exception:  # the job row records the failure; tests assert on it
        pass
    job.refresh_from_db()
    return job


def import_file(path: Path, **confirm) -> ImportJob:
    return import_bytes(path.read_bytes(), name=path.name, **confirm)


ORPHANS_SQL = """
SELECT (SELECT count(*) FROM ingest_orderline l
        WHERE NOT EXISTS (SELECT 1 FROM ingest_order o WHERE o.id = l.order_id)
           OR NOT EXISTS (SELECT 1 FROM ingest_product p WHERE p.id = l.product_id)),
       (SELECT count(*) FROM ingest_order o
        WHERE NOT EXISTS (SELECT 1 FROM ingest_customer c WHERE c.id = o.customer_id))
"""


def orphan_rows() -> tuple[int, int]:
    """(lines without their order or product, orders without their customer).

    Orders and lines carry no database foreign keys (see ingest.models.Order),
    so the loader's joins are what keep them whole; tests check it here.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(ORPHANS_SQL)
        return cursor.fetchone()
