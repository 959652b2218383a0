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
