"""Signed tracking and unsubscribe links: they work without login and cannot be abused."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from campaigns.models import Link, Recipient, RecipientGroup, Suppression, SuppressionReason
from campaigns.public_views import PIXEL_GIF
from campaigns.selectors import audience_summary
from campaigns.services.tokens import (
    CLICK_SALT,
    click_token,
    open_token,
    unsubscribe_token,
)
from ingest.models import Event
from tests.campaigns.conftest import make_campaign

pytestmark = pytest.mark.django_db


def test_a_click_from_the_email_redirects_to_the_stored_url_and_is_counted(client, sent):
    response = client.get(sent["click"])

    assert response.status_code == 302
    assert response["Location"] == "https://beans.example/autumn"
    recipient = Recipient.objects.get(pk=sent["recipient"].pk)
    assert recipient.clicks == 1 and recipient.first_clicked_at is not None
    event = Event.objects.get(type="email_click")
    assert event.customer_id == recipient.customer_id
    assert event.properties["campaign_id"] == sent["campaign"].pk


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1],                               # truncated signature
    lambda t: t[: len(t) // 2],                     # cut in half
    lambda t: t.split(":")[0],                      # no signature at all
    lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # tampered signature
    lambda t: "9" + t,                              # tampered payload
    lambda t: t.replace(".", ".1", 1),              # another link id, same signature
])
def test_a_tampered_or_truncated_click_token_is_a_404_and_counts_nothing(client, sent, mangle):
    response = client.get("/t/c/" + mangle(token_of(sent["click"])))

    assert response.status_code == 404
    assert "Location" not in response
    assert Recipient.objects.filter(clicks__gt=0).count() == 0
    assert not Event.objects.filter(type="email_click").exists()


def test_a_click_token_for_another_campaigns_link_is_a_404(client, sent):
    other = make_campaign(name="Other")
    foreign = Link.objects.create(campaign=other, url="https://evil.example/phish")
    token = click_token(recipient_id=sent["recipient"].pk, link_id=foreign.pk)

    response = client.get(f"/t/c/{token}")

    assert response.status_code == 404


def test_tokens_of_one_purpose_do_not_work_for_another(client, sent):
    recipient_id = sent["recipient"].pk
    link_id = Link.objects.get(campaign=sent["campaign"]).pk

    assert client.get(f"/t/c/{open_token(recipient_id=recipient_id)}").status_code == 404
    assert client.get(f"/t/c/{unsubscribe_token(recipient_id=recipient_id)}").status_code == 404
    assert client.get(f"/u/{open_token(recipient_id=recipient_id)}/").status_code == 404
    assert client.get(f"/u/{click_token(recipient_id=recipient_id, link_id=link_id)}/"
                      ).status_code == 404


def test_a_held_out_customer_has_no_working_links(client, sent):
    held = Recipient.objects.filter(campaign=sent["campaign"], group=RecipientGroup.HOLDOUT).first()
    link = Link.objects.get(campaign=sent["campaign"])

    assert client.get(f"/t/c/{click_token(recipient_id=held.pk, link_id=link.pk)}").status_code == 404
    assert client.post(f"/u/{unsubscribe_token(recipient_id=held.pk)}/one-click/").status_code == 404
    assert not Suppression.objects.exists()


OPEN_REDIRECT_CORPUS = [
    "//evil.com", "https:evil.com", "\\\\evil.com", "/\\evil.com", "javascript:alert(1)",
    "http://evil.com", "https://evil.com", "///evil.com", "\\/\\/evil.com", "http:/evil.com",
    "%2F%2Fevil.com", "http%3A%2F%2Fevil.com", " //evil.com", "\tjavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "evil.com", "..%2F..%2Fevil.com",
]


@pytest.mark.parametrize("hostile", OPEN_REDIRECT_CORPUS)
def test_the_click_endpoint_never_redirects_to_a_url_from_the_request(client, sent, hostile):
    signed_url = signing.Signer(salt=CLICK_SALT).sign(hostile)  # even correctly signed
    candidates = [
        f"/t/c/{hostile}",
        f"/t/c/{signed_url}",
        f"{sent['click']}?next={hostile}&url={hostile}&redirect={hostile}",
        f"{sent['click']}/{hostile}",
    ]
    for path in candidates:
        response = client.get(path)
        location = response.get("Location", "")
        assert "evil" not in location and "javascript" not in location, (path, location)
        if response.status_code in (301, 302, 303, 307, 308):
            assert location == "https://beans.example/autumn", path


def test_the_open_pixel_is_always_a_gif_and_counts_only_valid_tokens(client, sent):
    for path in (sent["open"], "/t/o/garbage.gif", sent["open"].replace(".gif", "x.gif")):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content == PIXEL_GIF
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

    recipient = Recipient.objects.get(pk=sent["recipient"].pk)
    assert recipient.opens == 1
    assert Event.objects.filter(type="email_open").count() == 1


def test_visiting_the_unsubscribe_page_does_not_unsubscribe(client, sent):
    page = sent["one_click"].replace("one-click/", "")

    response = client.get(page)

    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert sent["one_click"].encode() in response.content
    assert not Suppression.objects.exists()
    assert client.get(sent["one_click"]).status_code == 200  # a scanner's GET on the POST URL
    assert not Suppression.objects.exists()


def test_one_click_unsubscribe_works_without_cookies_or_csrf_token(sent):
    mail_provider = Client(enforce_csrf_checks=True)

    response = mail_provider.post(sent["one_click"], data="List-Unsubscribe=One-Click",
                                  content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    recipient = Recipient.objects.get(pk=sent["recipient"].pk)
    suppression = Suppression.objects.get()
    assert suppression.email == recipient.email.lower()
    assert suppression.reason == SuppressionReason.UNSUBSCRIBED
    assert recipient.unsubscribed_at is not None
    assert Event.objects.filter(type="email_unsubscribe", customer_id=recipient.customer_id
                                ).count() == 1


def test_unsubscribing_twice_keeps_one_suppression_and_one_event(sent):
    browser = Client(enforce_csrf_checks=True)
    browser.post(sent["one_click"])
    browser.post(sent["one_click"])

    assert Suppression.objects.count() == 1
    assert Event.objects.filter(type="email_unsubscribe").count() == 1


def test_the_unsubscribe_page_url_itself_refuses_a_post_without_csrf(sent):
    page = sent["one_click"].replace("one-click/", "")

    response = Client(enforce_csrf_checks=True).post(page)

    assert response.status_code in (403, 405)
    assert not Suppression.objects.exists()


def test_an_unsubscribed_customer_is_left_out_of_the_next_campaign(sent):
    Client().post(sent["one_click"])

    summary = audience_summary(kind="all", key="all")

    assert summary.suppressed == 1
    assert sent["recipient"].customer_id not in summary.eligible_ids


@pytest.mark.parametrize("path", ["/u/garbage/", "/u/garbage/one-click/", "/u/preview/"])
def test_an_invalid_unsubscribe_link_shows_a_safe_page(client, path, db):
    response = client.post(path) if path.endswith("one-click/") else client.get(path)

    assert response.status_code == 404
    assert b"This link is not valid" in response.content
