"""Writes of the kernel: accounts, preferences, the worker check job."""

from __future__ import annotations

import hmac
import logging
import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .health import redis_client
from .jobs import job_enqueue, job_progress
from .models import UserPreference, WorkerCheckJob

logger = logging.getLogger(__name__)

SETUP_TOKEN_KEY = "profiler:setup-token"
_SETUP_TOKEN_LOGGED_KEY = "profiler:setup-token-logged"
# Any constant: every first-run request takes this transaction lock before it looks.
_OWNER_CREATE_LOCK = 0x50524F46


def setup_token_issue() -> str:
    """The one-time first-run token, made on first need and printed in the server's log.

    It lives in Redis so every gunicorn worker knows the same one. The log line is
    repeated at most once a minute, so an owner who missed it sees it again, and
    a stranger hammering /setup/ cannot flood the log.
    """
    client = redis_client()
    client.set(SETUP_TOKEN_KEY, secrets.token_urlsafe(24), nx=True)
    token = client.get(SETUP_TOKEN_KEY).decode()
    if client.set(_SETUP_TOKEN_LOGGED_KEY, "1", nx=True, ex=60):
        logger.warning("First run: create the owner account at %s/setup/?token=%s "
                       "(a one-time link)", settings.PUBLIC_BASE_URL.rstrip("/"), token)
    return token


def setup_token_forget() -> None:
    redis_client().delete(SETUP_TOKEN_KEY, _SETUP_TOKEN_LOGGED_KEY)


def _setup_token_matches(presented: str) -> bool:
    stored = redis_client().get(SETUP_TOKEN_KEY)
    return stored is not None and hmac.compare_digest(stored, presented.encode())


def owner_create(*, username: str, email: str, password: str,
                 setup_token: str = "") -> AbstractBaseUser:
    """Create the first account; refuses once any user exists (first run only).

    Concurrent calls are serialised by a transaction-scoped advisory lock: without
    it, two requests could both see "no user yet" and both create a superuser.
    Where SETUP_TOKEN_REQUIRED, the token must match and is used up.
    """
    User = get_user_model()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_OWNER_CREATE_LOCK])
        if User.objects.exists():
            raise PermissionError("An account already exists.")
        if settings.SETUP_TOKEN_REQUIRED and not _setup_token_matches(setup_token):
            raise PermissionError("The setup token is wrong or used.")
        user = User.objects.create_superuser(username=username, email=email, password=password)
    if settings.SETUP_TOKEN_REQUIRED:
        setup_token_forget()
    return user


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
