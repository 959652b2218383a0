"""The campaigns API: list/create, audience count, send, stats."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from tests.campaigns.conftest import make_campaign, make_customers, run_send_inline

pytestmark = pytest.mark.django_db

PAYLOAD = {"name": "API", "subject": "Hi {{ first_name }}", "from_name": "Shop",
           "from_address": "shop@beans.example", "html_body": "<p>x</p><script>x()</script>",
           "audience_kind": "all", "audience_key": "all", "holdout_share": 0.2}


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_anonymous_callers_get_401(db):
    assert APIClient().get("/api/campaigns/").status_code == 401
    assert APIClient().post("/api/campaigns/1/send/").status_code == 401


def test_create_sanitises_and_list_returns_it(api):
    created = api.post("/api/campaigns/", PAYLOAD, format="json")

    assert created.status_code == 201, created.content
    assert "<script>" not in created.json()["html_body"]
    assert created.json()["status"] == "draft"
    listed = api.get("/api/campaigns/").json()
    assert [c["name"] for c in listed["results"]] == ["API"]


@pytest.mark.parametrize("field,value", [
    ("subject", "Hi\r\nBcc: victim@evil.example"),
    ("from_address", "shop@beans.example\nBcc: victim@evil.example"),
    ("html_body", "<p>{{ secret }}</p>"),
    ("holdout_share", 0.9),
])
def test_create_refuses_injection_and_bad_values(api, field, value):
    response = api.post("/api/campaigns/", {**PAYLOAD, field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json() or field in str(response.json())
    assert not Campaign.objects.exists()


def test_audience_count(api):
    make_customers(20)

    data = api.get("/api/campaigns/audience/", {"kind": "all", "key": "all",
                                                "holdout_share": 0.1}).json()

    assert (data["eligible"], data["treatment_n"], data["holdout_n"]) == (20, 18, 2)
    assert "detect" in data["detectable_lift"]


def test_send_snapshots_and_queues_and_a_second_send_conflicts(api):
    make_customers(10)
    campaign = make_campaign()

    first = api.post(f"/api/campaigns/{campaign.pk}/send/")
    second = api.post(f"/api/campaigns/{campaign.pk}/send/")

    assert first.status_code == 202 and first.json()["status"] == "sending"
    assert second.status_code == 409
    assert campaign.recipients.count() == 10


def test_stats_after_a_send(api, smtp_server):
    make_customers(10)
    campaign = make_campaign()
    run_send_inline(campaign)

    stats = api.get(f"/api/campaigns/{campaign.pk}/stats/").json()

    assert (stats["sent"], stats["treatment"], stats["holdout"]) == (9, 9, 1)
    assert stats["lift"]["test"] == "Fisher's exact test"
    assert stats["lift"]["small_sample"] is True
