"""The upload journey: store the file, propose a mapping, confirm it, run the import."""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.move import file_move_safe
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ingest.models import ImportJob, ImportKind, ImportRejection, SavedMapping, import_summary
from ingest.pipeline.errors import PipelineError, Reason, joined
from ingest.pipeline.files import UploadLimits, check_size, open_upload, safe_upload_name
from ingest.pipeline.headers import header_fingerprint
from ingest.pipeline.mapping import (
    FIELDS,
    PRESETS_BY_NAME,
    ColumnMapping,
    mapping_problems,
    propose_mapping,
)
from ingest.pipeline.rows import (
    DROPPED_IDENTICAL,
    KEPT_IDENTICAL,
    ROWS_CLEANED,
    AmountReading,
    IdenticalRows,
    amount_reading,
    count_identical_rows,
    detect_date_order,
    other_currencies,
    read_rows,
)
from ingest.pipeline.table import ReadOptions, TablePreview, preview_table
from ingest.signals import import_finished
from profiler_site.core.jobs import JobCancelled, job_enqueue, job_progress
from profiler_site.core.models import JobStatus
from profiler_site.core.shop import shop_profile

from .bulk_indexes import indexes_set_aside, restore_indexes, worth_setting_aside
from .loading import (
    IMPORT_LOCK,
    load_chunk,
    orders_refunded_above_goods,
    rejection_row,
    staging_data,
)
from .prefetch import prefetch
from .retention import dropped_columns, personal_fields_dropped
from .run_memory import RunMemory

MAX_OUTLIERS_KEPT = 100
# The mapping page counts identical rows over at most this many rows (~3 µs a row).
IDENTICAL_PREVIEW_ROWS = 200_000
IDENTICAL_ROWS_CHOICES = ("drop", "keep")
# The report's count of rows that belong to erased customers (see services.privacy).
ERASED_NOTE = "skipped: erased"
# The report's count of orders whose refund was cut at their goods (`refund_taken`).
REFUNDS_ABOVE_GOODS = ("orders refunded more than their goods (shipping or tax refunded too): "
                       "refund counted down to 0 at most")


