"""Thin Celery tasks: fetch by id, call one service."""

from __future__ import annotations

from celery import shared_task

from profiler_site.core import jobs
from profiler_site.core.tasks import JobTask


@shared_task(bind=True, base=JobTask, job_model_label="campaigns.campaignsend")
def send_campaign_task(self, job_id: int) -> str:
    from campaigns.models import CampaignSend
    from campaigns.services.sending import campaign_send_run

    return jobs.execute_job(
        model=CampaignSend, job_id=job_id, task_id=self.request.id, work=campaign_send_run
    )


@shared_task(acks_late=True)
def start_due_campaigns_task() -> list[int]:
    """From beat: start the scheduled campaigns whose time has come (idempotent)."""
    from django.utils import timezone

    from campaigns.services.campaigns import campaigns_start_due

    return campaigns_start_due(now=timezone.now())
