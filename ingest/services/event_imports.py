"""Events files and the events API: customers by email or shop id, events stored once."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils.translation import gettext as _

from ingest.models import Customer, ImportJob, ImportRejection
from ingest.pipeline.errors import RowError, gettext_noop
from ingest.pipeline.events import read_events
from ingest.pipeline.files import open_upload
from ingest.pipeline.parsing import parse_email
from ingest.signals import import_finished
from profiler_site.core.jobs import job_progress

from .events import EventInput, events_record
from .loading import rejection_row
from .privacy import erase_lock_shared_in_transaction, erased_keys_among
from .retention import event_properties_allowed


def customers_ensure(*, keys: dict[str, dict]) -> dict[str, int]:
    """Customer ids for keys, creating the unknown ones (key -> {'email', 'shop_customer_id'})."""
    existing = dict(Customer.objects.filter(key__in=list(keys)).values_list("key", "id"))
    missing = [Customer(key=k, email=v.get("email") or "", shop_customer_id=v.get("shop_customer_id") or "")
               for k, v in keys.items() if k not in existing]
    if missing:
        Customer.objects.bulk_create(missing, ignore_conflicts=True, batch_size=2000)
        existing = dict(Customer.objects.filter(key__in=list(keys)).values_list("key", "id"))
    return existing


def events_store(*, rows: list[dict], source: str) -> int:
    """rows: customer_key, email, shop_customer_id, type, occurred_at, properties. Returns new."""
    with transaction.atomic():
        # Events of erased customers are dropped, as an order import drops their rows.
        erase_lock_shared_in_transaction()
        erased = erased_keys_among(r["customer_key"] for r in rows)
        rows = [r for r in rows if r["customer_key"] not in erased]
        if not rows:
            return 0
        ids = customers_ensure(keys={r["customer_key"]: {"email": r.get("email"),
                                                         "shop_customer_id": r.get("shop_customer_id")}
                                     for r in rows})
        return events_record(events=[
            EventInput(customer_id=ids[r["customer_key"]], type=r["type"],
                       occurred_at=r["occurred_at"],
                       properties=event_properties_allowed(r.get("properties") or {}),
                       source=source)
            for r in rows
        ])


def api_events_store(*, events: list[dict]) -> int:
    """Events posted to the API (customer, type, time, properties); all or nothing.

    The customer is an email (normalised like a file's) or the shop's customer id.
    Raises RowError naming the first bad event; nothing is stored then.
    """
    rows = []
    for index, event in enumerate(events):
        who = event["customer"].strip()
        is_email = "@" in who
        if is_email:
            try:
                who = parse_email(who).value
            except RowError as exc:
                # The API answers programs in English: the inner reason is its sentence.
                raise RowError(gettext_noop("events[%(index)s]: %(reason)s"), index=index,
                               reason=exc.reason) from exc
        rows.append({"customer_key": who if is_email else f"id:{who}",
                     "email": who if is_email else None,
                     "shop_customer_id": None if is_email else who, "type": event["type"],
                     "occurred_at": event["time"], "properties": event.get("properties") or {}})
    return events_store(rows=rows, source="api")


def events_import_run(job: ImportJob) -> str:
    from .imports import _limits, _read_options

    with open_upload(job.stored_path, job.original_name, limits=_limits()) as stream:
        for chunk in read_events(stream, _read_options(job)):
            if chunk.index < job.chunks_done:
                continue
            rows = [
                {"customer_key": r.customer_key, "email": r.customer_email,
                 "shop_customer_id": r.shop_customer_id, "type": r.event_type,
                 "occurred_at": r.occurred_at.to_pydatetime(), "properties": r.properties}
                for r in chunk.frame.itertuples(index=False)
            ]
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if locked.chunks_done != chunk.index:
                    continue
                created = events_store(rows=rows, source="csv")
                ImportRejection.objects.bulk_create([
                    rejection_row(job.pk, r) for r in chunk.rejections])
                notes = Counter(locked.cleaning_notes or {})
                notes.update(chunk.notes)
                locked.cleaning_notes = dict(notes)
                locked.events_created += created
                locked.rows_read += len(rows) + len(chunk.rejections)
                locked.rows_rejected += len(chunk.rejections)
                locked.chunks_done = chunk.index + 1
                locked.processed = locked.rows_read
                locked.save()
            job.chunks_done = locked.chunks_done
            job_progress(job=job, processed=locked.rows_read, phase=_("Importing events"))
    job.refresh_from_db()
    job_id = job.pk
    transaction.on_commit(lambda: import_finished.send(sender=ImportJob, job_id=job_id, kind="events"))
    return _("Stored %(n)s new events; %(r)s rows rejected.") % {
        "n": f"{job.events_created:,}", "r": f"{job.rows_rejected:,}"}
