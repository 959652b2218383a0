"""Kernel tasks: the job base class, the worker check, the canary and the reaper."""

from __future__ import annotations

from celery import Task, shared_task

from . import jobs
from .models import WorkerCheckJob


class JobTask(Task):
    """Base for tasks that run a job row: marks the row failed if the task dies."""

    job_model_label: str = ""

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: D401
        job_id = kwargs.get("job_id", args[0] if args else None)
        model = jobs.job_model_for_label(self.job_model_label)
        if model is not None and job_id is not None:
            jobs.job_fail(model=model, job_id=job_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(bind=True, base=JobTask, job_model_label="core.workercheckjob")
def run_worker_check_task(self, job_id: int) -> str:
    from .services import worker_check_run

    return jobs.execute_job(
        model=WorkerCheckJob, job_id=job_id, task_id=self.request.id, work=worker_check_run
    )


@shared_task
def canary_task() -> str:
    return "pong"


@shared_task
def reap_stale_jobs_task() -> dict[str, int]:
    report = jobs.reap_stale_jobs()
    return {"requeued": report.requeued, "failed": report.failed}


@shared_task
def backup_task() -> str:
    """The nightly backup (beat, when BACKUP_NIGHTLY is on)."""
    from .audit import SCHEDULED, Actor
    from .backups import backup_create

    return str(backup_create(actor=Actor(name=SCHEDULED)).path)
