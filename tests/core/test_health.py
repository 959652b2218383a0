import json

import pytest
from django.urls import reverse

from profiler_site import local_services
from profiler_site.core import health

pytestmark = pytest.mark.worker

SECRET = "health-secret-for-tests-0123456789"


@pytest.fixture(autouse=True)
def fresh_deep_cache():
    health.deep_cache_clear()
    yield
    health.deep_cache_clear()


def test_anonymous_health_is_200_without_a_worker_and_shows_no_versions_or_timings(client, db):
    response = client.get(reverse("health"))

    body = response.json()
    assert response.status_code == 200, body
    assert body == {"status": "ok", "checks": {"database": True, "redis": True}}


def test_anonymous_health_shows_no_error_text_when_redis_is_down(client, settings, tmp_path, db):
    other = local_services.start_redis(tmp_path / "r")
    settings.REDIS_URL = other.url()
    other.stop()

    response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "checks": {"database": True, "redis": False}}
    assert b"Error" not in response.content and b"sock" not in response.content


def test_a_signed_in_owner_gets_the_deep_report_with_the_worker_canary(owner_client, start_worker):
    start_worker()

    response = owner_client.get(reverse("health"))

    body = response.json()
    assert response.status_code == 200, body
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database", "redis", "worker"}
    assert body["checks"]["database"]["detail"].startswith("PostgreSQL")


def test_the_shared_secret_header_gets_the_deep_report_and_a_wrong_one_does_not(
        client, settings, db):
    settings.HEALTH_CHECK_TOKEN = SECRET

    wrong = client.get(reverse("health"), HTTP_X_HEALTH_TOKEN="guess")
    right = client.get(reverse("health"), HTTP_X_HEALTH_TOKEN=SECRET)

    assert set(wrong.json()["checks"]) == {"database", "redis"}
    assert "worker" in right.json()["checks"]  # no worker runs: the canary fails, reported
    assert right.status_code == 503 and right.json()["checks"]["worker"]["ok"] is False


def test_an_empty_shared_secret_setting_never_opens_the_deep_report(client, settings, db):
    settings.HEALTH_CHECK_TOKEN = ""

    response = client.get(reverse("health"), HTTP_X_HEALTH_TOKEN="")

    assert set(response.json()["checks"]) == {"database", "redis"}


def test_the_deep_report_is_cached_for_fifteen_seconds(owner_client, settings, tmp_path, db):
    clock = [1000.0]
    health.deep_cache_clear(clock=lambda: clock[0])
    first = owner_client.get(reverse("health")).json()
    # Redis stops: within 15 s the cached report is served, not a new canary.
    other = local_services.start_redis(tmp_path / "r")
    settings.REDIS_URL = other.url()
    other.stop()

    clock[0] += 14
    cached = owner_client.get(reverse("health")).json()
    clock[0] += 2
    fresh = owner_client.get(reverse("health")).json()

    assert json.dumps(cached, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert fresh["checks"]["redis"]["ok"] is False
