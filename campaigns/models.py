"""Campaigns: what is sent, to whom (with a stored holdout), and what happened."""

from __future__ import annotations

import secrets

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.emails.sanitize import sanitize_html
from profiler_site.core.models import Job, JobStatus


def _new_seed() -> int:
    return secrets.randbelow(2**31)


class AudienceKind(models.TextChoices):
    ALL = "all", _("All customers")
    RFM = "rfm", _("RFM segment")
    CLUSTER = "cluster", _("Cluster")
    PROPENSITY = "propensity", _("Likely buyers")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # Waiting for `scheduled_for`; beat starts it (services.campaigns.campaigns_start_due).
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    """One email to one audience, with a random holdout that is never emailed.

    `html_body` is sanitised on every save, so what is stored is what can be sent;
    merge tags (``{{ first_name }}``) survive sanitising and are filled per
    recipient at send time. `seed` makes the holdout split reproducible.
    """

    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    from_name = models.CharField(max_length=150)
    from_address = models.CharField(max_length=254)
    html_body = models.TextField()
    audience_kind = models.CharField(
        max_length=16, choices=AudienceKind.choices, default=AudienceKind.ALL
    )
    audience_key = models.CharField(max_length=100, blank=True, default="all")
    holdout_share = models.FloatField(default=0.10)
    attribution_window_days = models.PositiveSmallIntegerField(default=7)
    # None: settings.CAMPAIGN_MAX_PER_SECOND; 0: no limit.
    max_per_second = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    seed = models.BigIntegerField(default=_new_seed)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When beat starts the send (UTC; entered and shown in the shop's zone). Kept
    # after the start, and on a draft whose audience was empty at that time.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    # A one-off campaign the owner made, or the carrier of a flow's emails (its holdout
    # and results live on the flow): the Campaigns list shows only the first.
    from_flow = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.html_body = sanitize_html(self.html_body or "")
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        # A scheduled campaign is snapshotted only when it starts: what it sends is
        # what the page shows at that moment, so it stays editable until then.
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


class RecipientGroup(models.TextChoices):
    TREATMENT = "treatment", _("Emailed")
    HOLDOUT = "holdout", _("Held out")


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    # Taken by a sending run, no SMTP conversation yet: safe to give back.
    CLAIMED = "claimed", _("Queued")
    # Committed before the SMTP call: if the run dies now we cannot know.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The run died during the SMTP call: maybe delivered, never resent automatically.
    UNKNOWN = "unknown", _("Unknown")
    HELD_OUT = "held_out", _("Held out")
    # Not emailed, for the reason in `skip_reason` (decided when the row was taken).
    SKIPPED = "skipped", _("Skipped")


# A customer got (or may have got) a marketing email at `sending_at`: what the
# frequency cap counts. Held-out and skipped rows were never emailed; failed ones
# were refused by the server.
CAP_COUNTED_STATUSES = (RecipientStatus.SENDING, RecipientStatus.SENT, RecipientStatus.UNKNOWN)


class SkipReason(models.TextChoices):
    FREQUENCY_CAP = "frequency_cap", _("Reached the weekly limit of marketing emails")


class Recipient(models.Model):
    """A customer in a campaign's audience snapshot: the outbox row and the experiment unit.

    Rows are written once when the owner presses Send; the holdout rows stay
    `held_out` for ever. The address and name are copied so a later import cannot
    change who a sent campaign went to.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    # Null once the customer was removed (an undone import): what was sent, to which
    # address, stays in the campaign's history; rows not sent yet are dropped before
    # (see campaigns.receivers).
    customer = models.ForeignKey(
        "ingest.Customer", null=True, on_delete=models.SET_NULL, related_name="campaign_recipients"
    )
    group = models.CharField(max_length=10, choices=RecipientGroup.choices)
    email = models.CharField(max_length=254, blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=RecipientStatus.choices, default=RecipientStatus.PENDING
    )
    claimed_by = models.CharField(max_length=36, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True,
                                   default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    smtp_response = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    message_id = models.CharField(max_length=200, blank=True, default="")
    opens = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="recipient_once_per_campaign"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            # The frequency cap counts a customer's recent emails per batch it takes
            # (services.sending.outbox_take): only those rows, not their whole history.
            models.Index(
                fields=["customer", "sending_at"], name="recipient_cap_window",
                condition=models.Q(status__in=[str(s) for s in CAP_COUNTED_STATUSES]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.campaign_id})"


class Link(models.Model):
    """A URL found in a campaign's email; click tokens name the row, never the URL."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.TextField()
    index = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "index"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url"], name="link_once_per_campaign")
        ]


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINT = "complaint", _("Complained")
    MANUAL = "manual", _("Added by you")
    ERASED = "erased", _("Customer erased")


class Suppression(models.Model):
    """An address that must never get another campaign; stored lower-case.

    Once its owner is erased, the address itself goes: `email` is null and only
    `email_hash` (keyed, see `ingest.services.privacy.email_hash`) keeps it suppressed.
    """

    email = models.CharField(max_length=254, unique=True, null=True, blank=True)
    email_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email or "(erased)"


class CampaignSend(Job):
    """One run of the sender over a campaign's outbox rows (a resume is a new run)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sends")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)

    @property
    def result_text(self) -> str:
        if self.status != JobStatus.SUCCEEDED:
            return ""
        return gettext("%(sent)s sent, %(failed)s failed.") % {
            "sent": intcomma(self.sent), "failed": intcomma(self.failed)}

    task_name = "campaigns.tasks.send_campaign_task"
