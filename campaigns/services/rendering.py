"""One recipient's email: merge, click tracking, open pixel, headers.

Bodies are never rendered as Django templates: `compose_email` does the merge
with a fixed whitelist of tags, escaping every customer value.

A sending run asks for `CampaignRenderer.payload`, which composes the campaign
once per variant (recommended products, which names are empty) with
`campaigns.emails.prepared` and fills in each recipient's values and tokens;
whatever that cannot do exactly goes through `message`, the full pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.urls import reverse

from campaigns import conf
from campaigns.emails.compose import ComposedEmail, compose_email
from campaigns.emails.links import TrackLink
from campaigns.emails.merge import MERGE_TAG_RE, MergeContext, ProductLink, clean_value
from campaigns.emails.message import build_message, inline_css
from campaigns.emails.prepared import PreparedEmail, prepare_email
from campaigns.emails.sanitize import sanitize_html
from campaigns.models import Campaign, Link, Recipient
from campaigns.selectors import segment_recommendations
from campaigns.services.tokens import click_token, open_token, unsubscribe_token
from ingest.models import Customer

UNSUBSCRIBE_FOOTER = (
    '<p style="font-size:12px;color:#666666">'
    'You get this email because you bought from us. '
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def body_template(html_body: str) -> str:
    """The owner's body, with an unsubscribe footer when it has no unsubscribe link."""
    if "unsubscribe_url" in html_body:
        return html_body
    return html_body + UNSUBSCRIBE_FOOTER


def public_url(name: str, token: str) -> str:
    return conf.public_base_url() + reverse(name, args=[token])


# What `tokens` signs: "<ids>:<base64url signature>"; reverse() leaves it as is.
_TOKEN_RE = re.compile(r"[0-9.]+:[A-Za-z0-9_-]+")
_TOKEN_PLACEHOLDER = "0:TOKEN"
_PREPARED_CACHE_SIZE = 256


class RecipientRow(Protocol):
    """What a message needs of an outbox row: a `Recipient` or the sender's lighter row."""

    pk: int
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RenderedEmail:
    message_id: str
    payload: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleCustomer:
    first_name: str = "Alex"
    last_name: str = "Sample"
    email: str = "alex@example.com"


def shop_display_name(from_name: str) -> str:
    """What ``{{ shop_name }}`` says: the SHOP_NAME setting, else the campaign's From name."""
    return conf.shop_name() or from_name


def compose_for_recipient(
    *,
    subject: str,
    html_template: str,
    from_name: str,
    recipient: RecipientRow | SampleCustomer | object,
    products: tuple[ProductLink, ...],
    unsubscribe_url: str,
    track: TrackLink | None = None,
    open_pixel_url: str | None = None,
) -> ComposedEmail:
    """One recipient's merged subject, HTML and text: the only merge path, shared by the
    sent email (`CampaignRenderer.message`, which `prepared` is tested against) and the
    preview, so the preview cannot show a tag differently from what is delivered."""
    context = MergeContext(
        unsubscribe_url=unsubscribe_url,
        first_name=getattr(recipient, "first_name", "") or "",
        last_name=getattr(recipient, "last_name", "") or "",
        email=getattr(recipient, "email", "") or "",
        shop_name=shop_display_name(from_name),
        recommended_products=products,
    )
    return compose_email(
        subject_template=subject, html_template=html_template, context=context,
        track=track, open_pixel_url=open_pixel_url,
    )


def preview_compose(
    *, subject: str, html_body: str, from_name: str,
    customer: SampleCustomer | Recipient | Customer,
) -> ComposedEmail:
    """What one customer would get, with the products the sender would look up for them,
    without tracking (a preview has no recipient row to sign tokens for)."""
    customer_id = (customer.customer_id if isinstance(customer, Recipient)
                   else customer.pk if isinstance(customer, Customer) else None)
    products = segment_recommendations([customer_id]).get(customer_id, ()) if customer_id else ()
    return compose_for_recipient(
        subject=subject, html_template=body_template(html_body), from_name=from_name,
        recipient=customer, products=products,
        unsubscribe_url=conf.public_base_url() + "/u/preview/",
    )


def preview_document(composed: ComposedEmail) -> str:
    """A full HTML document for a sandboxed iframe's srcdoc (the CSS-inlined HTML part)."""
    return inline_css(composed.html)


