"""Thin Celery tasks: fetch the row by id, call one service."""

from __future__ import annotations

from celery import shared_task

from profiler_site.core import jobs
from profiler_site.core.tasks import JobTask


@shared_task(bind=True, base=JobTask, job_model_label="segments.segmentationrun")
def run_segmentation_task(self, job_id: int) -> str:
    from segments.models import SegmentationRun
    from segments.services.refresh import segmentation_run_execute

    return jobs.execute_job(
        model=SegmentationRun, job_id=job_id, task_id=self.request.id,
        work=segmentation_run_execute,
    )


@shared_task(bind=True, base=JobTask, job_model_label="segments.ruleminingjob")
def mine_rules_task(self, job_id: int) -> str:
    from segments.models import RuleMiningJob
    from segments.services.rules import rule_mining_execute

    return jobs.execute_job(
        model=RuleMiningJob, job_id=job_id, task_id=self.request.id,
        work=rule_mining_execute,
    )


@shared_task
def place_new_customers_task(import_job_id: int) -> int:
    # No job row: placement takes seconds, is idempotent (it only places customers
    # without a membership) and leaves nothing half-done (one transaction).
    # import_job_id only names the import that triggered it in the worker's log.
    from segments.services.placement import new_customers_place

    return new_customers_place()
