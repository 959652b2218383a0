from __future__ import annotations

import pytest

from ingest.signals import import_finished
from profiler_site.core.models import JobStatus
from segments.models import (
    BasketRule,
    CustomerScore,
    Recommendation,
    RuleMiningJob,
    SegmentationRun,
)
from segments.services.runs import segmentation_run_start
from tests.support import wait_until


@pytest.mark.django_db
def test_a_finished_order_import_schedules_one_refresh_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_finished.send(sender=None, job_id=1, kind="orders")
        import_finished.send(sender=None, job_id=2, kind="orders")

    runs = list(SegmentationRun.objects.all())
    assert len(runs) == 1  # the second import joins the run already queued
    assert runs[0].status == JobStatus.QUEUED and runs[0].trigger == "import"
    assert len(callbacks) == 1  # the task is sent only once the transaction commits


@pytest.mark.django_db
def test_an_events_import_does_not_schedule_a_refresh(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        import_finished.send(sender=None, job_id=1, kind="events")

    assert not SegmentationRun.objects.exists()


@pytest.mark.django_db
def test_a_running_refresh_does_not_swallow_a_new_request(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        running, _ = segmentation_run_start()
        SegmentationRun.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
        again, created = segmentation_run_start(k=4)

    assert created and again.pk != running.pk and again.k_requested == 4


@pytest.mark.django_db
def test_refresh_button_queues_a_run_with_the_chosen_k(owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post("/segments/refresh/", {"k": "5"}, follow=True)

    run = SegmentationRun.objects.get()
    assert run.k_mode == "fixed" and run.k_requested == 5
    assert "Analysis queued" in response.content.decode()
    assert 'class="progress-box status-queued"' in response.content.decode()


@pytest.mark.django_db
def test_the_api_starts_a_run_and_validates_k(owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        bad = owner_client.post("/api/runs/", {"k": 40}, content_type="application/json")
        started = owner_client.post("/api/runs/", {}, content_type="application/json")
        joined = owner_client.post("/api/runs/", {}, content_type="application/json")

    assert bad.status_code == 400
    assert started.status_code == 202 and started.json()["status"] == "queued"
    assert joined.status_code == 200 and joined.json()["id"] == started.json()["id"]


@pytest.mark.worker
def test_a_real_worker_runs_the_refresh_the_import_signal_scheduled(start_worker, small_shop):
    start_worker(queues="analysis")

    import_finished.send(sender=None, job_id=1, kind="orders")  # autocommit: sent at once

    run = SegmentationRun.objects.get()
    wait_until(lambda: SegmentationRun.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).exists(),
               timeout=90, what="the segmentation run to finish")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.is_current and "customers in" in run.message
    assert CustomerScore.objects.count() == len(small_shop["customers"])
    # The run chained its basket rules job; the same worker mines them next.
    job = RuleMiningJob.objects.get(run=run)
    wait_until(lambda: RuleMiningJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).exists(),
               timeout=90, what="the basket rules job to finish")
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert BasketRule.objects.filter(run=run).exists()
    assert set(Recommendation.objects.values_list("run_id", flat=True)) == {run.pk}
