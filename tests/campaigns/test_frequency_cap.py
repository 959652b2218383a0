"""The frequency cap: at most N marketing emails per customer per rolling 7 days, in the outbox."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import (
    Campaign,
    CampaignSend,
    CampaignStatus,
    Recipient,
    RecipientGroup,
    RecipientStatus,
    SkipReason,
)
from campaigns.selectors import campaign_report, outbox_counts
from campaigns.services.campaigns import campaign_send_start
from campaigns.services.sending import campaign_send_run, outbox_fill, outbox_take
from profiler_site.core.services import user_language_set
from profiler_site.core.shop import shop_profile, shop_settings_update
from tests.campaigns.conftest import make_campaign, make_customers, run_at_once, run_send_inline
from tests.support import wait_until

pytestmark = pytest.mark.django_db


def set_weekly_cap(n: int) -> None:
    shop = shop_profile()
    shop_settings_update(name=shop.name, currency=shop.currency, time_zone=shop.time_zone,
                         sender_name=shop.sender_name, sender_address=shop.sender_address,
                         marketing_emails_per_week=n)


def statuses(campaign) -> Counter:
    return Counter(Recipient.objects.filter(campaign=campaign).values_list("status", flat=True))


def test_the_cap_is_two_emails_a_week_until_the_owner_changes_it():
    assert shop_profile().marketing_emails_per_week == 2


def test_a_third_campaign_this_week_skips_customers_already_emailed_twice(smtp_server):
    make_customers(5)
    run_send_inline(make_campaign(holdout_share=0))
    run_send_inline(make_campaign(holdout_share=0))
    assert len(smtp_server.messages) == 10

    third = make_campaign(holdout_share=0)
    run_send_inline(third)

    assert len(smtp_server.messages) == 10
    assert statuses(third) == {RecipientStatus.SKIPPED: 5}
    assert set(Recipient.objects.filter(campaign=third).values_list("skip_reason", flat=True)) == {
        SkipReason.FREQUENCY_CAP}
    third.refresh_from_db()
    assert third.status == CampaignStatus.SENT  # nothing is left waiting
    report = campaign_report(third)
    assert (report.sent, report.skipped, report.pending) == (0, 5, 0)
    assert [(s.reason, s.count) for s in report.skipped_reasons] == [(SkipReason.FREQUENCY_CAP, 5)]


def test_only_the_customers_at_the_cap_are_skipped(smtp_server):
    emailed_twice = make_customers(3)
    fresh = make_customers(2)
    first, second = make_campaign(holdout_share=0), make_campaign(holdout_share=0)
    for campaign in (first, second):
        outbox_fill(campaign_id=campaign.pk, treatment_ids=[c.pk for c in emailed_twice],
                    holdout_ids=[])
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING,
                                                       send_started_at=timezone.now())
        job = CampaignSend.objects.create(campaign=campaign)
        campaign_send_run(job)

    third = make_campaign(holdout_share=0)
    run_send_inline(third)

    got = Counter(smtp_server.handler.received_to())
    assert {c.email: got[c.email] for c in emailed_twice} == {c.email: 2 for c in emailed_twice}
    assert {c.email: got[c.email] for c in fresh} == {c.email: 1 for c in fresh}
    assert statuses(third) == {RecipientStatus.SKIPPED: 3, RecipientStatus.SENT: 2}


def test_emails_sent_more_than_seven_days_ago_do_not_count(smtp_server):
    make_customers(4)
    run_send_inline(make_campaign(holdout_share=0))
    run_send_inline(make_campaign(holdout_share=0))
    Recipient.objects.update(sending_at=timezone.now() - timedelta(days=7, minutes=1))

    third = make_campaign(holdout_share=0)
    run_send_inline(third)

    assert statuses(third) == {RecipientStatus.SENT: 4}
    assert len(smtp_server.messages) == 12


@pytest.mark.parametrize(("later", "taken"), [
    (timedelta(days=7) - timedelta(seconds=1), False),  # still inside the rolling 7 days
    (timedelta(days=7) + timedelta(seconds=1), True),
])
def test_the_window_rolls_by_the_clock_of_the_take(later, taken):
    customer = make_customers(1)[0]
    rows = []
    for _ in range(3):
        campaign = make_campaign(holdout_share=0)
        outbox_fill(campaign_id=campaign.pk, treatment_ids=[customer.pk], holdout_ids=[])
        rows.append(Recipient.objects.get(campaign=campaign).pk)
    start = timezone.now()
    assert outbox_take(recipient_ids=rows[:1], run_id="a", now=start) == {rows[0]}
    assert outbox_take(recipient_ids=rows[1:2], run_id="b", now=start + timedelta(hours=1)) == {
        rows[1]}

    got = outbox_take(recipient_ids=rows[2:], run_id="c", now=start + later)

    assert got == ({rows[2]} if taken else set())


def test_held_out_customers_are_not_emailed_and_do_not_count(smtp_server):
    customers = make_customers(4)
    ids = [c.pk for c in customers]
    for _ in range(3):  # three campaigns held every one of them out
        outbox_fill(campaign_id=make_campaign().pk, treatment_ids=[], holdout_ids=ids)

    campaign = make_campaign(holdout_share=0)
    run_send_inline(campaign)

    assert statuses(campaign) == {RecipientStatus.SENT: 4}
    assert Recipient.objects.filter(status=RecipientStatus.HELD_OUT).count() == 12


def test_a_capped_campaign_keeps_its_holdout_held_out_not_skipped(smtp_server):
    make_customers(20)
    run_send_inline(make_campaign(holdout_share=0))
    run_send_inline(make_campaign(holdout_share=0))

    third = make_campaign(holdout_share=0.25)
    run_send_inline(third)

    assert statuses(third) == {RecipientStatus.SKIPPED: 15, RecipientStatus.HELD_OUT: 5}
    assert not Recipient.objects.filter(campaign=third, group=RecipientGroup.HOLDOUT).exclude(
        status=RecipientStatus.HELD_OUT).exists()


def test_the_owner_sets_the_cap_on_the_settings_page(owner_client, smtp_server):
    make_customers(3)
    shop = shop_profile()
    response = owner_client.post(reverse("shop-settings"), {
        "name": "Beans", "currency": shop.currency, "time_zone": shop.time_zone,
        "sender_name": "", "sender_address": "", "marketing_emails_per_week": "1"})
    assert response.status_code == 302
    assert shop_profile().marketing_emails_per_week == 1
    assert 'name="marketing_emails_per_week"' in owner_client.get(reverse("settings")).content.decode()

    run_send_inline(make_campaign(holdout_share=0))
    second = make_campaign(holdout_share=0)
    run_send_inline(second)

    assert len(smtp_server.messages) == 3
    assert statuses(second) == {RecipientStatus.SKIPPED: 3}


def test_a_cap_of_zero_means_no_cap(smtp_server):
    make_customers(2)
    set_weekly_cap(0)
    for _ in range(3):
        run_send_inline(make_campaign(holdout_share=0))
    assert len(smtp_server.messages) == 6


@pytest.mark.django_db(transaction=True)
def test_two_transactions_taking_one_customer_at_once_respect_the_cap():
    set_weekly_cap(2)
    customer = make_customers(1)[0]
    earlier, first, second = (make_campaign(holdout_share=0) for _ in range(3))
    rows = {}
    for campaign in (earlier, first, second):
        outbox_fill(campaign_id=campaign.pk, treatment_ids=[customer.pk], holdout_ids=[])
        rows[campaign.pk] = Recipient.objects.get(campaign=campaign).pk
    assert outbox_take(recipient_ids=[rows[earlier.pk]], run_id="earlier") == {rows[earlier.pk]}

    took = threading.Event()
    release = threading.Event()
    second_done = threading.Event()
    results: dict[str, set[int]] = {}
    errors: list[BaseException] = []

    def take_and_hold() -> None:  # the first sender's transaction stays open until released
        try:
            with transaction.atomic():
                results["first"] = outbox_take(recipient_ids=[rows[first.pk]], run_id="first")
                took.set()
                release.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            took.set()
            connection.close()

    def take() -> None:
        try:
            results["second"] = outbox_take(recipient_ids=[rows[second.pk]], run_id="second")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    def second_is_waiting_for_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            return cursor.fetchone()[0] > 0

    holder = threading.Thread(target=take_and_hold)
    holder.start()
    took.wait(timeout=30)
    racer = threading.Thread(target=take)
    racer.start()
    # Either the second sender finished at once (no serialising: the bug) or it waits.
    wait_until(lambda: second_done.is_set() or second_is_waiting_for_a_lock(),
               what="the second sender to finish or wait")
    release.set()
    holder.join(timeout=30)
    racer.join(timeout=30)

    assert not errors
    assert results == {"first": {rows[first.pk]}, "second": set()}
    assert Recipient.objects.get(pk=rows[second.pk]).status == RecipientStatus.SKIPPED


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_sending_at_once_to_the_same_people_stay_within_the_cap(smtp_server):
    set_weekly_cap(2)
    make_customers(40)
    run_send_inline(make_campaign(holdout_share=0))  # everyone has one email this week
    campaigns = [make_campaign(holdout_share=0, max_per_second=0) for _ in range(2)]
    jobs = [campaign_send_start(campaign_id=c.pk) for c in campaigns]

    with override_settings(CAMPAIGN_BATCH_SIZE=3):
        run_at_once(*(lambda pk=job.pk: campaign_send_run(CampaignSend.objects.get(pk=pk))
                      for job in jobs))

    received = Counter(smtp_server.handler.received_to())
    assert len(received) == 40 and set(received.values()) == {2}
    skipped = Recipient.objects.filter(status=RecipientStatus.SKIPPED).count()
    assert skipped == 40


def test_the_outbox_page_counts_skipped_sends_with_their_reason(owner, owner_client,
                                                                smtp_server):
    make_customers(3)
    set_weekly_cap(1)
    run_send_inline(make_campaign(holdout_share=0))
    run_send_inline(make_campaign(holdout_share=0))

    counts = outbox_counts(now=timezone.now())
    assert (counts.sent, counts.skipped, counts.weekly_cap) == (3, 3, 1)
    assert [(s.reason, s.count) for s in counts.skipped_reasons] == [
        (SkipReason.FREQUENCY_CAP, 3)]
    page = owner_client.get(reverse("campaign-outbox")).content.decode()
    assert 'id="outbox-counts"' in page
    assert "weekly limit" in page and 'class="skipped-count">3<' in page

    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("campaign-outbox")).content.decode()
    assert "每周上限" in page and 'class="skipped-count">3<' in page


def test_the_campaign_report_shows_skipped_sends_in_both_languages(owner, owner_client,
                                                                  smtp_server):
    make_customers(2)
    set_weekly_cap(1)
    run_send_inline(make_campaign(holdout_share=0))
    second = make_campaign(holdout_share=0)
    run_send_inline(second)

    page = owner_client.get(reverse("campaign-report", args=[second.pk])).content.decode()
    assert 'class="value kpi-skipped">2<' in page and "weekly limit" in page

    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("campaign-report", args=[second.pk])).content.decode()
    assert 'class="value kpi-skipped">2<' in page and "每周上限" in page


def test_the_api_stats_count_skipped_sends_by_reason(owner, smtp_server):
    make_customers(2)
    set_weekly_cap(1)
    run_send_inline(make_campaign(holdout_share=0))
    second = make_campaign(holdout_share=0)
    run_send_inline(second)
    api = APIClient()
    api.force_authenticate(owner)

    stats = api.get(f"/api/campaigns/{second.pk}/stats/").json()

    assert (stats["sent"], stats["skipped"]) == (0, 2)
    assert stats["skipped_reasons"] == {"frequency_cap": 2}
