"""Services for job rows: claim, progress, finish, fail, cancel, reap.

Every long task goes through `execute_job`, so the bookkeeping (who runs it,
heartbeat, checkpoint, final status) lives in one place.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import Job, JobStatus

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a job's work when the owner pressed Cancel."""


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def job_model_for_label(label: str) -> type[Job] | None:
    for model in job_models():
        if model._meta.label_lower == label.lower():
            return model
    return None


# A queued job's message, stored in English and shown in the reader's language.
WAITING_FOR_WORKER = gettext_noop("Waiting for a worker…")


def job_enqueue(*, job: Job, task) -> None:
    """Send the job's task after the surrounding transaction commits (never before)."""
    task_id = str(uuid.uuid4())
    type(job).objects.filter(pk=job.pk).update(task_id=task_id, status=JobStatus.QUEUED)
    job.task_id = task_id
    job.status = JobStatus.QUEUED
    transaction.on_commit(lambda: task.apply_async(args=[job.pk], task_id=task_id))


def job_claim(*, model: type[Job], job_id: int, task_id: str) -> Job | None:
    """Take the job for this worker, or return None when someone alive has it or it ended.

    A running row is claimable again when its heartbeat went stale or when the
    same message is redelivered (the worker that had it died).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    claimable = Q(status=JobStatus.QUEUED) | Q(
        Q(status=JobStatus.RUNNING) & (Q(heartbeat_at__lt=stale) | Q(task_id=task_id))
    )
    with transaction.atomic():
        job = model.objects.select_for_update().filter(pk=job_id).filter(claimable).first()
        if job is None:
            return None
        if job.cancel_requested:
            job.status = JobStatus.CANCELLED
            job.finished_at = now
            job.save(update_fields=["status", "finished_at"])
            return None
        job.status = JobStatus.RUNNING
        job.task_id = task_id or job.task_id
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save(
            update_fields=["status", "task_id", "attempts", "started_at", "heartbeat_at", "error"]
        )
    return job


def job_progress(
    *,
    job: Job,
    processed: int | None = None,
    total: int | None = None,
    phase: str | None = None,
    message: str | None = None,
) -> None:
    """Record progress and beat the heartbeat; raise JobCancelled if the owner cancelled."""
    fields = {"heartbeat_at": timezone.now()}
    if processed is not None:
        fields["processed"] = processed
    if total is not None:
        fields["total"] = total
    if phase is not None:
        fields["phase"] = phase
    if message is not None:
        fields["message"] = message
    for name, value in fields.items():
        setattr(job, name, value)
    type(job).objects.filter(pk=job.pk).update(**fields)
    cancel = type(job).objects.filter(pk=job.pk).values_list("cancel_requested", flat=True).first()
    if cancel:
        raise JobCancelled


def job_succeed(*, job: Job, message: str = "") -> None:
    job.status = JobStatus.SUCCEEDED
    job.finished_at = timezone.now()
    job.heartbeat_at = job.finished_at
    job.message = message or job.message
    job.save(update_fields=["status", "finished_at", "heartbeat_at", "message"])


def job_fail(*, model: type[Job], job_id: int, error: str) -> None:
    """Mark the job failed unless it already ended (failure bookkeeping, one place)."""
    model.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.FAILED, error=error[:10_000], finished_at=timezone.now()
    )


def job_request_cancel(*, job: Job) -> None:
    """Ask a job to stop; a queued job stops at once, a running one at its next checkpoint."""
    model = type(job)
    model.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    model.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()


def execute_job(
    *, model: type[Job], job_id: int, task_id: str, work: Callable[[Job], str | None]
) -> str:
    """Claim the job, run `work(job)` and record how it ended. Returns the final status."""
    job = job_claim(model=model, job_id=job_id, task_id=task_id)
    if job is None:
        logger.info("job %s %s not claimable (ended or held by a live worker)", model, job_id)
        return "skipped"
    try:
        message = work(job)
    except JobCancelled:
        model.objects.filter(pk=job.pk).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), message=_("Cancelled.")
        )
        return JobStatus.CANCELLED
    except Exception as exc:
        # Errors meant for the owner carry a `reason` sentence; others show their type.
        error = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        logger.error("job %s %s failed:\n%s", model.__name__, job_id, traceback.format_exc())
        job_fail(model=model, job_id=job.pk, error=error)
        raise
    job_succeed(job=job, message=message or "")
    return JobStatus.SUCCEEDED


@dataclass(frozen=True, kw_only=True, slots=True)
class ReapReport:
    requeued: int
    failed: int


def _active_task_ids() -> set[str] | None:
    """Task ids that live workers are running now; None if the broker cannot be asked."""
    from profiler_site.celery import app

    try:
        replies = app.control.inspect(timeout=1.0).active() or {}
    except Exception:  # broker down: we cannot tell, so we do not reap
        logger.warning("reaper could not reach the broker", exc_info=True)
        return None
    return {task["id"] for tasks in replies.values() for task in tasks}


def reap_stale_jobs() -> ReapReport:
    """Requeue (or fail, after too many tries) running jobs whose worker died."""
    from profiler_site.celery import app

    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    candidates = [
        (model, job)
        for model in job_models()
        for job in model.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
    ]
    if not candidates:
        return ReapReport(requeued=0, failed=0)
    active = _active_task_ids()
    if active is None:
        return ReapReport(requeued=0, failed=0)
    requeued = failed = 0
    for model, job in candidates:
        if job.task_id in active:
            continue  # slow, not dead
        if job.attempts < settings.JOB_MAX_ATTEMPTS and model.task_name:
            new_task_id = str(uuid.uuid4())
            updated = model.objects.filter(
                pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=stale
            ).update(
                status=JobStatus.QUEUED,
                task_id=new_task_id,
                message=_("The worker stopped unexpectedly; the job was queued again."),
            )
            if updated:
                app.send_task(model.task_name, args=[job.pk], task_id=new_task_id)
                requeued += 1
        else:
            updated = model.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED,
                finished_at=timezone.now(),
                error=_(
                    "The worker running this job stopped unexpectedly %(n)s times; "
                    "the job was stopped. Start it again when the worker is healthy."
                )
                % {"n": job.attempts},
            )
            failed += updated
    if requeued or failed:
        logger.warning("reaper: requeued %s, failed %s stale jobs", requeued, failed)
    return ReapReport(requeued=requeued, failed=failed)
