"""Campaigns' part of giving and forgetting a customer (listens to ingest's signals).

On erasure (inside ingest's transaction, holding the erase lock exclusively, so
no batch is between taking its rows and its last SMTP answer): outbox rows not
sent yet are deleted, so no run can take them; the others keep their outcome for
the campaign's counts but lose the address and names; and every address the
person had stays suppressed, by keyed hash only.
"""

from __future__ import annotations

from django.db.models import Q

from campaigns.models import (
    Recipient,
    RecipientGroup,
    RecipientStatus,
    Suppression,
    SuppressionReason,
)
from ingest.models import Customer
from ingest.services.privacy import ArchivePart, email_hash

_NOT_SENT_YET = (RecipientStatus.PENDING, RecipientStatus.CLAIMED)


def customer_campaigns_forget(*, customer_id: int, emails: list[str], **_signal) -> None:
    rows = Recipient.objects.filter(customer_id=customer_id)
    addresses = {e.strip().lower() for e in (*emails, *rows.values_list("email", flat=True))
                 if e and e.strip()}
    rows.filter(group=RecipientGroup.TREATMENT, status__in=_NOT_SENT_YET).delete()
    rows.update(email="", first_name="", last_name="", smtp_response="", error="")
    for address in sorted(addresses):
        hashed = email_hash(address)
        kept = Suppression.objects.filter(Q(email=address) | Q(email_hash=hashed)).first()
        if kept is None:
            Suppression.objects.create(email=None, email_hash=hashed,
                                       reason=SuppressionReason.ERASED)
        else:
            Suppression.objects.filter(pk=kept.pk).update(email=None, email_hash=hashed)


def customer_campaigns_archive(*, customer_id: int, **_signal) -> list[ArchivePart]:
    email_fields = ("campaign__name", "campaign__subject", "group", "status", "email", "sent_at",
                    "opens", "first_opened_at", "clicks", "first_clicked_at", "unsubscribed_at")
    rows = Recipient.objects.filter(customer_id=customer_id)
    addresses = {e.lower() for e in rows.values_list("email", flat=True) if e}
    addresses |= {e.lower() for e in Customer.objects.filter(pk=customer_id)
                  .values_list("email", flat=True) if e}
    suppression_fields = ("email", "reason", "created_at")
    return [
        ArchivePart(name="emails.csv",
                    header=[f.replace("campaign__", "campaign_") for f in email_fields],
                    rows=rows.order_by("id").values_list(*email_fields).iterator(chunk_size=1000),
                    note="every campaign you were part of (emailed or held out), and what "
                         "you did with it: opens, clicks, unsubscribing"),
        ArchivePart(name="suppression.csv", header=suppression_fields,
                    rows=Suppression.objects.filter(email__in=sorted(addresses))
                    .values_list(*suppression_fields),
                    note="whether your address is on the list that is never emailed"),
    ]
