"""A flow's life: created (off), edited (a new version when what is sent changes), on, off."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F

from campaigns.services.campaigns import campaign_problems
from flows import clock
from flows.models import Enrolment, EnrolmentState, Flow, FlowVersion, SkipReason, TriggerKind
from flows.services.sending import outbox_withdraw

EDITABLE_FIELDS = (
    "name", "trigger_kind", "trigger_params", "wait_hours", "subject", "from_name",
    "from_address", "html_body", "exit_on_order", "reentry_days", "holdout_share",
    "conversion_window_days", "window_start_hour", "window_end_hour",
)
# Editing one of these changes what a waiting customer will get: a new version.
VERSIONED_FIELDS = ("subject", "from_name", "from_address", "html_body", "wait_hours")


class FlowError(ValueError):
    """A flow cannot be saved or switched as asked (with a message for the owner)."""


def _check(fields: dict) -> None:
    problems = campaign_problems(
        subject=fields.get("subject", ""), from_name=fields.get("from_name", ""),
        from_address=fields.get("from_address", ""), html_body=fields.get("html_body", ""),
    )
    if problems:
        raise FlowError("; ".join(f"{p.field}: {p.message}" for p in problems))
    if fields.get("trigger_kind") not in TriggerKind.values:
        raise FlowError(f"unknown trigger: {fields.get('trigger_kind')}")
    if not 0 <= float(fields.get("holdout_share", 0.10)) <= 0.5:
        raise FlowError("holdout_share must be between 0 and 0.5")
    start, end = int(fields.get("window_start_hour", 9)), int(fields.get("window_end_hour", 18))
    if not 0 <= start < end <= 24:
        raise FlowError("The sending window must start before it ends, within 0-24 h.")


def _record_version(flow: Flow) -> None:
    FlowVersion.objects.get_or_create(
        flow=flow, number=flow.version,
        defaults={name: getattr(flow, name) for name in VERSIONED_FIELDS},
    )


def flow_create(*, starter_key: str = "", **fields) -> Flow:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown flow fields: {sorted(unknown)}")
    _check(fields)
    with transaction.atomic():
        flow = Flow(starter_key=starter_key, **fields)
        flow.save()
        _record_version(flow)
    return flow


def flow_update(*, flow_id: int, **fields) -> Flow:
    """Save an edit; a change to what is sent makes a new version for everyone still waiting."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown flow fields: {sorted(unknown)}")
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(pk=flow_id)
        before = {name: getattr(flow, name) for name in VERSIONED_FIELDS}
        _check({**{name: getattr(flow, name) for name in EDITABLE_FIELDS}, **fields})
        for name, value in fields.items():
            setattr(flow, name, value)
        flow.save()  # sanitises the body, so compare what is stored
        if any(getattr(flow, name) != before[name] for name in VERSIONED_FIELDS):
            flow.version += 1
            flow.save(update_fields=["version", "updated_at"])
            _record_version(flow)
            if flow.wait_hours != before["wait_hours"]:
                # The page says "sent N hours after entry": people waiting follow it.
                Enrolment.objects.filter(flow=flow, state=EnrolmentState.WAITING).update(
                    due_at=F("entered_at") + timedelta(hours=flow.wait_hours))
    return flow


def flow_switch(*, flow_id: int, on: bool) -> Flow:
    """On: triggers start enrolling. Off: nobody new enters and nobody waiting is emailed."""
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(pk=flow_id)
        flow.is_active = on
        flow.save(update_fields=["is_active", "updated_at"])
        if not on:
            Enrolment.objects.filter(flow=flow, state=EnrolmentState.WAITING).update(
                state=EnrolmentState.SKIPPED, skip_reason=SkipReason.FLOW_OFF,
                decided_at=clock.now())
            # Handed over but not taken by a sender yet: taken back too.
            outbox_withdraw(enrolments=Enrolment.objects.filter(flow=flow),
                            reason=SkipReason.FLOW_OFF, now=clock.now())
    return flow
