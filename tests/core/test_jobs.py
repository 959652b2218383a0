from datetime import timedelta

import pytest
from django.utils import timezone

from profiler_site.core import jobs
from profiler_site.core.models import JobStatus, WorkerCheckJob

pytestmark = pytest.mark.django_db


def make_job(**fields) -> WorkerCheckJob:
    return WorkerCheckJob.objects.create(total=5, step_seconds=0, **fields)


def test_a_queued_job_is_claimed_once_and_a_second_claim_gets_nothing():
    job = make_job()

    first = jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="t1")
    second = jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="t2")

    assert first is not None and first.status == JobStatus.RUNNING and first.attempts == 1
    assert second is None


def test_a_redelivered_message_reclaims_the_job_its_dead_worker_held():
    job = make_job()
    jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="same")

    again = jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="same")

    assert again is not None and again.attempts == 2


def test_a_running_job_with_a_stale_heartbeat_can_be_claimed_by_another_worker():
    job = make_job(status=JobStatus.RUNNING, task_id="old",
                   heartbeat_at=timezone.now() - timedelta(hours=1))

    assert jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="new") is not None


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_an_ended_job_is_never_run_again(status):
    job = make_job(status=status)

    assert jobs.job_claim(model=WorkerCheckJob, job_id=job.pk, task_id="x") is None


def test_execute_job_runs_the_work_and_records_success():
    job = make_job()

    status = jobs.execute_job(model=WorkerCheckJob, job_id=job.pk, task_id="t",
                              work=lambda j: "all good")

    job.refresh_from_db()
    assert status == JobStatus.SUCCEEDED
    assert (job.status, job.message) == (JobStatus.SUCCEEDED, "all good")
    assert job.finished_at is not None and job.percent == 100


def test_execute_job_records_the_error_when_the_work_raises():
    job = make_job()

    def explode(j):
        raise ValueError("the file is broken")

    with pytest.raises(ValueError):
        jobs.execute_job(model=WorkerCheckJob, job_id=job.pk, task_id="t", work=explode)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "the file is broken" in job.error


def test_cancel_stops_a_running_job_at_its_next_progress_report():
    job = make_job()

    def work(j):
        jobs.job_request_cancel(job=WorkerCheckJob.objects.get(pk=j.pk))
        jobs.job_progress(job=j, processed=1)
        return "not reached"

    status = jobs.execute_job(model=WorkerCheckJob, job_id=job.pk, task_id="t", work=work)

    job.refresh_from_db()
    assert status == JobStatus.CANCELLED and job.status == JobStatus.CANCELLED


def test_cancelling_a_queued_job_ends_it_at_once():
    job = make_job()

    jobs.job_request_cancel(job=job)

    assert job.status == JobStatus.CANCELLED


def test_the_reaper_requeues_a_stale_job_no_worker_is_running(purge_broker):
    job = make_job(status=JobStatus.RUNNING, task_id="dead", attempts=1,
                   heartbeat_at=timezone.now() - timedelta(minutes=10))

    report = jobs.reap_stale_jobs()

    job.refresh_from_db()
    assert report.requeued == 1
    assert job.status == JobStatus.QUEUED and job.task_id != "dead"


def test_the_reaper_fails_a_job_that_already_used_all_its_attempts(settings):
    job = make_job(status=JobStatus.RUNNING, task_id="dead", attempts=settings.JOB_MAX_ATTEMPTS,
                   heartbeat_at=timezone.now() - timedelta(minutes=10))

    report = jobs.reap_stale_jobs()

    job.refresh_from_db()
    assert report.failed == 1
    assert job.status == JobStatus.FAILED and "stopped unexpectedly" in job.error


def test_the_reaper_leaves_a_job_with_a_fresh_heartbeat_alone():
    job = make_job(status=JobStatus.RUNNING, task_id="alive", heartbeat_at=timezone.now())

    report = jobs.reap_stale_jobs()

    job.refresh_from_db()
    assert (report.requeued, report.failed) == (0, 0) and job.status == JobStatus.RUNNING
