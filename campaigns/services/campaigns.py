"""Campaign life cycle: draft -> sending <-> paused -> sent (or cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from campaigns.analysis.holdout import split_holdout
from campaigns.emails.compose import template_errors
from campaigns.emails.message import HeaderInjectionError, InvalidAddressError, build_message
from campaigns.models import (
    Campaign,
    CampaignSend,
    CampaignStatus,
    Recipient,
    RecipientStatus,
)
from campaigns.selectors import audience_summary
from campaigns.services.rendering import SampleCustomer, preview_compose, public_url
from campaigns.services.sending import SmtpSender, outbox_fill
from ingest.models import Customer
from profiler_site.core.jobs import job_enqueue, job_request_cancel
from profiler_site.core.models import ACTIVE_STATUSES

EDITABLE_FIELDS = (
    "name", "subject", "from_name", "from_address", "html_body", "audience_kind", "audience_key",
    "holdout_share", "attribution_window_days", "max_per_second",
)


class CampaignError(ValueError):
    """A campaign cannot do what was asked (with a message for the owner)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldProblem:
    field: str
    message: str


def campaign_problems(
    *, subject: str, from_name: str, from_address: str, html_body: str
) -> list[FieldProblem]:
    """Everything that would stop this campaign from being sent, per form field.

    Builds a real message for a sample customer, so the form applies exactly the
    header rules the sender applies (no line breaks in headers, plain addresses).
    """
    problems = [
        FieldProblem(field="html_body", message=f"Unknown or malformed merge tag: {tag}")
        for tag in template_errors(subject="", html=html_body)
    ]
    problems += [
        FieldProblem(field="subject", message=f"Unknown or malformed merge tag: {tag}")
        for tag in template_errors(subject=subject, html="")
    ]
    if problems:
        return problems
    composed = preview_compose(subject=subject, html_body=html_body, from_name=from_name,
                               customer=SampleCustomer())
    for field, value in (("subject", composed.subject), ("from_name", from_name),
                         ("from_address", from_address)):
        try:
            build_message(
                subject=value if field == "subject" else "x",
                from_name=value if field == "from_name" else "x",
                from_address=value if field == "from_address" else "shop@example.com",
                to_name="", to_address="alex@example.com", html_body="<p>x</p>",
                message_id_seed="check", domain="example.com",
                unsubscribe_url="https://example.com/u/x/",
            )
        except HeaderInjectionError:
            problems.append(FieldProblem(
                field=field, message="Line breaks and control characters are not allowed here."
            ))
        except InvalidAddressError:
            problems.append(FieldProblem(
                field=field, message="Enter a plain address like shop@example.com."
            ))
    return problems


def campaign_create(*, user=None, from_flow: bool = False, **fields) -> Campaign:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    _check(fields)
    campaign = Campaign(created_by=user if getattr(user, "pk", None) else None,
                        from_flow=from_flow, **fields)
    campaign.save()
    return campaign


def campaign_update(*, campaign: Campaign, **fields) -> Campaign:
    if not campaign.is_editable:
        raise CampaignError("A campaign can only be edited before it is sent.")
    _check({**{f: getattr(campaign, f) for f in EDITABLE_FIELDS}, **fields})
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"unknown campaign field: {name}")
        setattr(campaign, name, value)
    campaign.save()
    return campaign


def _check(fields: dict) -> None:
    problems = campaign_problems(
        subject=fields.get("subject", ""), from_name=fields.get("from_name", ""),
        from_address=fields.get("from_address", ""), html_body=fields.get("html_body", ""),
    )
    if problems:
        raise CampaignError("; ".join(f"{p.field}: {p.message}" for p in problems))
    share = fields.get("holdout_share", 0.10)
    if not 0 <= float(share) <= 0.5:
        raise CampaignError("holdout_share must be between 0 and 0.5")


def campaign_send_start(*, campaign_id: int) -> CampaignSend:
    """Snapshot the audience (with its stored holdout) and queue the sending run.

    A scheduled campaign may be sent now too: the schedule is then moot.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignError("This campaign was already sent or started.")
        return _start(campaign)


def _start(campaign: Campaign) -> CampaignSend:
    """The start itself; the caller holds the campaign's row lock and checked its status."""
    audience = audience_summary(
        kind=campaign.audience_kind, key=campaign.audience_key,
        holdout_share=campaign.holdout_share,
    )
    if not audience.eligible_ids:
        raise CampaignError("Nobody in this audience can be emailed.")
    split = split_holdout(audience.eligible_ids, campaign.holdout_share, campaign.seed)
    outbox_fill(campaign_id=campaign.pk, treatment_ids=split.treatment_ids,
                holdout_ids=split.holdout_ids)
    campaign.status = CampaignStatus.SENDING
    campaign.send_started_at = timezone.now()
    campaign.save(update_fields=["status", "send_started_at", "updated_at"])
    return _queue_run(campaign)


def campaign_schedule(*, campaign_id: int, at: datetime, now: datetime) -> Campaign:
    """Start this campaign at `at` (aware); beat does it (`campaigns_start_due`)."""
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    if at <= now:
        raise CampaignError("Choose a time in the future.")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignError("Only a campaign that has not started can be scheduled.")
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_for = at
        campaign.save(update_fields=["status", "scheduled_for", "updated_at"])
    return campaign


