import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from flows import clock
from flows.models import Enrolment, EnrolmentState
from flows.services.sending import flows_hand_over
from flows.services.triggers import flows_evaluate
from profiler_site.celery import app
from profiler_site.core import jobs
from tests.factories import CustomerFactory
from tests.flows.conftest import T0, make_flow, make_run, run_queued_sends
from tests.support import wait_until


def _at_once(work, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch", [1000, 5])  # 5: both senders get rows, both need the campaign
def test_two_evaluators_and_two_senders_at_once_make_one_enrolment_and_one_email(
        smtp_server, batch, monkeypatch):
    monkeypatch.setattr("flows.services.sending.HAND_OVER_BATCH", batch)
    people = [CustomerFactory() for _ in range(40)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    make_flow(holdout_share=0.1)

    evaluations = _at_once(lambda: flows_evaluate(now=T0))
    assert sum(e[0].entered for e in evaluations) == 40
    assert Enrolment.objects.count() == 40

    later = T0 + timedelta(days=2)
    handed = _at_once(lambda: flows_hand_over(now=later).emailed)
    waiting = Enrolment.objects.filter(holdout=False).count()
    assert sum(handed) == waiting
    run_queued_sends()
    received = Counter(smtp_server.handler.received_to())
    assert sum(received.values()) == waiting and max(received.values()) == 1


def worker_env(smtp_server) -> dict[str, str]:
    return {"EMAIL_URL": smtp_server.url, "PUBLIC_BASE_URL": "https://shop.example.com",
            "CAMPAIGN_MAX_PER_SECOND": "5"}


@pytest.mark.worker
def test_a_worker_killed_between_hand_over_and_the_last_email_resumes_and_emails_nobody_twice(
    start_worker, smtp_server
):
    # given: twelve people due now (the worker's clock is the real one)
    clock.set_now(None)
    smtp_server.handler.hold_data_at = 3
    people = [CustomerFactory() for _ in range(12)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    flow = make_flow(wait_hours=0)
    flows_evaluate()
    worker = start_worker(extra_env=worker_env(smtp_server))

    # when: beat's send task hands them over; the worker dies with the 3rd email in flight
    app.send_task("flows.tasks.send_due_flows_task")
    wait_until(smtp_server.handler.holding.is_set, timeout=60, what="the 3rd email in flight")
    assert set(Enrolment.objects.values_list("state", flat=True)) == {EnrolmentState.EMAILED}
    worker.kill()
    smtp_server.handler.release.set()
    assert wait_until(lambda: jobs.reap_stale_jobs().requeued, timeout=30,
                      what="the reaper to requeue the send") == 1
    start_worker(extra_env=worker_env(smtp_server))
    app.send_task("flows.tasks.send_due_flows_task")  # the next beat tick: nothing new

    # then
    campaign = Campaign.objects.get(flow_link__flow=flow)
    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
               timeout=60, what="the resumed send to finish")
    received = Counter(smtp_server.handler.received_to())
    assert max(received.values()) == 1
    rows = Recipient.objects.filter(campaign=campaign)
    assert rows.count() == 12
    unknown = set(rows.filter(status=RecipientStatus.UNKNOWN).values_list("email", flat=True))
    sent = set(rows.filter(status=RecipientStatus.SENT).values_list("email", flat=True))
    everyone = {c.email for c in people}
    assert unknown  # the batch in flight when the worker died: never resent
    assert sent | unknown == everyone and not sent & unknown
    assert set(received) <= everyone and set(received) - unknown == sent
    assert Enrolment.objects.filter(state=EnrolmentState.EMAILED).count() == 12
