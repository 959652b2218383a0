import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.support import BASE_DIR

pytestmark = pytest.mark.django_db

TEMPLATE_FILES = sorted(
    path for folder in [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    for path in folder.rglob("*.html"))
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("path", ["/", "/customers/", "/segments/", "/uploads/", "/campaigns/",
                                  "/settings/", "/accounts/password/"])
def test_every_page_has_a_policy_that_allows_no_inline_script_without_its_nonce(
        owner_client, path):
    first = owner_client.get(path)
    second = owner_client.get(path)

    script_src = _policy(first)["script-src"]
    assert first.status_code == 200
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert re.search(r"'nonce-[\w-]{16,}'", script_src)
    assert _policy(second)["script-src"] != script_src  # a fresh nonce per response
    assert _policy(first)["object-src"] == "object-src 'none'"


def test_public_pages_have_the_policy_too(client, db):
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]
    assert "Content-Security-Policy" in client.get("/u/garbage/")


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_no_template_has_an_inline_script_or_event_handler(template: Path):
    text = template.read_text()
    inline = [attrs for attrs in SCRIPT_TAG.findall(text)
              if "src=" not in attrs and "application/json" not in attrs and "nonce=" not in attrs]

    assert inline == []
    assert not INLINE_HANDLER.search(text), INLINE_HANDLER.search(text)


def test_a_request_moves_the_session_expiry_to_the_idle_timeout(owner_client, settings):
    owner_client.get("/")
    session = Session.objects.get()
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))

    owner_client.get("/customers/")

    expires_in = Session.objects.get(pk=session.pk).expire_date - timezone.now()
    assert abs(expires_in.total_seconds() - settings.SESSION_COOKIE_AGE) < 60
    assert settings.SESSION_COOKIE_AGE == 120 * 60


def test_an_idle_session_past_its_timeout_is_signed_out(owner_client):
    owner_client.get("/")
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = owner_client.get("/customers/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_segment_export_file_name_keeps_only_safe_characters_of_the_url_key(owner_client):
    response = owner_client.get('/segments/rfm/x%22%3B%20filename%3Devil.exe%3B/export.csv')

    disposition = response["Content-Disposition"]
    assert disposition == 'attachment; filename="segment-rfm-x_filename_evil_exe_.csv"'
