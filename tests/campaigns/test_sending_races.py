"""Concurrent and crashing senders: never two copies to one person."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import override_settings

from campaigns.models import (
    Campaign,
    CampaignSend,
    CampaignStatus,
    Recipient,
    RecipientGroup,
    RecipientStatus,
)
from campaigns.services.campaigns import _queue_run, campaign_send_start
from campaigns.services.sending import campaign_send_run
from profiler_site.core import jobs
from profiler_site.core.models import JobStatus
from tests.campaigns.conftest import make_campaign, make_customers, run_at_once
from tests.support import wait_until


def treatment_emails(campaign) -> set[str]:
    return set(Recipient.objects.filter(campaign=campaign, group=RecipientGroup.TREATMENT)
               .values_list("email", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_runs_racing_in_threads_never_send_to_anyone_twice(smtp_server):
    make_customers(60)
    campaign = make_campaign(holdout_share=0.1, max_per_second=0)
    first = campaign_send_start(campaign_id=campaign.pk)
    second = CampaignSend.objects.create(campaign=campaign)

    with override_settings(CAMPAIGN_BATCH_SIZE=3):
        run_at_once(*(lambda pk=pk: campaign_send_run(CampaignSend.objects.get(pk=pk))
                      for pk in (first.pk, second.pk)))

    received = Counter(smtp_server.handler.received_to())
    assert set(received) == treatment_emails(campaign)
    assert max(received.values()) == 1
    assert sum(received.values()) == 54
    # both runs really sent something: it was a race, not a queue
    sends = list(CampaignSend.objects.filter(campaign=campaign).values_list("sent", flat=True))
    assert sum(sends) == 54 and min(sends) > 0




def worker_env(smtp_server) -> dict[str, str]:
    return {"EMAIL_URL": smtp_server.url, "PUBLIC_BASE_URL": "https://shop.example.com"}


@pytest.mark.worker
def test_two_real_workers_on_one_campaign_never_double_send(start_worker, smtp_server):
    start_worker(extra_env=worker_env(smtp_server))
    start_worker(extra_env=worker_env(smtp_server))
    make_customers(80)
    campaign = make_campaign(holdout_share=0.1, max_per_second=200)

    campaign_send_start(campaign_id=campaign.pk)
    _queue_run(Campaign.objects.get(pk=campaign.pk))  # a second run, e.g. a double click via API

    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
               timeout=60, what="the campaign to finish")
    wait_until(lambda: not CampaignSend.objects.filter(
        campaign=campaign, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists(),
        timeout=30, what="both runs to end")
    received = Counter(smtp_server.handler.received_to())
    assert set(received) == treatment_emails(campaign)
    assert max(received.values()) == 1 and sum(received.values()) == 72


@pytest.mark.worker
def test_a_worker_killed_mid_batch_leaves_the_batch_unknown_and_the_resume_never_resends_it(
    start_worker, smtp_server
):
    # given: a slow campaign (10/s, so batches of 10); the server holds the 3rd DATA open
    smtp_server.handler.hold_data_at = 3
    worker = start_worker(extra_env=worker_env(smtp_server))
    make_customers(12)
    campaign = make_campaign(holdout_share=0.1, max_per_second=10)
    job = campaign_send_start(campaign_id=campaign.pk)
    treatment = treatment_emails(campaign)
    wait_until(smtp_server.handler.holding.is_set, what="the 3rd message to be in flight")
    # the whole first batch was committed as `sending` before its first SMTP call
    batch = set(Recipient.objects.filter(campaign=campaign, status=RecipientStatus.SENDING)
                .values_list("email", flat=True))
    assert len(batch) == 10 and len(treatment) == 11

    # when: the worker dies mid-batch (whether the server keeps the message in flight is
    # up to the server: aiosmtpd drops it when the client vanishes)
    worker.kill()
    smtp_server.handler.release.set()
    assert wait_until(lambda: jobs.reap_stale_jobs().requeued, timeout=30,
                      what="the reaper to requeue the send") == 1
    start_worker(extra_env=worker_env(smtp_server))

    # then: the batch's rows, sent or not, are unknown and none is sent again
    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
               timeout=60, what="the resumed campaign to finish")
    assert set(Recipient.objects.filter(campaign=campaign, status=RecipientStatus.UNKNOWN)
               .values_list("email", flat=True)) == batch
    received = Counter(smtp_server.handler.received_to())
    assert max(received.values()) == 1  # nobody got two copies
    assert smtp_server.handler.data_calls == 3 + len(treatment - batch)
    assert set(received) - batch == treatment - batch
    assert Recipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT).count() == 1
    final = CampaignSend.objects.get(pk=job.pk)
    assert final.status == JobStatus.SUCCEEDED and final.attempts == 2
    assert final.unknown == 10 and "10 unknown" in final.message
