"""Recording behaviour events (page views, add to cart, email opens and clicks)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from ingest.models import Event


def event_dedupe_key(*, customer_id: int, type: str, occurred_at: datetime, properties: dict) -> str:
    payload = json.dumps(
        [customer_id, type, occurred_at.isoformat(), properties], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class EventInput:
    customer_id: int
    type: str
    occurred_at: datetime
    properties: dict
    source: str = "api"
    dedupe_key: str | None = None


def events_record(*, events: list[EventInput]) -> int:
    """Store events, ignoring ones already stored (same dedupe key). Returns how many are new."""
    rows = [
        Event(
            customer_id=e.customer_id,
            type=e.type[:64],
            occurred_at=e.occurred_at,
            properties=e.properties,
            source=e.source,
            dedupe_key=e.dedupe_key
            or event_dedupe_key(
                customer_id=e.customer_id, type=e.type, occurred_at=e.occurred_at,
                properties=e.properties,
            ),
        )
        for e in events
    ]
    if not rows:
        return 0
    keys = [r.dedupe_key for r in rows]
    with transaction.atomic():
        before = Event.objects.filter(dedupe_key__in=keys).count()
        Event.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        after = Event.objects.filter(dedupe_key__in=keys).count()
    return after - before


def event_record(
    *, customer_id: int, type: str, occurred_at: datetime, properties: dict | None = None,
    source: str = "api", dedupe_key: str | None = None,
) -> bool:
    """Store one event; False when it was already stored."""
    return events_record(events=[EventInput(
        customer_id=customer_id, type=type, occurred_at=occurred_at, properties=properties or {},
        source=source, dedupe_key=dedupe_key,
    )]) == 1
