"""Thin tasks: fetch by id, call one service."""

from celery import shared_task

from ingest.models import ImportJob, ImportUndo
from profiler_site.core.jobs import execute_job
from profiler_site.core.tasks import JobTask


@shared_task(bind=True, base=JobTask, job_model_label="ingest.importjob")
def import_file_task(self, job_id: int) -> str:
    from ingest.services.imports import import_run

    return execute_job(model=ImportJob, job_id=job_id, task_id=self.request.id, work=import_run)


@shared_task(bind=True, base=JobTask, job_model_label="ingest.importundo")
def import_undo_task(self, job_id: int) -> str:
    from ingest.services.undo import import_undo_run

    return execute_job(model=ImportUndo, job_id=job_id, task_id=self.request.id,
                       work=import_undo_run)


@shared_task
def restore_indexes_task() -> list[str]:
    from ingest.services.bulk_indexes import restore_indexes

    return restore_indexes()


@shared_task
def purge_old_data_task() -> dict:
    """Nightly: old uploaded files and old events (ingest/services/retention.py)."""
    from django.utils import timezone

    from ingest.services.retention import old_data_purge
    from profiler_site.core.audit import SCHEDULED, Actor

    purged = old_data_purge(now=timezone.now(), actor=Actor(name=SCHEDULED))
    return {"uploads": purged.uploads, "events": purged.events}
