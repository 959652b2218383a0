"""Due enrolments -> the campaigns outbox, inside the shop's sending window.

A due enrolment is checked again right before it is handed over (flow still
on, customer not erased, no order since entry, address present, not
suppressed, consent) in the same transaction that hands it over, with the rows
locked (``FOR UPDATE SKIP LOCKED``): two senders never hand over one enrolment.
Handing over = a row in the outbox of the flow version's campaign and a
sending run queued; from there the campaigns sender's guarantees hold (taken
before SMTP, never resent after a crash, RFC 8058 headers, tracking). Nothing is
sent here.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q

from campaigns.models import Campaign, CampaignSend, CampaignStatus, Recipient, RecipientStatus
from campaigns.selectors import shop_records_consent
from campaigns.services.campaigns import campaign_create
from campaigns.services.sending import outbox_fill
from flows import clock
from flows.models import Enrolment, EnrolmentState, Flow, FlowCampaign, SkipReason
from flows.triggers_sql import PURCHASE
from ingest.models import Customer, Order
from ingest.services.privacy import erase_lock_shared_in_transaction
from profiler_site.core.jobs import job_enqueue
from profiler_site.core.models import ACTIVE_STATUSES
from profiler_site.core.shop import shop_profile

HAND_OVER_BATCH = 1000


@dataclass(frozen=True, kw_only=True, slots=True)
class HandOver:
    emailed: int
    skipped: dict[str, int]
    outside_window: int  # flows with due people, waiting for their window


def in_sending_window(flow: Flow, *, now: datetime, time_zone: str) -> bool:
    """Whether `now` falls in the flow's window on the shop's local clock.

    The local hour comes from converting the instant with zoneinfo, so on the
    days clocks change the window still opens at 9:00 local time (an hour
    earlier or later in UTC), never at a fixed UTC offset.
    """
    local = now.astimezone(zoneinfo.ZoneInfo(time_zone))
    return flow.window_start_hour <= local.hour < flow.window_end_hour


class _ByName:
    """`job_enqueue` takes a task; services never import tasks, so send it by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def apply_async(self, *, args: list, task_id: str) -> None:
        from profiler_site.celery import app

        app.send_task(self.name, args=args, task_id=task_id)


def _queue_send(campaign_id: int) -> None:
    """Reopen the flow campaign (a finished run marked it sent) and queue a sending run.

    A flow campaign the owner paused or cancelled on its campaign page stays so: its
    rows wait in the outbox until they resume it.
    """
    reopened = Campaign.objects.filter(
        pk=campaign_id, status__in=[CampaignStatus.SENDING, CampaignStatus.SENT]
    ).update(status=CampaignStatus.SENDING)
    if reopened:
        job = CampaignSend.objects.create(campaign_id=campaign_id, total=0)
        job_enqueue(job=job, task=_ByName(CampaignSend.task_name))


def _flow_campaign(flow: Flow, entry_number: int, now: datetime) -> int:
    """The campaign carrying this flow version to its n-th-time entrants (made once)."""
    link = FlowCampaign.objects.filter(flow=flow, version=flow.version,
                                       entry_number=entry_number).first()
    if link is not None:
        return link.campaign_id
    suffix = "" if entry_number == 1 else f", entry {entry_number}"
    try:
        with transaction.atomic():
            campaign = campaign_create(
                name=f"Flow: {flow.name} (v{flow.version}{suffix})"[:200], subject=flow.subject,
                from_name=flow.from_name, from_address=flow.from_address,
                html_body=flow.html_body, holdout_share=0.0,
                attribution_window_days=flow.conversion_window_days, from_flow=True,
            )
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING,
                                                           send_started_at=now)
            FlowCampaign.objects.create(flow=flow, version=flow.version,
                                        entry_number=entry_number, campaign=campaign)
            return campaign.pk
    except IntegrityError:  # another sender made it a moment ago: use theirs
        return FlowCampaign.objects.get(flow=flow, version=flow.version,
                                        entry_number=entry_number).campaign_id