class ImportRejected(Exception):
    """The whole file cannot be imported; `reason` says why.

    A pipeline's reason comes as data too (`template`, `params`: see
    ingest.pipeline.errors) and `reason` is its English sentence; a reason given as text
    only (`template` "") is already in the owner's words.
    """

    def __init__(self, reason: str, *, template: str = "", params: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.template = template
        self.params = params or {}

    @classmethod
    def of(cls, error: PipelineError | Reason) -> ImportRejected:
        text = error.reason if isinstance(error, PipelineError) else error.text
        return cls(text, template=error.template, params=dict(error.params))


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _limits() -> UploadLimits:
    return UploadLimits(max_uncompressed_bytes=max(settings.UPLOAD_MAX_BYTES * 4, 2 * 1024**3))


def _read_options(job: ImportJob) -> ReadOptions:
    opts = job.options or {}
    return ReadOptions(
        dayfirst=opts.get("dayfirst"),
        # The owner's choice on the mapping page, else what the upload's first lines showed.
        decimal_comma=(opts.get("decimal_comma_chosen") if opts.get("decimal_comma_chosen")
                       is not None else opts.get("decimal_comma")),
        timezone=shop_profile().time_zone,
        currency=shop_profile().currency,
        keep_identical_rows=opts.get("identical_rows") == "keep",
    )


def import_preview(*, job: ImportJob, rows: int = 10) -> TablePreview:
    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        return preview_table(stream, _read_options(job), rows=rows)


def import_amount_reading(*, job: ImportJob) -> AmountReading | None:
    """An amount of the upload the decimal mark decides, as its import would read it."""
    mapping = ColumnMapping(fields=job.mapping or {}, preset=job.preset or "generic")
    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        return amount_reading(stream, mapping, _read_options(job))


def import_other_currencies(*, job: ImportJob) -> tuple[str, ...]:
    """Currencies other than the shop's in the upload's first rows (refused on import)."""
    mapping = ColumnMapping(fields=job.mapping or {}, preset=job.preset or "generic")
    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        return other_currencies(stream, mapping, _read_options(job))


def import_identical_rows(*, job: ImportJob) -> IdenticalRows:
    """Identical rows of the upload and their money under its current mapping (mapping page)."""
    mapping = ColumnMapping(fields=job.mapping or {}, preset=job.preset or "generic")
    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        return count_identical_rows(stream, mapping, _read_options(job),
                                    max_rows=IDENTICAL_PREVIEW_ROWS)


def import_upload_create(
    *, file: BinaryIO, name: str, size: int, user=None, kind: str = ImportKind.ORDERS
) -> ImportJob:
    """Store an uploaded file under a generated name and prepare its import (status draft).

    Raises ImportRejected with a clear message for files we will not read.
    """
    try:
        clean_name = safe_upload_name(name)
        check_size(size, settings.UPLOAD_MAX_BYTES)
    except PipelineError as exc:
        raise ImportRejected.of(exc) from exc
    suffix = "".join(Path(clean_name).suffixes[-2:]).lower()
    target = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    written, sha256 = _store_upload(file, target)
    job = ImportJob(
        kind=kind, original_name=clean_name[:255], stored_path=str(target), size_bytes=written,
        sha256=sha256, status=JobStatus.DRAFT, created_by=user,
    )
    try:
        preview = import_preview(job=job, rows=20)  # the first rows help guess the mapping
    except PipelineError as exc:
        target.unlink(missing_ok=True)
        raise ImportRejected.of(exc) from exc
    job.headers = list(preview.raw_headers)
    job.header_fingerprint = header_fingerprint(preview.headers)
    job.encoding = preview.encoding.name
    job.delimiter = preview.dialect.delimiter
    job.options = {"decimal_comma": preview.dialect.decimal_comma}
    if kind == ImportKind.ORDERS:
        saved = SavedMapping.objects.filter(header_fingerprint=job.header_fingerprint).first()
        if saved is not None:
            job.mapping, job.preset = saved.mapping.get("fields", {}), saved.mapping.get("preset", "")
            job.options = {**job.options, **saved.options}
            job.message = _("Using the mapping you confirmed for a file with the same columns.")
        else:
            proposed = propose_mapping(preview.raw_headers, preview.sample_rows)
            job.mapping, job.preset = dict(proposed.fields), proposed.preset
    job.save()
    return job


def _store_upload(file: BinaryIO, target: Path) -> tuple[int, str]:
    """Write the upload to `target`; its size and SHA-256. Refuses more than the limit.

    A large upload already sits in a temporary file (Django spools it): that file is
    moved, not written a second time.
    """
    digest = hashlib.sha256()
    written = 0
    temporary = getattr(file, "temporary_file_path", None)
    out = None if temporary else open(target, "wb")  # noqa: SIM115 (closed below)
    try:
        while block := file.read(4 * 1024 * 1024):
            written += len(block)
            if written > settings.UPLOAD_MAX_BYTES:
                raise ImportRejected(_("The file is larger than the upload limit."))
            digest.update(block)
            if out is not None:
                out.write(block)
    except ImportRejected:
        if out is not None:
            out.close()
        target.unlink(missing_ok=True)
        raise
    if out is not None:
        out.close()
    else:
        file_move_safe(temporary(), str(target))
    return written, digest.hexdigest()


def import_mapping_errors(*, fields: dict[str, str], preset: str,
                          headers: list[str]) -> list[Reason]:
    mapping = ColumnMapping(fields=fields, preset=preset if preset in PRESETS_BY_NAME else "generic")
    from ingest.pipeline.headers import clean_headers

    return mapping_problems(mapping, clean_headers(headers).names)


def import_mapping_keep(
    *, job: ImportJob, fields: dict[str, str], preset: str, dayfirst: bool | None,
    identical_rows: str | None, decimal_comma: bool | None = None,
) -> None:
    """Hold the mapping the owner is choosing on a draft, so its page previews under it."""
    if job.status != JobStatus.DRAFT:
        raise ImportRejected(_("This import has already started."))
    job.mapping = {k: v for k, v in fields.items() if v and k in FIELDS}
    job.preset = preset if preset in PRESETS_BY_NAME else "generic"
    job.options = {**(job.options or {}), "dayfirst": dayfirst,
                   "decimal_comma_chosen": decimal_comma,
                   "identical_rows": identical_rows or "drop"}
    job.save(update_fields=["mapping", "preset", "options"])


def import_confirm(
    *, job: ImportJob, fields: dict[str, str] | None = None, preset: str | None = None,
    dayfirst: bool | None = None, remember: bool = True, identical_rows: str | None = None,
    decimal_comma: bool | None = None,
) -> ImportJob:
    """Fix the mapping and queue the import. Raises ImportRejected naming missing fields.

    `dayfirst` and `decimal_comma` are the owner's choices; None leaves them to the file.

    `identical_rows` ("drop" or "keep", default: as remembered, else "drop") decides what
    rows equal to an earlier row are in a file without an order id.
    """
    if job.status != JobStatus.DRAFT:
        raise ImportRejected(_("This import has already started."))
    if job.kind == ImportKind.ORDERS:
        fields = {k: v for k, v in (fields if fields is not None else job.mapping).items()
                  if v and k in FIELDS}
        preset = preset if preset is not None else job.preset
        errors = import_mapping_errors(fields=fields, preset=preset, headers=job.headers)
        if errors:
            raise ImportRejected.of(joined(errors))
        job.mapping, job.preset = fields, preset
    identical_rows = identical_rows or (job.options or {}).get("identical_rows") or "drop"
    if identical_rows not in IDENTICAL_ROWS_CHOICES:
        raise ImportRejected(_("Identical rows must be dropped or kept."))
    job.options = {**(job.options or {}), "dayfirst": dayfirst,
                   "decimal_comma_chosen": decimal_comma, "identical_rows": identical_rows}
    from ingest.tasks import import_file_task

    with transaction.atomic():
        job.status = JobStatus.QUEUED
        job.save(update_fields=["mapping", "preset", "options", "status"])
        if remember and job.kind == ImportKind.ORDERS:
            SavedMapping.objects.update_or_create(
                header_fingerprint=job.header_fingerprint,
                defaults={"kind": job.kind, "mapping": {"fields": job.mapping, "preset": job.preset},
                          "options": {"dayfirst": dayfirst, "decimal_comma_chosen": decimal_comma,
                                      "identical_rows": identical_rows}},
            )
        job_enqueue(job=job, task=import_file_task)
    return job


def import_abandon(*, job: ImportJob, rejected: ImportRejected) -> None:
    """A scripted upload that cannot be mapped ends as failed, with the reason, not as a draft."""
    ImportJob.objects.filter(pk=job.pk, status=JobStatus.DRAFT).update(
        status=JobStatus.FAILED, error=rejected.reason, error_template=rejected.template,
        error_params=rejected.params, finished_at=timezone.now())
    job.refresh_from_db()


def import_discard(*, job: ImportJob) -> None:
    """The owner dropped an upload before importing it; it stays in the history as cancelled."""
    ImportJob.objects.filter(pk=job.pk, status=JobStatus.DRAFT).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now())


