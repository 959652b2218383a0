"""Writes of the kernel: accounts, preferences, the worker check job."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from .jobs import job_enqueue, job_progress
from .models import UserPreference, WorkerCheckJob


def owner_create(*, username: str, email: str, password: str) -> AbstractBaseUser:
    """Create the first account; refuses once any user exists (first run only)."""
    User = get_user_model()
    with transaction.atomic():
        if User.objects.exists():
            raise PermissionError("An account already exists.")
        return User.objects.create_superuser(username=username, email=email, password=password)


def user_language_set(*, user: AbstractBaseUser, language: str) -> UserPreference:
    pref, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return pref


def worker_check_start(*, steps: int = 20, step_seconds: float = 0.1) -> WorkerCheckJob:
    from .tasks import run_worker_check_task

    with transaction.atomic():
        job = WorkerCheckJob.objects.create(total=steps, step_seconds=step_seconds)
        job_enqueue(job=job, task=run_worker_check_task)
    return job


def worker_check_run(job: WorkerCheckJob) -> str:
    """Count from the checkpoint to `total`; resumable, so a redelivery finishes the count."""
    for step in range(job.processed, job.total):
        time.sleep(job.step_seconds)
        job_progress(job=job, processed=step + 1, phase=_("Counting"))
    return _("The background worker works: counted to %(n)s.") % {"n": job.total}
