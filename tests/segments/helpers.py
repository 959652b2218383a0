"""Shared helpers for the segments tests: run the refresh in-process, the real code path."""

from __future__ import annotations

from profiler_site.core.jobs import execute_job
from segments.models import SegmentationRun
from segments.services.refresh import segmentation_run_execute


def run_refresh(*, k: int | None = None) -> SegmentationRun:
    """Create a run and execute it here (claim → work → finish) as the worker would."""
    run = SegmentationRun.objects.create(k_mode="fixed" if k else "auto", k_requested=k)
    status = execute_job(model=SegmentationRun, job_id=run.pk, task_id=f"test-{run.pk}",
                         work=segmentation_run_execute)
    run.refresh_from_db()
    assert status == "succeeded", (status, run.error)
    return run
