"""Compose pages, preview and audience: hostile bodies, subjects, names never run or inject."""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Suppression
from campaigns.services.campaigns import CampaignError, campaign_create
from tests.campaigns.conftest import html_part, make_campaign, make_customers, run_send_inline
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HOSTILE_BODY = (
    '<p>Hi {{ first_name }}</p><script>alert("body")</script>'
    '<img src="https://x.example/a.png" onerror="alert(1)">'
    '<a href="javascript:alert(2)">bad link</a>'
    '<a href="https://beans.example/ok" onclick="alert(3)">good link</a>'
)
HOSTILE_NAME = '<script>alert("name")</script><img src=x onerror=alert(9)>{{ unsubscribe_url }}{% debug %}'


class _IframeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.iframes: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.iframes.append(dict(attrs))


def iframes(content: bytes) -> list[dict]:
    finder = _IframeFinder()
    finder.feed(content.decode())
    return finder.iframes


def assert_inert(document: str) -> None:
    lowered = document.lower()
    assert "<script" not in lowered
    assert "onerror=" not in lowered.replace("onerror=alert(9)&gt;", "")  # the name, as text
    assert "onclick" not in lowered
    assert "javascript:" not in lowered


def form_data(**overrides) -> dict:
    data = {
        "name": "Autumn", "subject": 'Hello {{ first_name | "there" }}',
        "from_name": "Bean Shop", "from_address": "shop@beans.example",
        "html_body": "<p>Hi {{ first_name }}</p>", "audience": "all:all",
        "holdout_percent": "10", "attribution_window_days": "7", "max_per_second": "",
    }
    data.update(overrides)
    return data


def test_the_new_campaign_page_preselects_the_audience_from_the_segment_link(owner_client):
    make_customers(3)

    response = owner_client.get(reverse("campaign-new") + "?kind=all&key=all")

    assert response.status_code == 200
    assert b'value="all:all" selected' in response.content
    assert b"{{ first_name }}" in response.content  # merge tag help
    assert b'hx-post="/campaigns/preview/"' in response.content


def test_the_preview_is_sandboxed_and_rendered_for_a_hostile_customer_inertly(owner_client):
    CustomerFactory(first_name=HOSTILE_NAME)

    response = owner_client.post(reverse("campaign-preview"), {
        "subject": "Hi {{ first_name }}", "html_body": HOSTILE_BODY, "audience": "all:all",
    })

    assert response.status_code == 200
    (frame,) = iframes(response.content)
    assert "sandbox" in frame and frame["sandbox"] in ("", None)  # no allow-* tokens
    document = frame["srcdoc"]
    assert_inert(document)
    assert '&lt;script&gt;alert("name")&lt;/script&gt;' in document
    assert "{{ unsubscribe_url }}{% debug %}" in html_lib.unescape(document)  # printed, not run
    assert 'href="https://beans.example/ok"' in document
    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x onerror" not in page
    subject = page.split('class="preview-subject">')[1].split("</span>")[0]
    assert "<script>" not in subject and "&lt;script&gt;" in subject


@pytest.mark.parametrize("body,bad", [
    ("<p>{{ password }}</p>", "{{ password }}"),
    ("<p>{% debug %}</p>", "{% debug %}"),
    ("<p>{{ first_name.__class__ }}</p>", "{{ first_name.__class__ }}"),
])
def test_unknown_merge_tags_are_listed_in_the_preview_and_block_saving(owner_client, body, bad):
    preview = owner_client.post(reverse("campaign-preview"),
                                {"subject": "x", "html_body": body, "audience": "all:all"})
    saved = owner_client.post(reverse("campaign-new"), form_data(html_body=body))

    assert html_lib.escape(bad).encode() in preview.content
    assert b"iframe" not in preview.content
    assert saved.status_code == 200 and not Campaign.objects.exists()
    assert b"Unknown or malformed merge tag" in saved.content


@pytest.mark.parametrize("field,value", [
    ("subject", "Sale\r\nBcc: everyone@victim.example"),
    ("subject", "Sale\nX-Injected: 1"),
    ("subject", "Sale\u2028more"),
    ("from_name", "Shop\r\nBcc: everyone@victim.example"),
    ("from_address", "shop@beans.example\r\nBcc: everyone@victim.example"),
    ("from_address", "shop@beans.example, other@victim.example"),
    ("from_address", "Shop <shop@beans.example>"),
    ("from_address", "not-an-address"),
    ("subject", "{% if 1 %}x{% endif %}"),
])
def test_header_injection_is_refused_by_the_form_and_by_the_service(owner_client, field, value):
    response = owner_client.post(reverse("campaign-new"), form_data(**{field: value}))

    assert response.status_code == 200
    assert not Campaign.objects.exists()
    assert b"errorlist" in response.content
    fields = {"name": "x", "subject": "Hi", "from_name": "Shop",
              "from_address": "shop@beans.example", "html_body": "<p>x</p>", field: value}
    with pytest.raises(CampaignError):
        campaign_create(**fields)


def test_a_valid_form_saves_a_draft_with_a_sanitised_body(owner_client):
    response = owner_client.post(reverse("campaign-new"), form_data(html_body=HOSTILE_BODY))

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign-detail", args=[campaign.pk])
    assert_inert(campaign.html_body)
    assert campaign.holdout_share == 0.10 and campaign.status == "draft"


