"""Reading a behaviour-events CSV: customer, type, time, and properties.

Properties come from a JSON-object column, from any extra columns, or both
(extra columns win no ties: the JSON value is kept).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import pandas as pd

from ingest.pipeline.errors import HEADER_ONLY, FileRejected, RowError, gettext_noop
from ingest.pipeline.headers import normalise_header
from ingest.pipeline.parsing import clean_text, parse_datetime, parse_email
from ingest.pipeline.rows import Rejection, build_frame
from ingest.pipeline.table import DEFAULT_OPTIONS, BrokenRecord, ReadOptions, open_table

EVENT_COLUMN_KINDS: dict[str, str] = {
    "line_no": "int",
    "customer_key": "text",
    "customer_email": "text",
    "shop_customer_id": "text",
    "event_type": "text",
    "occurred_at": "datetime",
    "properties": "object",
}
MAX_PROPERTIES_CHARS = 64 * 1024

_ROLES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer",
        "customeremail",
        "email",
        "customerid",
        "user",
        "userid",
        "client",
        "kunde",
        "客户",
        "邮箱",
    ),
    "type": ("type", "eventtype", "event", "eventname", "action", "name", "类型", "事件"),
    "time": ("time", "timestamp", "occurredat", "createdat", "datetime", "date", "时间", "日期"),
    "properties": ("properties", "props", "data", "attributes", "metadata", "payload", "属性"),
}


# The columns an events file must have, named in its refusal (words the page translates).
_NEEDED_ROLES = (gettext_noop("customer"), gettext_noop("type"), gettext_noop("time"))


@dataclass(frozen=True, kw_only=True, slots=True)
class EventChunk:
    """A batch of clean events (`frame`, columns as in `EVENT_COLUMN_KINDS`)."""

    index: int
    frame: pd.DataFrame
    rejections: tuple[Rejection, ...]
    notes: Counter[str]


def _find_roles(headers: Sequence[str]) -> dict[str, int]:
    keys = [normalise_header(h) for h in headers]
    roles: dict[str, int] = {}
    for role, candidates in _ROLES.items():
        for candidate in candidates:
            if candidate in keys and keys.index(candidate) not in roles.values():
                roles[role] = keys.index(candidate)
                break
    return roles


def read_events(
    stream: BinaryIO, options: ReadOptions = DEFAULT_OPTIONS, *, chunk_rows: int = 50_000
) -> Iterator[EventChunk]:
    """Yield `EventChunk`s; customer cells with an "@" are emails, anything else a shop customer id."""
    table = open_table(stream, options)
    headers = table.headers.names
    roles = _find_roles(headers)
    missing = [r for r in _NEEDED_ROLES if r not in roles]
    if missing:
        raise FileRejected(
            gettext_noop("An events file needs columns for the customer, the event type and its "
                         "time; could not find: %(roles)s."),
            roles=missing,
        )
    extra = [i for i in range(len(headers)) if i not in roles.values()]
    rows: list[tuple[Any, ...]] = []
    rejections: list[Rejection] = []
    notes: Counter[str] = Counter()
    index = 0
    count = 0
    seen_any = False
    for record in table.records():
        seen_any = True
        count += 1
        if isinstance(record, BrokenRecord):
            rejections.append(
                Rejection.of(record.line_no, record.error, record.raw)
            )
        else:
            try:
                rows.append(
                    _clean_event(
                        record.fields, record.line_no, roles, extra, headers, options, notes
                    )
                )
            except RowError as exc:
                rejections.append(
                    Rejection.of(record.line_no, exc, dict(zip(headers, record.fields)))
                )
        if count >= chunk_rows:
            yield EventChunk(
                index=index,
                frame=build_frame(rows, EVENT_COLUMN_KINDS),
                rejections=tuple(rejections),
                notes=notes,
            )
            index, count, rows, rejections, notes = index + 1, 0, [], [], Counter()
    if not seen_any:
        raise FileRejected(HEADER_ONLY)
    if count:
        yield EventChunk(
            index=index,
            frame=build_frame(rows, EVENT_COLUMN_KINDS),
            rejections=tuple(rejections),
            notes=notes,
        )


def _clean_event(
    fields: list[str],
    line_no: int,
    roles: dict[str, int],
    extra: list[int],
    headers: Sequence[str],
    options: ReadOptions,
    notes: Counter[str],
) -> tuple[Any, ...]:
    customer = fields[roles["customer"]].strip()
    email: str | None = None
    shop_id: str | None = None
    if "@" in customer:
        parsed_email = parse_email(customer)
        notes.update(parsed_email.notes)
        email = parsed_email.value
    else:
        shop_id = clean_text(customer, label="customer id").value
    if not (email or shop_id):
        raise RowError(gettext_noop("no customer: the customer cell is empty"))
    event_type = clean_text(fields[roles["type"]], label="event type").value
    if not event_type:
        raise RowError(gettext_noop("event type is missing"))
    if len(event_type) > 100:
        raise RowError(gettext_noop("event type is longer than 100 characters"))
    occurred_at = parse_datetime(
        fields[roles["time"]],
        dayfirst=bool(options.dayfirst),
        tz=options.timezone,
        label=gettext_noop("event time"),
    ).value
    if occurred_at is None:
        raise RowError(gettext_noop("event time is missing"))
    properties: dict[str, Any] = {}
    if "properties" in roles:
        text = fields[roles["properties"]].strip()
        if len(text) > MAX_PROPERTIES_CHARS:
            raise RowError(gettext_noop("properties are longer than %(n)s characters"),
                           n=f"{MAX_PROPERTIES_CHARS:,}")
        if text:
            try:
                loaded = json.loads(text, parse_constant=_reject_constant)
            except (ValueError, RecursionError):
                raise RowError(gettext_noop("properties are not valid JSON")) from None
            if not isinstance(loaded, dict):
                raise RowError(gettext_noop('properties must be a JSON object like {"key": "value"}'))
            properties.update(loaded)
    for position in extra:
        value = fields[position].strip()
        if value:
            properties.setdefault(headers[position], value)
    return (
        line_no,
        email or f"id:{shop_id}",
        email,
        shop_id,
        event_type.lower(),
        occurred_at,
        properties,
    )


def _reject_constant(name: str) -> Any:
    # JSON has no NaN/Infinity; Python's json accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")
