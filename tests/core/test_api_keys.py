from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from profiler_site.core.api_keys import api_key_create
from profiler_site.core.models import ApiKey

pytestmark = pytest.mark.django_db

EVENTS = {"events": [{"customer": "C-1", "type": "page_view", "time": "2026-01-02T10:00:00Z"}]}


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_a_key_is_stored_only_as_its_hash(owner):
    created = api_key_create(user=owner, name="script", scope="full")

    with connection.cursor() as cur:
        cur.execute("SELECT * FROM core_apikey")
        stored = " ".join(str(value) for row in cur.fetchall() for value in row)
    assert created.key not in stored
    assert created.api_key.prefix == created.key[:10]


def test_an_events_key_posts_events_and_nothing_else(client, owner):
    key = api_key_create(user=owner, name="website", scope="events").key

    posted = client.post("/api/events/", EVENTS, content_type="application/json", **auth(key))
    me = client.get("/api/me/", **auth(key))
    customers = client.get("/api/segment-customers/", **auth(key))
    upload = client.post("/api/imports/", {}, **auth(key))

    assert posted.status_code == 202, posted.content
    assert (me.status_code, customers.status_code, upload.status_code) == (403, 403, 403)


def test_a_full_key_reads_the_api(client, owner):
    key = api_key_create(user=owner, name="script", scope="full").key

    assert client.get("/api/me/", **auth(key)).json()["username"] == "owner"


def test_a_revoked_key_and_an_expired_key_no_longer_work(owner_client, client, owner):
    revoked = api_key_create(user=owner, name="old", scope="full")
    expired = api_key_create(user=owner, name="temp", scope="full", expires_in_days=30)
    ApiKey.objects.filter(pk=expired.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    owner_client.post(f"/settings/api-keys/{revoked.api_key.pk}/revoke/")

    assert client.get("/api/me/", **auth(revoked.key)).status_code == 401
    assert client.get("/api/me/", **auth(expired.key)).status_code == 401
    assert ApiKey.objects.get(pk=revoked.api_key.pk).revoked_at is not None


def test_the_settings_page_shows_a_new_key_once(owner_client):
    created = owner_client.post("/settings/api-keys/", {"name": "website", "scope": "events",
                                                        "expires_in_days": "90"})
    key = ApiKey.objects.get()
    shown = created.content.decode()
    later = owner_client.get("/settings/").content.decode()

    assert created["Cache-Control"] == "no-store"
    new_key = shown.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert new_key.startswith(key.prefix) and len(new_key) > 40
    assert new_key not in later and key.prefix in later
    assert key.scope == "events" and key.expires_at is not None


def test_the_settings_page_no_longer_suggests_a_full_token_for_a_website(owner_client):
    html = owner_client.get("/settings/").content.decode()

    assert "Scripts and your website use this token" not in html
    assert "may only send events" in html


def test_an_old_plaintext_token_becomes_a_hashed_full_key_on_upgrade(client, owner):
    import importlib

    from django.apps import apps

    old = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                    "created timestamptz NOT NULL, user_id integer NOT NULL)")
        cur.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old, owner.pk])
    migration = importlib.import_module("profiler_site.core.migrations.0004_api_keys")

    with connection.schema_editor() as editor:
        migration.tokens_to_hashed_keys(apps, editor)

    assert client.get("/api/me/", **auth(old)).status_code == 200
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM authtoken_token")
        assert cur.fetchone()[0] == 0
    assert ApiKey.objects.get().scope == "full"