class CampaignRenderer:
    """Builds the messages of one campaign; remembers Link rows for the run."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.template = body_template(campaign.html_body)
        self.track_opens = conf.track_opens()
        self.https = urlsplit(conf.public_base_url()).scheme == "https"
        self._links: dict[str, int] = dict(
            Link.objects.filter(campaign=campaign).values_list("url", "id")
        )
        self._prepared: dict[tuple, PreparedEmail | None] = {}
        self._url_parts: dict[str, tuple[str, str]] = {}
        # Whether recipients' recommended products appear at all (else the sender
        # need not look them up). Tags are read as `compose_email` renders them:
        # in the subject as written, in the body after sanitising.
        self.uses_products = any(
            match.group("name") == "recommended_products"
            for text in (campaign.subject, sanitize_html(self.template))
            for match in MERGE_TAG_RE.finditer(text)
        )

    def _url(self, name: str, token: str) -> str:
        """public_url() without a reverse() per call (the same string)."""
        parts = self._url_parts.get(name)
        if parts is None:
            before, _, after = public_url(name, _TOKEN_PLACEHOLDER).partition(_TOKEN_PLACEHOLDER)
            parts = self._url_parts[name] = (before, after)
        if not _TOKEN_RE.fullmatch(token):
            return public_url(name, token)
        return parts[0] + token + parts[1]

    def _prepared_for(
        self, products: tuple[ProductLink, ...], empty: frozenset[str]
    ) -> PreparedEmail | None:
        key = (products, empty)
        if key not in self._prepared:
            if len(self._prepared) >= _PREPARED_CACHE_SIZE:
                self._prepared.clear()
            c = self.campaign
            try:
                self._prepared[key] = prepare_email(
                    subject_template=c.subject,
                    html_template=self.template,
                    shop_name=shop_display_name(c.from_name),
                    from_name=c.from_name,
                    from_address=c.from_address,
                    domain=c.domain,
                    products=products,
                    one_click=self.https,
                    open_pixel=self.track_opens,
                    empty=empty,
                )
            except ValueError:  # the full pipeline raises it again, per recipient
                self._prepared[key] = None
            if self._prepared[key] is not None:
                for url in self._prepared[key].links:
                    self.link_id(url)
        return self._prepared[key]

    def payload(
        self, recipient: RecipientRow, products: tuple[ProductLink, ...] = ()
    ) -> RenderedEmail:
        """The bytes `message(recipient).as_bytes()` would give, modulo MIME boundary and QP
        line breaks, at a fraction of the cost. Raises ValueError for an unsendable row."""
        empty = frozenset(
            tag for tag, value in (("first_name", recipient.first_name),
                                   ("last_name", recipient.last_name),
                                   ("email", recipient.email))
            if not clean_value(value or "")
        )
        prepared = self._prepared_for(products, empty)
        if prepared is not None:
            unsubscribe = unsubscribe_token(recipient_id=recipient.pk)
            filled = prepared.fill(
                first_name=recipient.first_name,
                last_name=recipient.last_name,
                to_name=f"{recipient.first_name} {recipient.last_name}".strip(),
                to_address=recipient.email,
                message_id_seed=message_id_seed(
                    campaign_id=self.campaign.pk, recipient_id=recipient.pk
                ),
                unsubscribe_url=self._url("unsubscribe", unsubscribe),
                unsubscribe_post_url=(
                    self._url("unsubscribe-one-click", unsubscribe) if self.https else None
                ),
                open_pixel_url=(
                    self._url("track-open", open_token(recipient_id=recipient.pk))
                    if self.track_opens else None
                ),
                click_urls=[
                    self._url("track-click", click_token(recipient_id=recipient.pk,
                                                         link_id=self._links[url]))
                    for url in prepared.links
                ],
            )
            if filled is not None:
                return RenderedEmail(message_id=filled.message_id, payload=filled.payload)
        message = self.message(recipient, products)
        return RenderedEmail(message_id=message["Message-ID"], payload=message.as_bytes())

    def link_id(self, url: str) -> int:
        found = self._links.get(url)
        if found is None:
            try:
                with transaction.atomic():
                    link = Link.objects.create(
                        campaign=self.campaign, url=url, index=len(self._links)
                    )
            except IntegrityError:  # another run stored it first
                link = Link.objects.get(campaign=self.campaign, url=url)
            found = self._links[url] = link.pk
        return found

    def message(
        self, recipient: RecipientRow, products: tuple[ProductLink, ...] = ()
    ) -> EmailMessage:
        c = self.campaign
        unsubscribe_page = public_url("unsubscribe", unsubscribe_token(recipient_id=recipient.pk))
        one_click = public_url(
            "unsubscribe-one-click", unsubscribe_token(recipient_id=recipient.pk)
        )
        composed = compose_for_recipient(
            subject=c.subject,
            html_template=self.template,
            from_name=c.from_name,
            recipient=recipient,
            products=products,
            unsubscribe_url=unsubscribe_page,
            track=lambda _index, url: public_url(
                "track-click", click_token(recipient_id=recipient.pk, link_id=self.link_id(url))
            ),
            open_pixel_url=(
                public_url("track-open", open_token(recipient_id=recipient.pk))
                if self.track_opens
                else None
            ),
        )
        return build_message(
            subject=composed.subject,
            from_name=c.from_name,
            from_address=c.from_address,
            to_name=f"{recipient.first_name} {recipient.last_name}".strip(),
            to_address=recipient.email,
            html_body=composed.html,
            text_body=composed.text,
            message_id_seed=message_id_seed(campaign_id=c.pk, recipient_id=recipient.pk),
            domain=c.domain,
            unsubscribe_url=unsubscribe_page,
            # RFC 8058 one-click needs HTTPS; over plain http the header names the page.
            unsubscribe_post_url=one_click if self.https else None,
        )


def message_id_seed(*, campaign_id: int, recipient_id: int) -> str:
    return f"profiler-campaign-{campaign_id}-recipient-{recipient_id}"
