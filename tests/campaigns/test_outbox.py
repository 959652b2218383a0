"""The Outbox page shows what the local mail server received, safely."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from campaigns.local_inbox import MaildirHandler, inbox_dir
from campaigns.outbox import OUTBOX_PAGE_SIZE
from tests.campaigns.conftest import free_port, make_campaign, make_customers, run_send_inline
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_inbox(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("PROFILER_VAR_DIR", str(tmp_path))
    port = free_port()
    controller = Controller(MaildirHandler(inbox_dir()), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    yield
    controller.stop()


def test_an_empty_outbox_says_so(owner_client, monkeypatch, tmp_path):
    monkeypatch.setenv("PROFILER_VAR_DIR", str(tmp_path))

    response = owner_client.get(reverse("campaign-outbox"))

    assert b"The outbox is empty" in response.content


def test_sent_messages_are_listed_and_shown_in_a_sandbox_without_loading_images(
    owner_client, local_inbox
):
    CustomerFactory(first_name="<script>alert(1)</script>", email="x@example.com")
    make_customers(1)
    campaign = make_campaign(subject="Hi {{ first_name }}", holdout_share=0)
    run_send_inline(campaign)

    listing = owner_client.get(reverse("campaign-outbox")).content.decode()

    assert "2 messages" in listing
    assert "<script>alert(1)</script>" not in listing
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in listing
    key = listing.split('href="/campaigns/outbox/')[1].split("/")[0]
    detail = owner_client.get(reverse("campaign-outbox-message", args=[key]))
    page = detail.content.decode()
    assert "<iframe class=\"email-preview\" sandbox srcdoc=" in page
    assert "List-Unsubscribe:" in page and "Message-ID:" in page
    assert "img-src data:" in detail["Content-Security-Policy"]
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("key", ["nope", "..", "...", "cur", "new"])
def test_an_unknown_message_key_is_a_404(owner_client, local_inbox, key):
    assert owner_client.get(f"/campaigns/outbox/{key}/").status_code == 404


def test_subjects_and_recipients_read_as_words_not_encoded_headers(owner_client, local_inbox):
    make_customers(3, first_name="Chloé")
    campaign = make_campaign(subject="{{ first_name }}, café beans for you", holdout_share=0)
    run_send_inline(campaign)

    listing = owner_client.get(reverse("campaign-outbox")).content.decode()

    assert "=?utf-8?" not in listing.lower()
    assert listing.count("Chloé, café beans for you") == 3
    key = listing.split('href="/campaigns/outbox/')[1].split("/")[0]
    page = owner_client.get(reverse("campaign-outbox-message", args=[key])).content.decode()
    assert '<h1 class="outbox-subject">Chloé, café beans for you</h1>' in page


def test_a_long_outbox_is_paged_newest_first_and_every_message_is_reachable(
    owner_client, local_inbox
):
    make_customers(OUTBOX_PAGE_SIZE + 7)
    campaign = make_campaign(subject="Numbered", holdout_share=0)
    run_send_inline(campaign)

    first = owner_client.get(reverse("campaign-outbox")).content.decode()
    second = owner_client.get(reverse("campaign-outbox") + "?page=2").content.decode()

    assert f"{OUTBOX_PAGE_SIZE + 7} messages" in first
    assert first.count('href="/campaigns/outbox/') == OUTBOX_PAGE_SIZE
    assert second.count('href="/campaigns/outbox/') == 7
    assert "page=2" in first and "page=1" in second
    keys = {part.split("/")[0] for page in (first, second)
            for part in page.split('href="/campaigns/outbox/')[1:]}
    assert len(keys) == OUTBOX_PAGE_SIZE + 7
