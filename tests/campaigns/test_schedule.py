"""Scheduled campaigns: a time in the shop's zone, shown three ways, started once by beat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.forms import ScheduleForm
from campaigns.models import Campaign, CampaignSend, CampaignStatus, Recipient
from campaigns.schedule import NonExistentLocalTime, local_to_utc
from campaigns.services.campaigns import (
    CampaignError,
    campaign_cancel,
    campaign_schedule,
    campaign_unschedule,
    campaigns_start_due,
)
from profiler_site.core.services import user_language_set
from profiler_site.core.shop import shop_profile, shop_settings_update
from tests.campaigns.conftest import make_campaign, make_customers, run_at_once

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 8, 10, 0, tzinfo=UTC)  # the injected clock
AT = datetime(2027, 1, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def set_zone(zone: str) -> None:
    shop = shop_profile()
    shop_settings_update(name=shop.name, currency=shop.currency, time_zone=zone,
                         sender_name=shop.sender_name, sender_address=shop.sender_address)


# --- local time -> UTC (pure) ------------------------------------------------------------


def test_a_plain_local_time_becomes_its_utc_instant():
    resolved = local_to_utc(datetime(2027, 1, 10, 9, 0), "Asia/Shanghai")
    assert resolved.utc == AT and resolved.utc.tzinfo is UTC and not resolved.ambiguous


def test_a_local_time_skipped_by_the_clocks_going_forward_is_refused():
    with pytest.raises(NonExistentLocalTime):
        local_to_utc(datetime(2027, 3, 28, 1, 30), "Europe/London")
    with pytest.raises(NonExistentLocalTime):
        local_to_utc(datetime(2027, 3, 14, 2, 15), "America/New_York")


def test_a_local_time_that_happens_twice_is_the_first_one():
    resolved = local_to_utc(datetime(2026, 10, 25, 1, 30), "Europe/London")
    assert resolved.ambiguous
    assert resolved.utc == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # BST, before the change
    resolved = local_to_utc(datetime(2026, 11, 1, 1, 30), "America/New_York")
    assert resolved.ambiguous and resolved.utc == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# --- the form ------------------------------------------------------------------------------


def test_the_form_reads_the_time_in_the_shops_zone():
    form = ScheduleForm({"when": "2027-01-10T09:00"}, zone="Asia/Shanghai", now=NOW)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["at"] == AT


def test_the_form_refuses_a_time_that_does_not_exist_in_the_shops_zone():
    form = ScheduleForm({"when": "2027-03-28T01:30"}, zone="Europe/London", now=NOW)
    assert not form.is_valid()
    assert "does not exist in Europe/London" in form.errors["when"][0]


def test_the_form_states_which_of_two_equal_local_times_it_chose():
    form = ScheduleForm({"when": "2027-10-31T01:30"}, zone="Europe/London",
                        now=datetime(2027, 10, 1, tzinfo=UTC))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["at"] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert form.cleaned_data["ambiguous"]


@pytest.mark.parametrize("value", ["2027-01-08T10:00", "2026-12-31T23:00", "tomorrow", ""])
def test_the_form_refuses_a_time_in_the_past_or_not_a_time(value):
    form = ScheduleForm({"when": value}, zone="UTC", now=NOW)
    assert not form.is_valid()


# --- the service ---------------------------------------------------------------------------


def test_a_scheduled_campaign_starts_when_due_and_not_before():
    make_customers(5)
    campaign = make_campaign(holdout_share=0)
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_for) == (CampaignStatus.SCHEDULED, AT)

    assert campaigns_start_due(now=AT - timedelta(seconds=1)) == []
    assert not CampaignSend.objects.exists() and not Recipient.objects.exists()

    assert campaigns_start_due(now=AT) == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert CampaignSend.objects.filter(campaign=campaign).count() == 1
    assert Recipient.objects.filter(campaign=campaign).count() == 5

    assert campaigns_start_due(now=AT + timedelta(minutes=1)) == []  # a second beat
    assert CampaignSend.objects.filter(campaign=campaign).count() == 1


def test_a_campaign_cannot_be_scheduled_in_the_past_or_twice():
    make_customers(1)
    campaign = make_campaign()
    with pytest.raises(CampaignError):
        campaign_schedule(campaign_id=campaign.pk, at=NOW - timedelta(minutes=1), now=NOW)
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    campaigns_start_due(now=AT)
    with pytest.raises(CampaignError):
        campaign_schedule(campaign_id=campaign.pk, at=AT + timedelta(days=1), now=AT)


def test_unscheduling_before_the_time_returns_it_to_draft_and_nothing_is_sent():
    make_customers(2)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    campaign_unschedule(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_for) == (CampaignStatus.DRAFT, None)
    assert campaigns_start_due(now=AT + timedelta(hours=1)) == []
    assert not CampaignSend.objects.exists()


def test_a_started_campaign_can_no_longer_be_unscheduled():
    make_customers(2)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    campaigns_start_due(now=AT)
    with pytest.raises(CampaignError):
        campaign_unschedule(campaign_id=campaign.pk)


def test_a_cancelled_scheduled_campaign_never_starts():
    make_customers(2)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    campaign_cancel(campaign_id=campaign.pk)
    assert campaigns_start_due(now=AT) == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED and not CampaignSend.objects.exists()


def test_a_scheduled_campaign_whose_audience_is_empty_at_its_time_goes_back_to_draft():
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    assert campaigns_start_due(now=AT) == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.scheduled_for == AT
    assert not CampaignSend.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_start_a_due_campaign_once():
    make_customers(30)
    campaign = make_campaign(holdout_share=0.1)
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    started = run_at_once(lambda: campaigns_start_due(now=AT), lambda: campaigns_start_due(now=AT))

    assert sorted(started) == [[], [campaign.pk]]
    assert CampaignSend.objects.filter(campaign=campaign).count() == 1
    assert Recipient.objects.filter(campaign=campaign).count() == 30


def test_beat_checks_for_due_campaigns_every_minute():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "campaigns.tasks.start_due_campaigns_task"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 60


def test_the_task_starts_what_is_due_by_the_real_clock():
    from campaigns.tasks import start_due_campaigns_task

    make_customers(2)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    Campaign.objects.filter(pk=campaign.pk).update(
        scheduled_for=datetime.now(UTC) - timedelta(seconds=5))
    start_due_campaigns_task.apply()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING


# --- the pages -----------------------------------------------------------------------------


def test_the_owner_schedules_in_the_shops_zone_and_sees_it_three_ways(owner, owner_client):
    set_zone("Asia/Shanghai")
    make_customers(2)
    campaign = make_campaign()
    response = owner_client.post(reverse("campaign-schedule", args=[campaign.pk]),
                                 {"when": "2099-01-10T09:00"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_for == datetime(2099, 1, 10, 1, 0, tzinfo=UTC)

    page = owner_client.get(reverse("campaign-detail", args=[campaign.pk])).content.decode()
    assert 'id="schedule"' in page
    assert "10 Jan 2099 09:00" in page and "Asia/Shanghai" in page
    assert "10 Jan 2099 01:00 UTC" in page
    assert 'class="countdown"' in page and "years" in page
    assert 'data-starts-at="2099-01-10T01:00:00+00:00"' in page

    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("campaign-detail", args=[campaign.pk])).content.decode()
    assert "计划发送时间" in page and "2099年1月10日 01:00 UTC" in page


def test_the_schedule_form_shows_the_daylight_saving_error_on_the_page(owner_client):
    set_zone("Europe/London")
    make_customers(1)
    campaign = make_campaign()
    response = owner_client.post(reverse("campaign-schedule", args=[campaign.pk]),
                                 {"when": "2099-03-29T01:30"})
    assert response.status_code == 400
    assert "does not exist in Europe/London" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_the_owner_cancels_a_schedule_from_the_page(owner_client):
    make_customers(1)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=datetime(2099, 1, 1, tzinfo=UTC), now=NOW)
    response = owner_client.post(reverse("campaign-unschedule", args=[campaign.pk]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_the_api_shows_when_a_campaign_is_scheduled(owner):
    make_customers(1)
    campaign = make_campaign()
    campaign_schedule(campaign_id=campaign.pk, at=AT, now=NOW)
    api = APIClient()
    api.force_authenticate(owner)

    listed = {c["id"]: c for c in api.get("/api/campaigns/").json()["results"]}

    assert listed[campaign.pk]["status"] == "scheduled"
    assert listed[campaign.pk]["scheduled_for"] == "2027-01-10T01:00:00Z"
