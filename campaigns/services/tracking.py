"""Opens, clicks and unsubscribes from the signed links in emails.

Each is counted on the recipient row (for the report) and stored as a customer
Event through ingest's event service (for the customer's history). Only the
first open of a recipient and the first click of a recipient on each link count
and are stored: a mail client reloading the pixel, or a loop on a link, neither
grows the tables nor inflates the report.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Link, Recipient, RecipientGroup, Suppression, SuppressionReason
from campaigns.services.tokens import click_token_read, open_token_read, unsubscribe_token_read
from ingest.services.events import event_record

EVENT_SOURCE = "campaign"


def _sent_recipient(recipient_id: int) -> Recipient | None:
    # Held-out customers were never emailed, so no real link of theirs exists.
    return (
        Recipient.objects.filter(pk=recipient_id, group=RecipientGroup.TREATMENT)
        .select_related("campaign")
        .first()
    )


def tracking_open_record(*, token: str) -> bool:
    """Count an open for a valid token; False (and nothing stored) otherwise."""
    recipient_id = open_token_read(token)
    recipient = _sent_recipient(recipient_id) if recipient_id is not None else None
    if recipient is None:
        return False
    now = timezone.now()
    with transaction.atomic():
        first = Recipient.objects.filter(pk=recipient.pk, first_opened_at__isnull=True).update(
            opens=1, first_opened_at=now)
        if first:
            event_record(
                customer_id=recipient.customer_id, type="email_open", occurred_at=now,
                properties={"campaign_id": recipient.campaign_id, "recipient_id": recipient.pk},
                source=EVENT_SOURCE, dedupe_key=_dedupe_key("open", recipient.pk),
            )
    return True


def _dedupe_key(*parts: object) -> str:
    return hashlib.sha256(":".join(["campaigns", *map(str, parts)]).encode()).hexdigest()


def tracking_click_target(*, token: str) -> str | None:
    """The stored URL behind a valid click token (and count the click); None otherwise.

    The URL comes from the Link row of the recipient's own campaign, never from
    the request, so a token cannot be turned into a redirect to anywhere else.
    """
    parsed = click_token_read(token)
    if parsed is None:
        return None
    recipient = _sent_recipient(parsed.recipient_id)
    if recipient is None:
        return None
    link = Link.objects.filter(pk=parsed.link_id, campaign_id=recipient.campaign_id).first()
    if link is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        # The event's unique key is the "already clicked this link" mark: of two
        # concurrent first clicks, one inserts and the other finds the conflict.
        first = event_record(
            customer_id=recipient.customer_id, type="email_click", occurred_at=now,
            properties={"campaign_id": recipient.campaign_id, "recipient_id": recipient.pk,
                        "link_id": link.pk, "url": link.url},
            source=EVENT_SOURCE, dedupe_key=_dedupe_key("click", recipient.pk, link.pk),
        )
        if first:
            Recipient.objects.filter(pk=recipient.pk).update(
                clicks=F("clicks") + 1, first_clicked_at=Coalesce(F("first_clicked_at"), now)
            )
            Link.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    return link.url


def unsubscribe_recipient(*, token: str) -> Recipient | None:
    recipient_id = unsubscribe_token_read(token)
    return _sent_recipient(recipient_id) if recipient_id is not None else None


def unsubscribe_record(*, recipient: Recipient) -> bool:
    """Suppress the recipient's address for good; True the first time."""
    now = timezone.now()
    email = recipient.email.strip().lower()
    with transaction.atomic():
        _suppression, created = Suppression.objects.get_or_create(
            email=email,
            defaults={"reason": SuppressionReason.UNSUBSCRIBED, "campaign_id": recipient.campaign_id},
        )
        Recipient.objects.filter(pk=recipient.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
    event_record(
        customer_id=recipient.customer_id, type="email_unsubscribe", occurred_at=now,
        properties={"campaign_id": recipient.campaign_id, "recipient_id": recipient.pk},
        source=EVENT_SOURCE,
        dedupe_key=_dedupe_key("unsubscribe", recipient.pk),
    )
    return created


def suppression_add(*, email: str, reason: str = SuppressionReason.MANUAL) -> Suppression:
    suppression, _created = Suppression.objects.get_or_create(
        email=email.strip().lower(), defaults={"reason": reason}
    )
    return suppression
