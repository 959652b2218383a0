"""Flows' part of giving and forgetting a customer (listens to ingest's signals)."""

from __future__ import annotations

from flows import clock
from flows.models import Enrolment, EnrolmentState, SkipReason
from ingest.services.privacy import ArchivePart


def customer_flows_forget(*, customer_id: int, **_signal) -> None:
    """Nobody waits to email an erased customer (campaigns drops their unsent outbox rows)."""
    rows = Enrolment.objects.filter(customer_id=customer_id)
    rows.filter(state=EnrolmentState.WAITING).update(
        state=EnrolmentState.SKIPPED, skip_reason=SkipReason.ERASED, decided_at=clock.now())
    rows.filter(state=EnrolmentState.EMAILED, recipient__isnull=True).update(
        state=EnrolmentState.SKIPPED, skip_reason=SkipReason.ERASED, decided_at=clock.now())


def customer_flows_archive(*, customer_id: int, **_signal) -> list[ArchivePart]:
    fields = ("flow__name", "entered_at", "holdout", "state", "skip_reason", "entered_version",
              "sent_version")
    return [ArchivePart(
        name="flows.csv", header=[f.replace("flow__", "flow_") for f in fields],
        rows=Enrolment.objects.filter(customer_id=customer_id).order_by("id")
        .values_list(*fields),
        note="every automated email (flow) you entered, whether you were emailed or held out, "
             "and why an email was skipped")]
