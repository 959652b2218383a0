"""A loop on a tracking link neither grows the tables nor inflates the counts; floods get 429."""

from __future__ import annotations

import pytest

from campaigns.models import Link, Recipient
from ingest.models import Event
from tests.conftest import api_key_header

pytestmark = pytest.mark.django_db


def test_a_looping_open_pixel_counts_one_open_and_stores_one_event(client, sent, throttle_clock):
    for _ in range(20):
        assert client.get(sent["open"]).status_code == 200

    assert Recipient.objects.get(pk=sent["recipient"].pk).opens == 1
    assert Event.objects.filter(type="email_open").count() == 1


def test_repeated_clicks_on_one_link_count_once_per_recipient_and_link(client, sent, throttle_clock):
    for _ in range(15):
        assert client.get(sent["click"]).status_code == 302

    recipient = Recipient.objects.get(pk=sent["recipient"].pk)
    assert recipient.clicks == 1
    assert Link.objects.get(campaign=sent["campaign"], url="https://beans.example/autumn").clicks == 1
    assert Event.objects.filter(type="email_click").count() == 1


def test_a_flood_of_tracking_requests_from_one_address_gets_429_then_recovers(
        client, sent, throttle_clock, settings):
    limit = settings.TRACKING_REQUESTS_PER_MINUTE
    codes = [client.get(sent["click"], REMOTE_ADDR="198.51.100.3").status_code
             for _ in range(limit + 5)]
    other_address = client.get(sent["click"], REMOTE_ADDR="198.51.100.4").status_code
    unsubscribe = client.get(sent["one_click"], REMOTE_ADDR="198.51.100.3").status_code
    throttle_clock[0] += 60
    later = client.get(sent["click"], REMOTE_ADDR="198.51.100.3").status_code

    assert codes[:limit] == [302] * limit and codes[limit:] == [429] * 5
    assert other_address == 302
    assert unsubscribe == 429  # /u/ shares the budget of /t/
    assert later == 302


def test_the_api_rate_limit_is_real(client, owner, throttle_clock, settings):
    settings.API_REQUESTS_PER_MINUTE = 5
    auth = api_key_header(owner)

    codes = [client.get("/api/me/", **auth).status_code
             for _ in range(7)]

    assert codes == [200] * 5 + [429] * 2
    assert "DEFAULT_THROTTLE_RATES" not in settings.REST_FRAMEWORK
