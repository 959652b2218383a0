"""Keeping only what is needed: fields never stored, event properties allowed, old data purged.

The owner chooses by settings (see docs/privacy.md):
- PRIVACY_DROP_FIELDS: customer fields an import never stores (names, birth_year,
  gender, city); they are dropped from each chunk before it is loaded;
- EVENT_PROPERTIES_ALLOWED: the event properties kept from the API and events files
  ("*" keeps all);
- UPLOADS_KEEP_DAYS: uploaded files are deleted this long after the upload (the
  import's report stays);
- EVENTS_KEEP_MONTHS: events older than this are deleted.
The purges run nightly from beat; each one that deleted anything is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from dateutil.relativedelta import relativedelta
from django.conf import settings

from ingest.models import Event, ImportJob
from profiler_site.core.audit import Actor, audit_record
from profiler_site.core.models import AuditAction, JobStatus

# The owner's words for a field -> the chunk's columns that hold it.
DROPPABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "names": ("full_name", "first_name", "last_name"),
    "birth_year": ("birth_year",),
    "gender": ("gender",),
    "city": ("city",),
}


def dropped_columns() -> tuple[str, ...]:
    unknown = set(settings.PRIVACY_DROP_FIELDS) - set(DROPPABLE_FIELDS)
    if unknown:
        raise ValueError(f"PRIVACY_DROP_FIELDS: unknown {sorted(unknown)}; "
                         f"choose from {sorted(DROPPABLE_FIELDS)}")
    return tuple(c for name in settings.PRIVACY_DROP_FIELDS for c in DROPPABLE_FIELDS[name])


def personal_fields_dropped(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The chunk without the fields the owner chose not to store (as if the file had none)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    return frame.assign(**{c: _missing(frame[c]) for c in present})


def _missing(column: pd.Series) -> pd.Series:
    if column.dtype == object:
        return pd.Series([None] * len(column), index=column.index, dtype=object)
    return pd.Series(pd.NA, index=column.index, dtype=column.dtype)


def event_properties_allowed(properties: dict) -> dict:
    allowed = settings.EVENT_PROPERTIES_ALLOWED
    if "*" in allowed:
        return properties
    return {key: value for key, value in properties.items() if key in allowed}


@dataclass(frozen=True, kw_only=True, slots=True)
class Purged:
    uploads: int
    events: int


_DONE = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DRAFT)


def uploads_purge(*, now: datetime, actor: Actor) -> int:
    """Delete uploaded files older than UPLOADS_KEEP_DAYS of imports no longer running.

    The import row and its report stay; an upload never confirmed is cancelled.
    """
    days = settings.UPLOADS_KEEP_DAYS
    if days <= 0:
        return 0
    old = ImportJob.objects.filter(created_at__lt=now - timedelta(days=days), status__in=_DONE) \
        .exclude(stored_path="")
    deleted = 0
    for job_id, stored_path in old.values_list("id", "stored_path"):
        Path(stored_path).unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job_id).update(stored_path="")
        ImportJob.objects.filter(pk=job_id, status=JobStatus.DRAFT).update(
            status=JobStatus.CANCELLED, finished_at=now)
        deleted += 1
    if deleted:
        audit_record(actor=actor, action=AuditAction.UPLOADS_PURGED,
                     target=f"uploads older than {days} days", details={"files": deleted})
    return deleted


def events_purge(*, now: datetime, actor: Actor) -> int:
    """Delete events older than EVENTS_KEEP_MONTHS."""
    months = settings.EVENTS_KEEP_MONTHS
    if months <= 0:
        return 0
    deleted, _ = Event.objects.filter(occurred_at__lt=now - relativedelta(months=months)).delete()
    if deleted:
        audit_record(actor=actor, action=AuditAction.EVENTS_PURGED,
                     target=f"events older than {months} months", details={"events": deleted})
    return deleted


def old_data_purge(*, now: datetime, actor: Actor) -> Purged:
    return Purged(uploads=uploads_purge(now=now, actor=actor), events=events_purge(now=now, actor=actor))
