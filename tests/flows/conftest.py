"""Flows test helpers: runs with memberships, flows, and the outbox run in this process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.models import CampaignSend
from campaigns.services.sending import campaign_send_run
from flows import clock
from flows.models import Flow
from flows.services.flows import flow_create, flow_switch
from profiler_site.core.jobs import execute_job
from profiler_site.core.models import JobStatus
from segments.models import SegmentationRun, SegmentMembership
from tests.campaigns.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_now(T0)
    yield clock
    clock.set_now(None)


def make_run(memberships: dict, *, current: bool = True) -> SegmentationRun:
    """A succeeded run with customer -> rfm key (or (rfm, cluster)) memberships."""
    if current:
        SegmentationRun.objects.filter(is_current=True).update(is_current=False)
    run = SegmentationRun.objects.create(status=JobStatus.SUCCEEDED, is_current=current,
                                         finished_at=clock.now())
    SegmentMembership.objects.bulk_create(
        SegmentMembership(run=run, customer=customer,
                          rfm_key=key if isinstance(key, str) else key[0],
                          cluster_key="c0" if isinstance(key, str) else key[1])
        for customer, key in memberships.items()
    )
    return run


def make_flow(*, on: bool = True, **fields) -> Flow:
    values = {
        "name": "Win back",
        "trigger_kind": "segment_enter",
        "trigger_params": {"segment_kind": "rfm", "to_keys": ["at_risk", "cant_lose"]},
        "wait_hours": 24,
        "subject": 'We miss you, {{ first_name | "friend" }}',
        "from_name": "Bean Shop",
        "from_address": "shop@beans.example",
        "html_body": '<p>Hi {{ first_name }}</p><p><a href="https://beans.example/">Come back</a></p>',
        "holdout_share": 0.0,
        "window_start_hour": 0,
        "window_end_hour": 24,
    }
    values.update(fields)
    flow = flow_create(**values)
    if on:
        flow = flow_switch(flow_id=flow.pk, on=True)
    return flow


def run_queued_sends() -> list[CampaignSend]:
    """Run every queued outbox run in this process (the worker's part, without a broker)."""
    done = []
    for job in CampaignSend.objects.filter(status=JobStatus.QUEUED).order_by("pk"):
        execute_job(model=CampaignSend, job_id=job.pk, task_id=job.task_id, work=campaign_send_run)
        job.refresh_from_db()
        done.append(job)
    return done