def test_a_hostile_campaign_and_customer_are_escaped_on_every_page(owner_client, smtp_server):
    CustomerFactory(first_name=HOSTILE_NAME)
    make_customers(11)
    campaign = make_campaign(name='<script>alert("campaign")</script>',
                             subject="Hi {{ first_name }}", html_body=HOSTILE_BODY)
    draft_pages = [reverse("campaigns"), reverse("campaign-detail", args=[campaign.pk]),
                   reverse("campaign-edit", args=[campaign.pk])]
    for url in draft_pages:
        page = owner_client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "<img src=x onerror" not in page, url
    run_send_inline(campaign)
    for url in [reverse("campaigns"), reverse("campaign-detail", args=[campaign.pk]),
                reverse("campaign-report", args=[campaign.pk])]:
        page = owner_client.get(url).content.decode()
        assert page.count("<script>alert") == 0, url
        assert "&lt;script&gt;alert(&quot;campaign&quot;)" in page, url
        for frame in iframes(page.encode()):
            assert_inert(frame["srcdoc"])


def test_the_sent_email_of_a_hostile_customer_is_inert_and_has_no_injected_headers(smtp_server):
    CustomerFactory(first_name=HOSTILE_NAME + "\r\nBcc: victim@evil.example",
                    email="hostile@example.com")
    campaign = make_campaign(subject="Hi {{ first_name }}", html_body=HOSTILE_BODY,
                             holdout_share=0)

    run_send_inline(campaign)

    (message,) = smtp_server.messages
    body = html_part(message)
    assert_inert(body)
    assert '&lt;script&gt;alert("name")&lt;/script&gt;' in body
    assert "{{ unsubscribe_url }}{% debug %}" in html_lib.unescape(body)
    assert message["Bcc"] is None
    assert "victim@evil.example" not in str(message["To"]).split("<")[-1]
    assert message["To"].addresses[0].addr_spec == "hostile@example.com"
    assert "\n" not in str(message["Subject"])
    assert str(message["Subject"]).startswith('Hi <script>alert("name")')  # text, not markup


def test_the_audience_count_explains_who_is_left_out(owner_client):
    make_customers(3)
    CustomerFactory(email="", key="id:no-email", shop_customer_id="no-email")
    CustomerFactory(email="gone@example.com")
    Suppression.objects.create(email="gone@example.com", reason="unsubscribed")
    CustomerFactory(accepts_marketing=False)
    CustomerFactory(accepts_marketing=None)  # unknown, while the shop records consent

    response = owner_client.get(reverse("campaign-audience"),
                                {"audience": "all:all", "holdout_percent": "10"})

    text = response.content.decode()
    assert '<strong class="audience-eligible">3</strong>' in text
    assert "no usable email address</li>" not in text  # rendered as label: number
    assert "no usable email address: 1" in text
    assert "unsubscribed or bounced before: 1" in text
    assert "no marketing consent: 2" in text
    assert "you can detect a lift" in text or "too small" in text or "nobody is held out" in text


def test_without_any_consent_data_unknown_consent_is_allowed(owner_client):
    make_customers(4, accepts_marketing=None)

    response = owner_client.get(reverse("campaign-audience"), {"audience": "all:all"})

    assert '<strong class="audience-eligible">4</strong>' in response.content.decode()


def test_the_detectable_lift_uses_the_audiences_purchase_history(owner_client):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import OrderFactory

    customers = make_customers(100)
    now = timezone.now()
    for c in customers[:20]:  # 20 of 100 bought in the last week of data
        OrderFactory(customer=c, ordered_at=now - timedelta(days=1))

    response = owner_client.get(reverse("campaign-audience"), {"audience": "all:all"})

    # 20 buyer-weeks over 8 weeks x 100 people = a 2.5% weekly baseline
    assert "from 2.5% to" in response.content.decode()


def test_send_test_goes_to_the_owners_address_only(owner_client, smtp_server):
    make_customers(3)
    campaign = make_campaign()

    response = owner_client.post(reverse("campaign-send-test", args=[campaign.pk]))

    assert response.status_code == 302
    (message,) = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == "owner@example.com"
    assert str(message["Subject"]).startswith("[Test] Hello")
    assert "/t/c/" not in html_part(message)  # a test is not tracked
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_sending_from_the_page_snapshots_the_audience_with_a_stored_holdout(owner_client):
    make_customers(30)
    campaign = make_campaign(holdout_share=0.2)

    response = owner_client.post(reverse("campaign-send", args=[campaign.pk]))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "sending" and campaign.send_started_at is not None
    groups = dict(campaign.recipients.values_list("group").annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("id")))
    assert groups == {"treatment": 24, "holdout": 6}
    assert campaign.sends.count() == 1


def test_the_holdout_is_the_same_for_the_same_seed():
    from campaigns.analysis.holdout import split_holdout

    make_customers(50)
    first = make_campaign(holdout_share=0.1)
    second = make_campaign(holdout_share=0.1)
    Campaign.objects.filter(pk=second.pk).update(seed=first.seed)
    from campaigns.services.campaigns import campaign_send_start

    campaign_send_start(campaign_id=first.pk)
    campaign_send_start(campaign_id=second.pk)

    def held(c):
        return set(c.recipients.filter(group="holdout").values_list("customer_id", flat=True))

    assert held(first) == held(second)
    ids = sorted(first.recipients.values_list("customer_id", flat=True))
    assert held(first) == set(split_holdout(ids, 0.1, first.seed).holdout_ids)
