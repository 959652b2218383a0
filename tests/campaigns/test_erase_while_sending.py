"""Erasing a customer while a campaign is sending to them: no email after the erasure."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientGroup, RecipientStatus
from campaigns.services.campaigns import campaign_send_start
from ingest.services.privacy import customer_erase
from profiler_site.core.audit import Actor
from tests.campaigns.conftest import make_campaign, make_customers
from tests.campaigns.test_sending_races import worker_env
from tests.support import wait_until


def _waits_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


@pytest.mark.worker
def test_a_customer_erased_while_their_campaign_sends_gets_no_email(start_worker, smtp_server):
    # given: a real worker sending batches of 10; the server holds the 3rd message of
    # the first batch open, and the target is the last treatment row (second batch)
    smtp_server.handler.hold_data_at = 3
    start_worker(extra_env=worker_env(smtp_server))
    make_customers(12)
    campaign = make_campaign(holdout_share=0.1, max_per_second=10)
    campaign_send_start(campaign_id=campaign.pk)
    target = Recipient.objects.filter(campaign=campaign, group=RecipientGroup.TREATMENT).last()
    address = target.email
    wait_until(smtp_server.handler.holding.is_set, what="the first batch to be in flight")

    # when: the erasure starts while that batch is in flight
    done = threading.Event()
    pid: dict[str, int] = {}

    def erase() -> None:
        try:
            connection.ensure_connection()
            pid["erase"] = connection.connection.info.backend_pid
            customer_erase(customer_id=target.customer_id, actor=Actor(name="owner"))
            done.set()
        finally:
            connection.close()

    eraser = threading.Thread(target=erase)
    eraser.start()
    # it waits for the batch in flight to be answered...
    wait_until(lambda: "erase" in pid and _waits_for_a_lock(pid["erase"]),
               what="the erasure to wait for the batch in flight")
    assert not done.is_set()
    smtp_server.handler.release.set()
    eraser.join(30)
    assert done.is_set()

    # then: the campaign ends, and the erased customer was never emailed
    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
               timeout=60, what="the campaign to finish")
    received = smtp_server.handler.received_to()
    assert address not in received
    assert len(received) == 10  # everyone else in the treatment group
    assert not Recipient.objects.filter(pk=target.pk).exists()
    assert not Recipient.objects.filter(campaign=campaign, email=address).exists()
    assert Recipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT).count() == 10
