"""Flows: a trigger enrols customers, each waits, then gets one email (or is held out).

An enrolment is the durable record of one entry: unique per flow, customer and
entry key, its holdout draw stored at entry, its outcome (emailed through the
campaigns outbox, held out, or skipped with a reason) written once.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.emails.sanitize import sanitize_html


def _new_seed() -> int:
    return secrets.randbelow(2**31)


class TriggerKind(models.TextChoices):
    SEGMENT_ENTER = "segment_enter", _("Enters a segment")
    P_ALIVE_BELOW = "p_alive_below", _("Chance of still being a customer falls below")
    OVERDUE = "overdue", _("Overdue for their next order")
    AFTER_FIRST_ORDER = "after_first_order", _("Days after their first order")
    AFTER_ORDER = "after_order", _("Days after any order")
    EVENT_NO_ORDER = "event_no_order", _("An event without an order")


class Flow(models.Model):
    """One automated email: trigger, wait, content, exit and re-entry rules, holdout share.

    `trigger_params` by kind: segment_enter {segment_kind: rfm|cluster, to_keys: [...],
    from_keys: [...] (empty: from anywhere)}; p_alive_below {threshold}; overdue
    {factor}; after_first_order / after_order {days}; event_no_order {event_type, hours}.
    Every edit of what is sent (subject, body, sender, wait) bumps `version` and keeps
    the old text in FlowVersion; people waiting get the version current when their
    email goes out, and their enrolment records which one that was.
    """

    name = models.CharField(max_length=200)
    starter_key = models.CharField(max_length=40, blank=True, default="")
    trigger_kind = models.CharField(max_length=24, choices=TriggerKind.choices)
    trigger_params = models.JSONField(default=dict, blank=True)
    wait_hours = models.PositiveIntegerField(default=24)
    subject = models.CharField(max_length=300)
    from_name = models.CharField(max_length=150)
    from_address = models.CharField(max_length=254)
    html_body = models.TextField()
    # The exit rule: an order placed after entry takes the customer out (always on:
    # "never email someone who bought since entering"); unsubscribing always does.
    exit_on_order = models.BooleanField(default=True)
    reentry_days = models.PositiveIntegerField(default=90)
    holdout_share = models.FloatField(default=0.10)
    conversion_window_days = models.PositiveSmallIntegerField(default=14)
    # The sending window, in hours of the shop's local day (start inclusive, end exclusive).
    window_start_hour = models.PositiveSmallIntegerField(default=9)
    window_end_hour = models.PositiveSmallIntegerField(default=18)
    is_active = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    seed = models.BigIntegerField(default=_new_seed)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["starter_key"], condition=~models.Q(starter_key=""),
                                    name="starter_flow_once")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.html_body = sanitize_html(self.html_body or "")
        super().save(*args, **kwargs)


class FlowVersion(models.Model):
    """What a flow sent at one version, so a report can say what each enrolment got."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=300)
    from_name = models.CharField(max_length=150)
    from_address = models.CharField(max_length=254)
    html_body = models.TextField()
    wait_hours = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flow", "number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="flow_version_once")
        ]


class FlowCampaign(models.Model):
    """The campaign whose outbox carries one flow version's emails to n-th-time entrants.

    The outbox holds one row per campaign and customer; a customer who re-enters a
    flow gets their next email through the next entry number's campaign.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="campaigns")
    version = models.PositiveIntegerField()
    entry_number = models.PositiveIntegerField()
    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE,
                                    related_name="flow_link")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "version", "entry_number"],
                                    name="flow_campaign_once")
        ]


class EnrolmentState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    EMAILED = "emailed", _("Handed to the outbox")
    HELD_OUT = "held_out", _("Held out")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    ORDERED = "ordered", _("Ordered before the email")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed or suppressed")
    ERASED = "erased", _("Customer erased")
    NO_EMAIL = "no_email", _("No email address")
    NO_CONSENT = "no_consent", _("No marketing consent")
    FLOW_OFF = "flow_off", _("Flow switched off")


class Enrolment(models.Model):
    """One customer's one entry into a flow; the experiment unit of the flow's report.

    `entry_key` names the entry (the segmentation run, the order or the event that
    triggered it), so evaluating the same trigger twice, at once or later, adds no
    row. `holdout` is drawn at entry and never changes.
    """

    # Looked up through the unique (flow, customer, entry_key) index, which leads with it:
    # every index costs each evaluation's INSERT.
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="enrolments",
                             db_index=False)
    customer = models.ForeignKey("ingest.Customer", on_delete=models.CASCADE,
                                 related_name="flow_enrolments")
    entry_key = models.CharField(max_length=60)
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField()
    holdout = models.BooleanField()
    state = models.CharField(max_length=10, choices=EnrolmentState.choices)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True,
                                   default="")
    entered_version = models.PositiveIntegerField()
    sent_version = models.PositiveIntegerField(null=True, blank=True)
    # Set at hand-over; indexed only where set, so an evaluation's INSERT (all NULL here)
    # writes no entry for it.
    recipient = models.ForeignKey("campaigns.Recipient", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+", db_index=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "customer", "entry_key"],
                                    name="enrolment_once_per_entry")
        ]
        # The sender's "who is due": only waiting rows, a small share of all.
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(state="waiting"),
                         name="enrolment_waiting_due"),
            models.Index(fields=["recipient"], condition=models.Q(recipient__isnull=False),
                         name="enrolment_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}/{self.customer_id}/{self.entry_key}"
