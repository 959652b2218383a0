"""The bundled demo shop: generated once, imported through the normal import path."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ingest.demo.generate import generate_demo_orders
from ingest.models import ImportJob, Order
from profiler_site.core.jobs import execute_job
from profiler_site.core.shop import shop_profile

from .imports import import_confirm, import_run, import_upload_create

DEMO_NAME = "demo-shop-orders.csv"


def demo_imports() -> Q:
    """The bundled demo shop's imports: flagged since the flag exists, by name before."""
    return Q(options__demo=True) | Q(original_name=DEMO_NAME, created_by__isnull=True)


def demo_import_if_empty(*, customers: int = 3000) -> ImportJob | None:
    """Import the demo shop when there are no orders yet; returns the job, or None if skipped.

    Never again once the owner removed it: an empty shop after that is their choice.
    """
    if Order.objects.exists() or ImportJob.objects.filter(demo_imports(),
                                                          undone_at__isnull=False).exists():
        return None
    path = Path(settings.VAR_DIR) / "demo" / DEMO_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two years up to the end of yesterday, in the shop's time zone: a demo that ended on
    # a fixed date would read as a shop gone quiet, and flows would find nobody to greet.
    today = timezone.localtime(timezone=ZoneInfo(shop_profile().time_zone)).date()
    end = datetime.combine(today, time(23, 59, 59)) - timedelta(days=1)
    generate_demo_orders(path, customers=customers, end=end)
    with open(path, "rb") as handle:
        job = import_upload_create(file=handle, name=DEMO_NAME, size=path.stat().st_size)
    job.options = {**job.options, "demo": True}
    job.save(update_fields=["options"])
    import_confirm(job=job, remember=False)
    # Run here, not in the worker: `make run` starts the worker after this.
    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()
    return job
