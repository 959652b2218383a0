"""A real Celery worker runs jobs; a worker killed mid-job never leaves one "running"."""

import pytest
from django.urls import reverse

from profiler_site.core import jobs, services
from profiler_site.core.models import JobStatus, WorkerCheckJob
from tests.support import wait_until

pytestmark = pytest.mark.worker


def job_state(pk):
    return WorkerCheckJob.objects.get(pk=pk)


def test_a_real_worker_finishes_the_job_and_the_progress_component_shows_it(
    start_worker, client, django_user_model
):
    user = django_user_model.objects.create_user(username="o", password="x-long-password-1")
    client.force_login(user)
    start_worker()

    job = services.worker_check_start(steps=5, step_seconds=0.01)
    wait_until(lambda: job_state(job.pk).status == JobStatus.SUCCEEDED, what="job to finish")

    html = client.get(reverse("job-progress", args=["core.workercheckjob", job.pk])).content.decode()
    assert "Finished" in html and "100%" in html
    assert job_state(job.pk).processed == 5


def test_a_worker_killed_with_sigkill_mid_job_does_not_leave_it_running(start_worker):
    worker = start_worker()
    job = services.worker_check_start(steps=200, step_seconds=0.05)
    wait_until(lambda: job_state(job.pk).processed >= 3, what="the job to make progress")

    worker.kill()
    checkpoint = job_state(job.pk).processed
    assert job_state(job.pk).status == JobStatus.RUNNING  # the dead worker cannot say otherwise

    # the reaper sees the stale heartbeat (3 s in tests) and no live worker holding it
    report = wait_until(lambda: jobs.reap_stale_jobs().requeued, timeout=30,
                        what="the reaper to requeue the job")
    assert report == 1
    assert job_state(job.pk).status == JobStatus.QUEUED

    start_worker()  # a new worker resumes from the checkpoint
    wait_until(lambda: job_state(job.pk).status == JobStatus.SUCCEEDED, timeout=60,
               what="the requeued job to finish")
    final = job_state(job.pk)
    assert final.processed == 200 and final.attempts == 2
    assert checkpoint > 0
