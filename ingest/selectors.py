"""Reads of the ingest app for pages and the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.db.models import Count, Min, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import translation

from ingest.models import (
    Customer,
    CustomerBefore,
    ImportJob,
    ImportKind,
    ImportRejection,
    ImportUndo,
    Order,
    OrderBefore,
)
from ingest.note_words import rows_left_out
from ingest.reason_words import reason_text
from ingest.services.demo import demo_imports
from profiler_site.core.models import JobStatus


def import_history() -> QuerySet[ImportJob]:
    return ImportJob.objects.all().order_by("-created_at")


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRejection:
    line_no: int
    reason: str  # in the reader's language (see ingest.reason_words)
    stored: str  # as the worker wrote it, in English
    raw: dict | str


@dataclass(frozen=True, kw_only=True, slots=True)
class RejectionKind:
    """Rows refused for one kind of reason, worded as its first row's."""

    rows: int
    first_line: int
    reason: str  # in the reader's language


def import_rejection_kinds(*, job: ImportJob) -> list[RejectionKind]:
    """The import's refusals counted by reason (its template: "order date %(value)s is not
    a real date" is one kind whatever the date), most rows first. The report shows it
    above the first rows, so a reason repeated thousands of times hides no other."""
    kinds = (ImportRejection.objects.filter(job=job)
             .annotate(kind=Coalesce(NullIf("reason_template", Value("")), "reason",
                                     output_field=TextField()))
             .values("kind").annotate(rows=Count("id"), first_line=Min("line_no"))
             .order_by("-rows", "first_line"))
    firsts = {r.line_no: r for r in _rejections_at(job, [k["first_line"] for k in kinds])}
    return [RejectionKind(rows=k["rows"], first_line=k["first_line"],
                          reason=firsts[k["first_line"]].reason) for k in kinds]


def _rejections_at(job: ImportJob, lines: list[int]) -> Iterator[StoredRejection]:
    rows = ImportRejection.objects.filter(job=job, line_no__in=lines).values_list(
        "line_no", "reason", "reason_template", "reason_params")
    for line_no, reason, template, params in rows:
        yield StoredRejection(line_no=line_no, reason=reason_text(template, params, reason),
                              stored=reason, raw={})


# Rows put into words at a time, with the reader's language active (see below).
_WORDED_AT_ONCE = 1000


def import_rejections(*, job: ImportJob, limit: int | None = None) -> Iterator[StoredRejection]:
    """The import's refused rows in file order, each reason in the language active now.

    The language is taken at the call, not as the rows are read: a download streams
    them after the request's language has been put back.
    """
    return _rejections(job, limit, translation.get_language())


def _rejections(job: ImportJob, limit: int | None,
                language: str | None) -> Iterator[StoredRejection]:
    qs = ImportRejection.objects.filter(job=job).order_by("line_no").values_list(
        "line_no", "reason", "reason_template", "reason_params", "raw")
    if limit is not None:
        qs = qs[:limit]
    rows = qs.iterator(chunk_size=5000)
    while batch := list(islice(rows, _WORDED_AT_ONCE)):
        with translation.override(language):
            worded = [reason_text(template, params, reason)
                      for _, reason, template, params, _ in batch]
        for (line_no, reason, _, _, raw), words in zip(batch, worded, strict=True):
            if isinstance(raw, dict) and set(raw) == {"text"}:
                raw = raw["text"]
            yield StoredRejection(line_no=line_no, reason=words, stored=reason, raw=raw)


def import_report(job: ImportJob) -> dict[str, int | str | None]:
    """The report counts under the plain names the API promises.

    `identical_rows` is what rows equal to an earlier row were taken for: "order_id"
    (the file has an order id: the same line exported twice, dropped), "order_id_kept"
    (it has one and the owner kept them: more of their lines), else the owner's "drop"
    or "keep"; `identical_rows_money` their revenue, dropped or kept.
    `revenue_change` is what the import did to the shop's revenue ("0.00" for a file
    imported before; None for an events file, or an import made before it was kept).
    """
    report: dict[str, int | str | None] = {name: getattr(job, name) for name in (
        "rows_read", "customers_created", "customers_updated", "orders_created",
        "orders_existing", "lines_created", "rows_cleaned", "rows_rejected",
        "duplicates_dropped", "identical_rows_kept", "events_created")}
    chosen = (job.options or {}).get("identical_rows") or "drop"
    if (job.mapping or {}).get("order_id"):
        report["identical_rows"] = "order_id_kept" if chosen == "keep" else "order_id"
    else:
        report["identical_rows"] = chosen
    report["identical_rows_money"] = f"{job.identical_rows_money:.2f}"
    report["revenue_change"] = (None if job.revenue_change is None
                                else f"{job.revenue_change:.2f}")
    # Rows the file's format says are no order line (PayPal's withdrawals): not refused.
    report["rows_left_out"] = rows_left_out(job.cleaning_notes or {})
    return report


def import_same_file(job: ImportJob) -> ImportJob | None:
    """The latest finished, not undone import of a file with exactly these bytes (same SHA-256)."""
    if not job.sha256:
        return None
    return (ImportJob.objects.filter(sha256=job.sha256, kind=job.kind, status=JobStatus.SUCCEEDED,
                                     undone_at__isnull=True)
            .exclude(pk=job.pk).order_by("-finished_at").first())


@dataclass(frozen=True, kw_only=True, slots=True)
class UndoPreview:
    """What undoing an import would do, for the owner's confirmation."""

    orders_created: int
    orders_changed: int
    customers_created: int
    customers_changed: int


def import_undo_preview(job: ImportJob) -> UndoPreview:
    return UndoPreview(
        orders_created=Order.objects.filter(import_job=job).count(),
        orders_changed=OrderBefore.objects.filter(job=job).count(),
        customers_created=Customer.objects.filter(import_job=job).count(),
        customers_changed=CustomerBefore.objects.filter(job=job).count(),
    )


def import_undoable(job: ImportJob) -> bool:
    """Whether the page offers to undo it (the service still checks when asked)."""
    return (job.kind == ImportKind.ORDERS and job.undone_at is None
            and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED))


def latest_undo(job: ImportJob) -> ImportUndo | None:
    return ImportUndo.objects.filter(target=job).order_by("-pk").first()


def demo_import() -> ImportJob | None:
    """The demo shop's import while its data is still here."""
    return ImportJob.objects.filter(demo_imports(), undone_at__isnull=True) \
        .exclude(status=JobStatus.DRAFT).order_by("pk").first()