def campaign_unschedule(*, campaign_id: int) -> Campaign:
    """Back to draft before the scheduled time; nothing was sent or snapshotted."""
    updated = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SCHEDULED).update(
        status=CampaignStatus.DRAFT, scheduled_for=None, updated_at=timezone.now())
    if not updated:
        raise CampaignError("This campaign is not scheduled (it may have started already).")
    return Campaign.objects.get(pk=campaign_id)


def campaigns_start_due(*, now: datetime) -> list[int]:
    """Start every scheduled campaign whose time has come; the ids started.

    Safe to run from two beats at once: each campaign is started under its row
    lock, re-checked there (still scheduled, still due), and a lock another
    process holds is skipped, so a campaign starts once. A campaign nobody in
    whose audience can be emailed at that moment goes back to draft; its
    `scheduled_for` stays, so the page can say why it did not go.
    """
    started: list[int] = []
    due = list(Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
               .order_by("scheduled_for", "pk").values_list("pk", flat=True))
    for campaign_id in due:
        with transaction.atomic():
            campaign = (Campaign.objects.select_for_update(skip_locked=True)
                        .filter(pk=campaign_id, status=CampaignStatus.SCHEDULED,
                                scheduled_for__lte=now).first())
            if campaign is None:  # started, unscheduled or cancelled meanwhile
                continue
            try:
                with transaction.atomic():
                    _start(campaign)
            except CampaignError:
                Campaign.objects.filter(pk=campaign_id).update(
                    status=CampaignStatus.DRAFT, updated_at=timezone.now())
                continue
            started.append(campaign_id)
    return started


def _queue_run(campaign: Campaign) -> CampaignSend:
    from campaigns.tasks import send_campaign_task

    job = CampaignSend.objects.create(campaign=campaign, total=0)
    job_enqueue(job=job, task=send_campaign_task)
    return job


def campaign_pause(*, campaign_id: int) -> Campaign:
    updated = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED
    )
    if not updated:
        raise CampaignError("Only a campaign that is sending can be paused.")
    return Campaign.objects.get(pk=campaign_id)


def campaign_resume(*, campaign_id: int) -> CampaignSend:
    """Continue a paused campaign (or one whose run stopped): a new run for the pending rows."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in (CampaignStatus.PAUSED, CampaignStatus.SENDING):
            raise CampaignError("Only a paused or stopped campaign can be resumed.")
        if campaign.sends.filter(status__in=ACTIVE_STATUSES).exists():
            if campaign.status == CampaignStatus.PAUSED:
                campaign.status = CampaignStatus.SENDING
                campaign.save(update_fields=["status", "updated_at"])
            raise CampaignError("A sending run is still active; it picks up again on its own.")
        campaign.status = CampaignStatus.SENDING
        campaign.save(update_fields=["status", "updated_at"])
        return _queue_run(campaign)


def campaign_cancel(*, campaign_id: int) -> Campaign:
    """Stop for good: rows not sent yet stay unsent; what was sent is still measured."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
            raise CampaignError("This campaign has already finished.")
        campaign.status = CampaignStatus.CANCELLED
        campaign.save(update_fields=["status", "updated_at"])
        for job in campaign.sends.filter(status__in=ACTIVE_STATUSES):
            job_request_cancel(job=job)
    return campaign


def campaign_send_test(*, campaign: Campaign, to_address: str) -> str:
    """Send the campaign, as the first audience member would get it, to the owner.

    Links are not tracked and the unsubscribe link goes nowhere: a test must
    not count as an open or click. Returns the server's answer.
    """
    if not to_address:
        raise CampaignError("Your account has no email address; add one in the admin first.")
    sample = Customer.objects.filter(email__gt="").order_by("id").first() or SampleCustomer()
    composed = preview_compose(subject=campaign.subject, html_body=campaign.html_body,
                               from_name=campaign.from_name, customer=sample)
    try:
        message = build_message(
            subject=f"[Test] {composed.subject}", from_name=campaign.from_name,
            from_address=campaign.from_address, to_name="", to_address=to_address,
            html_body=composed.html, text_body=composed.text,
            message_id_seed=f"test-{campaign.pk}-{timezone.now().isoformat()}",
            domain=campaign.domain, unsubscribe_url=public_url("unsubscribe", "test"),
        )
    except ValueError as exc:
        raise CampaignError(str(exc)) from exc
    sender = SmtpSender.from_settings()
    sender.retry_delays = (1.0,)  # the owner is waiting for the page
    try:
        delivery = sender.deliver(from_address=campaign.from_address, to_address=to_address,
                                  payload=message.as_bytes())
    except Exception as exc:
        raise CampaignError(f"The mail server could not be reached: {exc}") from exc
    finally:
        sender.close()
    if delivery.status != RecipientStatus.SENT:
        raise CampaignError(f"The mail server did not take the test: {delivery.detail}")
    return delivery.detail


def recipients_forget_unsent(*, customer_ids: list[int]) -> int:
    """Drop the outbox rows not sent yet of customers about to be removed; how many.

    A removed customer (e.g. the demo shop's) must never get an email; rows already
    sent, failed or held out stay, so a campaign's history keeps what happened.
    """
    deleted, _by_model = Recipient.objects.filter(
        customer_id__in=customer_ids,
        status__in=[RecipientStatus.PENDING, RecipientStatus.CLAIMED],
    ).delete()
    return deleted
