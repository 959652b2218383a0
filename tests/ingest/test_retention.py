"""Keeping only what is needed: fields never stored, properties allowed, old data purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.models import Customer, Event, ImportJob
from ingest.services.event_imports import api_events_store
from ingest.services.events import event_record
from ingest.services.retention import events_purge, uploads_purge
from profiler_site.core.audit import SCHEDULED, Actor
from profiler_site.core.models import AuditAction, AuditEntry, JobStatus
from tests.ingest.helpers_db import import_bytes

pytestmark = pytest.mark.django_db(transaction=True)

BEAT = Actor(name=SCHEDULED)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ORDERS = (
    b"order_id,email,first_name,last_name,city,country,birth_year,gender,ordered_at,line_total\n"
    b"A1,ann@example.com,Ann,Lee,Leeds,UK,1980,f,2024-01-05,10.00\n"
)


def test_fields_the_owner_chose_not_to_store_are_dropped_at_import(settings):
    settings.PRIVACY_DROP_FIELDS = ["names", "city", "birth_year", "gender"]

    job = import_bytes(ORDERS)

    ann = Customer.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.orders_created == 1
    assert (ann.email, ann.country) == ("ann@example.com", "UK")
    assert (ann.first_name, ann.last_name, ann.city, ann.birth_year, ann.gender) == \
        ("", "", "", None, "")


def test_by_default_an_import_keeps_every_field():
    import_bytes(ORDERS)

    ann = Customer.objects.get()
    assert (ann.first_name, ann.last_name, ann.city, ann.birth_year, ann.gender) == \
        ("Ann", "Lee", "Leeds", 1980, "female")


def test_only_allowed_event_properties_are_kept(settings):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    api_events_store(events=[{"customer": "ann@example.com", "type": "page_view", "time": when,
                              "properties": {"path": "/tea", "email": "ann@example.com",
                                             "ip": "203.0.113.9"}}])
    settings.EVENT_PROPERTIES_ALLOWED = ["*"]
    api_events_store(events=[{"customer": "ann@example.com", "type": "search", "time": when,
                              "properties": {"q": "green tea"}}])

    kept = dict(Event.objects.values_list("type", "properties"))
    assert kept == {"page_view": {"path": "/tea"}, "search": {"q": "green tea"}}


def test_uploads_older_than_the_limit_are_deleted_and_their_reports_stay(settings):
    settings.UPLOADS_KEEP_DAYS = 30
    old, recent = import_bytes(ORDERS), import_bytes(ORDERS, name="recent.csv")
    ImportJob.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=31))
    ImportJob.objects.filter(pk=recent.pk).update(created_at=NOW - timedelta(days=29))
    old_file = Path(old.stored_path)

    deleted = uploads_purge(now=NOW, actor=BEAT)

    assert deleted == 1 and not old_file.exists() and Path(recent.stored_path).exists()
    old.refresh_from_db()
    assert old.stored_path == "" and old.orders_created == 1 and old.status == JobStatus.SUCCEEDED
    entry = AuditEntry.objects.get(action=AuditAction.UPLOADS_PURGED)
    assert (entry.actor, entry.details) == (SCHEDULED, {"files": 1})
    assert uploads_purge(now=NOW, actor=BEAT) == 0  # twice: nothing more, no second entry
    assert AuditEntry.objects.filter(action=AuditAction.UPLOADS_PURGED).count() == 1


def test_events_older_than_the_limit_are_purged(settings):
    settings.EVENTS_KEEP_MONTHS = 24
    customer = Customer.objects.create(key="ann@example.com", email="ann@example.com")
    for when in (NOW - timedelta(days=800), NOW - timedelta(days=700), NOW - timedelta(days=30)):
        event_record(customer_id=customer.pk, type="page_view", occurred_at=when)

    deleted = events_purge(now=NOW, actor=BEAT)

    assert deleted == 1
    assert Event.objects.count() == 2
    assert AuditEntry.objects.get(action=AuditAction.EVENTS_PURGED).details == {"events": 1}


def test_the_purges_run_nightly_from_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["purge-old-data"]["task"] == "ingest.tasks.purge_old_data_task"