def _count_lines(job: ImportJob) -> int:
    lines = 0
    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        while block := stream.read(4 * 1024 * 1024):
            lines += block.count(b"\n")
    return lines


def import_run(job: ImportJob) -> str:
    """The worker's part: stream the file in chunks and load each in its own transaction."""
    if job.kind == ImportKind.EVENTS:
        from .event_imports import events_import_run

        try:
            return events_import_run(job)
        except PipelineError as exc:
            _failed_because(job, exc)
            raise
    lines = _count_lines(job)
    job_progress(job=job, phase=_("Counting rows"), total=lines)
    mapping = ColumnMapping(fields=job.mapping, preset=job.preset or "generic")
    options = _read_options(job)
    with transaction.atomic(), connection.cursor() as cursor:
        # An undo holds the import lock for its whole run: start after it, not in between.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
    restore_indexes()  # an import killed while it held them aside
    try:
        if options.dayfirst is None and mapping.behaviour.dayfirst is None:
            # "Detect" on the mapping page: the file's own dates say which comes first.
            with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
                shown = detect_date_order(stream, mapping, options)
            if shown is not None:
                options = replace(options, dayfirst=shown.dayfirst)
                # Kept for the report: which way the dates were read, and the date that said so.
                job.options = {**(job.options or {}), "date_order_shown": {
                    "dayfirst": shown.dayfirst, "line_no": shown.line_no, "text": shown.text}}
                ImportJob.objects.filter(pk=job.pk).update(options=job.options)
        with (indexes_set_aside(worth_setting_aside(lines - job.processed),
                                before_build=lambda: _building_indexes(job)),
              open_upload(job.stored_path, job.original_name, limits=_limits()) as stream):
            chunks = read_rows(stream, mapping, options, chunk_rows=settings.IMPORT_CHUNK_ROWS)
            resume_at = job.chunks_done  # chunks before it committed before a restart
            # The reader thread also turns each chunk into COPY input, so the
            # Python work overlaps the database's work on the chunk before.
            memory = RunMemory()
            dropped = dropped_columns()  # fields the owner chose never to store
            prepared = ((chunk, staging_data(personal_fields_dropped(chunk.frame, dropped),
                                             memory=memory)
                         if len(chunk.frame) else None)
                        for chunk in chunks if chunk.index >= resume_at)
            with _quick_thread_switches():
                for chunk, data in prefetch(prepared):
                    _load_one_chunk(job, chunk, data, memory)
                    job_progress(job=job, processed=chunk.last_line, phase=_("Importing"))
    except PipelineError as exc:
        _failed_because(job, exc)
        raise ImportRejected.of(exc) from exc
    except JobCancelled:
        _note_refunds_above_goods(job)  # of the chunks that committed
        raise
    _note_refunds_above_goods(job)
    job.refresh_from_db()
    job_id = job.pk
    transaction.on_commit(lambda: import_finished.send(sender=ImportJob, job_id=job_id,
                                                       kind=ImportKind.ORDERS))
    return import_summary(orders=job.orders_created, customers=job.customers_created,
                          rejected=job.rows_rejected)


