from pathlib import Path

import pytest
from django.urls import reverse

from profiler_site import local_services

pytestmark = pytest.mark.worker


def test_health_is_200_with_database_redis_and_a_worker_answering(client, start_worker):
    start_worker()

    response = client.get(reverse("health"))

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database", "redis", "worker"}


def test_health_is_503_when_redis_is_stopped(client, settings, tmp_path: Path, db):
    other = local_services.start_redis(tmp_path / "r")
    settings.REDIS_URL = other.url()
    assert client.get(reverse("health")).json()["checks"]["redis"]["ok"] is True

    other.stop()
    response = client.get(reverse("health"))

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