def _due_locked(*, flow_ids: list[int], now: datetime, consent_recorded: bool
                ) -> list[tuple[int, int, int, str]]:
    """(enrolment id, flow id, customer id, skip reason or '') of due rows, locked for us."""
    enrolments, flows = Enrolment._meta.db_table, Flow._meta.db_table
    customers, orders = Customer._meta.db_table, Order._meta.db_table
    suppressions = "campaigns_suppression"
    sql = f"""
        SELECT e.id, e.flow_id, e.customer_id, CASE
            WHEN NOT f.is_active THEN %s
            WHEN c.key LIKE 'erased:%%' THEN %s
            WHEN f.exit_on_order AND EXISTS (
                SELECT 1 FROM {orders} o WHERE o.customer_id = e.customer_id
                AND {PURCHASE.format(o='o')} AND o.ordered_at > e.entered_at) THEN %s
            WHEN btrim(c.email) = '' THEN %s
            WHEN EXISTS (SELECT 1 FROM {suppressions} s
                         WHERE s.email = lower(btrim(c.email))) THEN %s
            WHEN c.accepts_marketing IS FALSE
                 OR (c.accepts_marketing IS NULL AND %s) THEN %s
            ELSE '' END
        FROM {enrolments} e
        JOIN {flows} f ON f.id = e.flow_id
        JOIN {customers} c ON c.id = e.customer_id
        WHERE e.state = %s AND e.due_at <= %s AND e.flow_id = ANY(%s)
        ORDER BY e.id LIMIT %s
        FOR UPDATE OF e SKIP LOCKED
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [
            SkipReason.FLOW_OFF, SkipReason.ERASED, SkipReason.ORDERED, SkipReason.NO_EMAIL,
            SkipReason.UNSUBSCRIBED, consent_recorded, SkipReason.NO_CONSENT,
            EnrolmentState.WAITING, now, flow_ids, HAND_OVER_BATCH,
        ])
        return cursor.fetchall()


def _entry_numbers(enrolment_ids: list[int]) -> dict[int, int]:
    """Each enrolment's place among its customer's entries into the flow (1, 2, ...)."""
    table = Enrolment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, (SELECT count(*) FROM {table} p WHERE p.flow_id = e.flow_id "
            "AND p.customer_id = e.customer_id AND p.id <= e.id) "
            f"FROM {table} e WHERE e.id = ANY(%s)", [enrolment_ids])
        return dict(cursor.fetchall())


def outbox_withdraw(*, enrolments, reason: str, now: datetime) -> int:
    """Take back outbox rows not yet taken by a sender; their enrolments become skipped.

    A row the sender has taken (`sending` and after) is locked or no longer pending, so
    the DELETE leaves it: what is already on its way is not recalled, and nothing is
    sent twice or half-withdrawn. Returns how many were taken back.
    """
    unsent = [RecipientStatus.PENDING, RecipientStatus.CLAIMED]
    with transaction.atomic():
        ids = list(enrolments.filter(state=EnrolmentState.EMAILED,
                                     recipient__status__in=unsent).values_list("pk", flat=True))
        if not ids:
            return 0
        Recipient.objects.filter(pk__in=Enrolment.objects.filter(pk__in=ids).values(
            "recipient_id"), status__in=unsent).delete()  # SET_NULL empties the enrolment's link
        return Enrolment.objects.filter(pk__in=ids, recipient__isnull=True).update(
            state=EnrolmentState.SKIPPED, skip_reason=reason, decided_at=now)


def outbox_withdraw_ordered(*, now: datetime) -> int:
    """Customers who ordered after entering but whose email has not left yet get none."""
    # A purchase, as `triggers_sql.PURCHASE` says: a return or a 0.00 order is none.
    ordered = Order.objects.filter(customer_id=OuterRef("customer_id"), is_cancelled=False,
                                   gross_total__gt=0, ordered_at__gt=OuterRef("entered_at"))
    return outbox_withdraw(enrolments=Enrolment.objects.filter(
        Exists(ordered), flow__exit_on_order=True), reason=SkipReason.ORDERED, now=now)


def flows_hand_over(*, now: datetime | None = None) -> HandOver:
    """Hand every due, still-eligible enrolment to the outbox; skip the rest with a reason."""
    now = now or clock.now()
    outbox_withdraw_ordered(now=now)
    time_zone = shop_profile().time_zone
    due_flows = list(Flow.objects.filter(
        pk__in=Enrolment.objects.filter(state=EnrolmentState.WAITING, due_at__lte=now)
        .values("flow_id")))
    # A switched-off flow's waiting people are skipped whatever the hour.
    open_ids = [f.pk for f in due_flows
                if not f.is_active or in_sending_window(f, now=now, time_zone=time_zone)]
    emailed = 0
    skipped: dict[str, int] = defaultdict(int)
    consent_recorded = shop_records_consent()
    flows = {f.pk: f for f in due_flows}
    while open_ids:
        with transaction.atomic():
            # An erasure waits for this hand-over (and vice versa), like a sender's batch.
            erase_lock_shared_in_transaction()
            rows = _due_locked(flow_ids=open_ids, now=now, consent_recorded=consent_recorded)
            if not rows:
                break
            for reason in {r for *_ids, r in rows if r}:
                ids = [eid for eid, _f, _c, r in rows if r == reason]
                Enrolment.objects.filter(pk__in=ids).update(
                    state=EnrolmentState.SKIPPED, skip_reason=reason, decided_at=now)
                skipped[reason] += len(ids)
            going = [(eid, fid, cid) for eid, fid, cid, r in rows if not r]
            numbers = _entry_numbers([eid for eid, _f, _c in going])
            by_campaign: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
            for eid, fid, cid in going:
                campaign_id = _flow_campaign(flows[fid], numbers[eid], now)
                by_campaign[(campaign_id, fid)].append((eid, cid))
            for (campaign_id, fid), people in by_campaign.items():
                outbox_fill(campaign_id=campaign_id, treatment_ids=[c for _e, c in people],
                            holdout_ids=[])
                _mark_emailed(campaign_id=campaign_id, enrolment_ids=[e for e, _c in people],
                              version=flows[fid].version, now=now)
                _queue_send(campaign_id)
                emailed += len(people)
        if len(rows) < HAND_OVER_BATCH:
            break
    _resume_stranded()
    return HandOver(emailed=emailed, skipped=dict(skipped),
                    outside_window=len(due_flows) - len(open_ids))


def _mark_emailed(*, campaign_id: int, enrolment_ids: list[int], version: int,
                  now: datetime) -> None:
    enrolments, recipients = Enrolment._meta.db_table, Recipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {enrolments} e SET state = %s, sent_version = %s, decided_at = %s, "
            f"recipient_id = r.id FROM {recipients} r WHERE e.id = ANY(%s) "
            "AND r.campaign_id = %s AND r.customer_id = e.customer_id",
            [EnrolmentState.EMAILED, version, now, enrolment_ids, campaign_id])


def _resume_stranded() -> None:
    """A flow campaign with unsent rows and no live run (its run ended as rows arrived): queue one."""
    stranded = (Campaign.objects.filter(flow_link__isnull=False)
                .filter(recipients__status=RecipientStatus.PENDING)
                .exclude(Q(sends__status__in=ACTIVE_STATUSES))
                .values_list("pk", flat=True).distinct())
    for campaign_id in stranded:
        with transaction.atomic():
            _queue_send(campaign_id)