def _note_refunds_above_goods(job: ImportJob) -> None:
    """Count, in the report, the orders whose refund was cut at their goods.

    Counted once the chunks are in, on the orders as stored: an order whose rows fall
    into several chunks, or that merged with an earlier import's, is counted once and
    as it ended. Set rather than added, so a resumed import counts the same.
    """
    refunded_above = orders_refunded_above_goods(job_id=job.pk)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        notes = dict(locked.cleaning_notes or {})
        notes.pop(REFUNDS_ABOVE_GOODS, None)
        if refunded_above:
            notes[REFUNDS_ABOVE_GOODS] = refunded_above
        locked.cleaning_notes = notes
        locked.save(update_fields=["cleaning_notes"])


def _failed_because(job: ImportJob, exc: PipelineError) -> None:
    """Keep why the file was refused, as data; the job runner marks it failed with `reason`."""
    ImportJob.objects.filter(pk=job.pk).update(error=exc.reason, error_template=exc.template,
                                               error_params=exc.params)


def _building_indexes(job: ImportJob) -> None:
    # Not job_progress: a cancel must not stop the indexes being built again.
    ImportJob.objects.filter(pk=job.pk).update(phase=_("Building indexes"),
                                               heartbeat_at=timezone.now())


@contextmanager
def _quick_thread_switches(seconds: float = 0.0005):
    """Hand the GIL over sooner while the reader thread parses ahead.

    Each of a chunk's dozen database calls ends with this thread waiting for the
    GIL, which the reader thread holds for up to the switch interval (5 ms by
    default): that was ~10% of an import. The worker runs one task at a time.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _load_one_chunk(job: ImportJob, chunk, data, memory: RunMemory) -> None:
    notes = Counter(chunk.notes)
    cleaned = notes.pop(ROWS_CLEANED, 0)
    duplicates = notes.get(DROPPED_IDENTICAL, 0)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.chunks_done != chunk.index:
            return  # another delivery already committed this chunk
        counts = load_chunk(data=data, job_id=job.pk, memory=memory) if data is not None else None
        rejections = [rejection_row(job.pk, r) for r in chunk.rejections]
        if counts is not None:
            rejections += [rejection_row(job.pk, r) for r in counts.conflicts]
        ImportRejection.objects.bulk_create(rejections, batch_size=5000)
        if counts is not None and counts.erased_rows:
            notes[ERASED_NOTE] += counts.erased_rows
        merged_notes = Counter(locked.cleaning_notes or {})
        merged_notes.update(notes)
        outliers = list(locked.outliers or [])
        if len(outliers) < MAX_OUTLIERS_KEPT and "is_outlier" in chunk.frame:
            flagged = chunk.frame[chunk.frame["is_outlier"]]
            for row in flagged.head(MAX_OUTLIERS_KEPT - len(outliers)).itertuples(index=False):
                outliers.append({"line_no": int(row.line_no), "sku": row.sku,
                                 "product": row.product_name, "quantity": int(row.quantity),
                                 # "": an unpriced line (flagged for its quantity)
                                 "line_total": "" if row.line_total is None else str(row.line_total)})
        locked.chunks_done = chunk.index + 1
        locked.rows_read += chunk.last_line - chunk.first_line + 1
        locked.rows_rejected += len(rejections)
        locked.rows_cleaned += cleaned
        locked.duplicates_dropped += duplicates
        locked.identical_rows_kept += notes.get(KEPT_IDENTICAL, 0)
        locked.identical_rows_money += chunk.identical_money
        locked.revenue_change = ((locked.revenue_change or 0)
                                 + (counts.revenue_change if counts is not None else 0))
        locked.cleaning_notes = dict(merged_notes)
        locked.outliers = outliers
        if counts is not None:
            locked.customers_created += counts.customers_created
            locked.customers_updated += counts.customers_updated
            locked.orders_created += counts.orders_created
            locked.orders_existing += counts.orders_existing
            locked.lines_created += counts.lines_created
        locked.processed = chunk.last_line
        locked.save()
    job.chunks_done = locked.chunks_done
