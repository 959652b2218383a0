"""Shared helpers for the segments tests: run the refresh in-process, the real code path."""

from __future__ import annotations

from profiler_site.core.jobs import execute_job
from segments.models import RuleMiningJob, SegmentationRun
from segments.services.refresh import segmentation_run_execute
from segments.services.rules import rule_mining_execute


def run_rule_mining(run: SegmentationRun) -> RuleMiningJob:
    """Execute the rules job the run queued, here, as the worker would."""
    job = RuleMiningJob.objects.get(run=run)
    status = execute_job(model=RuleMiningJob, job_id=job.pk, task_id=f"test-rules-{job.pk}",
                         work=rule_mining_execute)
    job.refresh_from_db()
    assert status == "succeeded", (status, job.error)
    return job


def run_refresh(*, k: int | None = None, rules: bool = True) -> SegmentationRun:
    """Create a run and execute it here (claim → work → finish) as the worker would;
    then, unless ``rules`` is False, the basket rules job it chained."""
    run = SegmentationRun.objects.create(k_mode="fixed" if k else "auto", k_requested=k)
    status = execute_job(model=SegmentationRun, job_id=run.pk, task_id=f"test-{run.pk}",
                         work=segmentation_run_execute)
    run.refresh_from_db()
    assert status == "succeeded", (status, run.error)
    if rules and run.as_of is not None:
        run_rule_mining(run)
        run.refresh_from_db()
    return run


def log_in_as_owner(page, live_server) -> None:
    """Create the owner account and log in through the real form, in the browser."""
    import re

    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
