"""Reads of the ingest app for pages and the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from ingest.models import ImportJob, ImportRejection


def import_history() -> QuerySet[ImportJob]:
    return ImportJob.objects.all().order_by("-created_at")


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRejection:
    line_no: int
    reason: str
    raw: dict | str


def import_rejections(*, job: ImportJob, limit: int | None = None) -> Iterator[StoredRejection]:
    qs = ImportRejection.objects.filter(job=job).order_by("line_no").values_list(
        "line_no", "reason", "raw")
    if limit is not None:
        qs = qs[:limit]
    for line_no, reason, raw in qs.iterator(chunk_size=5000):
        if isinstance(raw, dict) and set(raw) == {"text"}:
            raw = raw["text"]
        yield StoredRejection(line_no=line_no, reason=reason, raw=raw)


def import_report(job: ImportJob) -> dict[str, int]:
    """The report counts under the plain names the API promises."""
    return {name: getattr(job, name) for name in (
        "rows_read", "customers_created", "customers_updated", "orders_created",
        "orders_existing", "lines_created", "rows_cleaned", "rows_rejected",
        "duplicates_dropped", "events_created")}
