import html as html_lib
import re

import pytest
from django.urls import reverse

from campaigns.models import Link
from campaigns.services.tokens import click_token_read
from segments.models import Recommendation, SegmentationRun
from tests.campaigns.conftest import html_part, make_campaign, run_send_inline, text_part
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_TAG_SUBJECT = "{{ first_name }}, news from {{ shop_name }}"
EVERY_TAG_BODY = (
    "<p>Hi {{ first_name }} {{ last_name }} ({{ email }}),</p>"
    "<p>{{ shop_name }} picked these for you:</p>{{ recommended_products }}"
    '<p><a href="https://beans.example/autumn">Autumn beans</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Stop these emails</a></p>'
)
UNSUBSCRIBE = "UNSUBSCRIBE-URL"


def _sent_without_tracking(html: str) -> str:
    # The per-recipient parts: click redirects back to the links they stand for,
    # the open pixel dropped, the signed unsubscribe page named generically.
    def original(match: re.Match) -> str:
        return Link.objects.get(pk=click_token_read(match["token"]).link_id).url

    html = re.sub(r"https://shop\.example\.com/t/c/(?P<token>[^\"]+)", original, html)
    html = re.sub(r'<img[^>]*/t/o/[^>]*>', "", html)
    # The MIME part ends its last line with CRLF; the page's document has no final break.
    return re.sub(r"https://shop\.example\.com/u/[^\"]+/", UNSUBSCRIBE, html).rstrip("\r\n")


def _preview_parts(content: str) -> tuple[str, str, str]:
    subject = content.split('class="preview-subject">')[1].split("</span>")[0]
    document = content.split('srcdoc="')[1].split('"', 1)[0]
    text = content.split('class="preview-text">')[1].split("</pre>")[0]
    unescape = html_lib.unescape
    return unescape(subject), unescape(document), unescape(text)


def test_the_preview_shows_every_merge_tag_as_the_sent_email_has_it(
    smtp_server, settings, owner_client
):
    # given: no SHOP_NAME setting (the sender falls back to the campaign's From name)
    # and a customer with recommended products from the current run
    settings.SHOP_NAME = ""
    customer = CustomerFactory(first_name="Mei", last_name="Lin", email="mei@example.com")
    run = SegmentationRun.objects.create(is_current=True, status="succeeded")
    for rank, name in enumerate(["Kenya AA", "House blend"], start=1):
        Recommendation.objects.create(run=run, customer=customer, product=ProductFactory(name=name),
                                      rank=rank, score=1.0 / rank, source="rules")
    campaign = make_campaign(subject=EVERY_TAG_SUBJECT, html_body=EVERY_TAG_BODY,
                             from_name="Bean Shop", holdout_share=0.0)

    # when: the owner previews the draft, then sends it
    preview = owner_client.get(reverse("campaign-detail", args=[campaign.pk])).content.decode()
    live = owner_client.post(reverse("campaign-preview"), {
        "subject": EVERY_TAG_SUBJECT, "html_body": EVERY_TAG_BODY, "from_name": "Bean Shop",
        "audience": "all:all",
    }).content.decode()
    run_send_inline(campaign)

    # then: both previews equal the delivered email, token by token apart
    (sent,) = smtp_server.messages
    sent_html = _sent_without_tracking(html_part(sent))
    assert "Kenya AA" in sent_html and "Bean Shop picked" in sent_html
    for page in (preview, live):
        subject, document, text = _preview_parts(page)
        assert subject == sent["Subject"] == "Mei, news from Bean Shop"
        assert document.replace(settings.PUBLIC_BASE_URL + "/u/preview/", UNSUBSCRIBE) == sent_html
        sent_text = re.sub(r"https://shop\.example\.com/u/\S+/", UNSUBSCRIBE,
                           text_part(sent).replace("\r\n", "\n"))
        assert text.replace(settings.PUBLIC_BASE_URL + "/u/preview/", UNSUBSCRIBE).strip() \
            == sent_text.strip()
