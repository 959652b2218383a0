"""A customer's data on request: give it to them (one archive), or forget them.

Erasing keeps the shop's history true: the customer row stays as an anonymous
record ("erased:<id>") with its orders and lines, so revenue and order counts do
not move; everything that names or describes the person goes. A keyed hash of
their key stays behind as a tombstone, which every import checks, so an old file
cannot bring them back; other apps forget their part on `customer_erasing`.

Races, and the lock that settles them (`ERASE_LOCK`, a PostgreSQL advisory
lock): each import chunk's transaction and each campaign batch (from taking its
rows to its last SMTP answer) hold it shared; an erasure holds it exclusively
for its transaction. So an erasure waits for the chunk or batch in flight, and
the next one sees its tombstone (imports) or finds the person's outbox rows gone
(sending): no resurrection, and no email to them after the erasure commits.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ingest.models import (
    Customer,
    CustomerBefore,
    ErasedCustomer,
    Event,
    ImportRejection,
    Order,
    OrderLine,
)
from ingest.pipeline.rejects import neutralise_cell
from ingest.signals import customer_archive_requested, customer_erasing
from profiler_site.core.audit import Actor, audit_record
from profiler_site.core.models import AuditAction

# Any fixed number unique to us (the import lock is 0x1F0AD).
ERASE_LOCK = 0x1F0AE
ERASED_PREFIX = "erased:"
_KEY_SALT = "profiler.privacy.customer-key"
_EMAIL_SALT = "profiler.privacy.email"


def customer_key_hash(key: str) -> str:
    """The tombstone of a customer key: HMAC-SHA256 with the site's secret key."""
    return salted_hmac(_KEY_SALT, key, algorithm="sha256").hexdigest()


def email_hash(email: str) -> str:
    """An address as the suppression list keeps it once its owner is erased."""
    return salted_hmac(_EMAIL_SALT, email.strip().lower(), algorithm="sha256").hexdigest()


def erase_lock_shared_in_transaction() -> None:
    """Hold the erase lock shared until the caller's transaction ends (an import chunk)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [ERASE_LOCK])


@contextmanager
def erase_lock_shared() -> Iterator[None]:
    """Hold the erase lock shared across several transactions (a campaign batch)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [ERASE_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [ERASE_LOCK])


def erased_keys_among(keys: Iterable[str]) -> set[str]:
    """The keys that belong to erased customers (compared by keyed hash, exactly)."""
    tombstones = set(ErasedCustomer.objects.values_list("key_hash", flat=True))
    if not tombstones:
        return set()
    return {key for key in set(keys) if customer_key_hash(key) in tombstones}


# --- the archive --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ArchivePart:
    """One file of a customer's archive: a CSV (`header` + lazily read `rows`) or a JSON
    `document`."""

    name: str
    header: Sequence[str] = ()
    rows: Iterable[Sequence] = ()
    document: dict | None = None
    note: str = ""  # one line for the archive's README


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return neutralise_cell(str(value))


def _ingest_parts(customer: Customer) -> list[ArchivePart]:
    pk = customer.pk
    identity = {name: getattr(customer, name) for name in (
        "id", "key", "email", "shop_customer_id", "first_name", "last_name", "country", "city",
        "gender", "birth_year", "accepts_marketing")}
    identity.update(created_at=customer.created_at.isoformat(),
                    updated_at=customer.updated_at.isoformat())
    order_fields = ("order_key", "ordered_at", "is_cancelled", "gross_total", "returned_total",
                    "refunded_total", "net_total")
    line_fields = ("order__order_key", "product__sku", "product__name", "is_return", "quantity",
                   "unit_price", "line_total")
    event_fields = ("type", "occurred_at", "source", "properties")
    return [
        ArchivePart(name="customer.json", document=identity,
                    note="who you are to the shop, and whether you accept marketing email"),
        ArchivePart(name="orders.csv", header=order_fields,
                    rows=Order.objects.filter(customer_id=pk).order_by("ordered_at", "id")
                    .values_list(*order_fields).iterator(chunk_size=2000),
                    note="every order, with its totals net of returns and refunds"),
        ArchivePart(name="order_lines.csv", header=[f.rpartition("__")[2] if f != "order__order_key"
                                                    else "order_key" for f in line_fields],
                    rows=OrderLine.objects.filter(order__customer_id=pk)
                    .order_by("order_id", "product_id", "is_return")
                    .values_list(*line_fields).iterator(chunk_size=2000),
                    note="the products in each order"),
        ArchivePart(name="events.csv", header=event_fields,
                    rows=Event.objects.filter(customer_id=pk).order_by("occurred_at", "id")
                    .values_list(*event_fields).iterator(chunk_size=2000),
                    note="what you did on the website and with the shop's emails"),
    ]


class _Pipe(io.RawIOBase):
    """Where the zip writer puts its bytes until the stream hands them on.

    Not seekable, so `zipfile` writes each member's sizes after its data: nothing
    is held back but what was written since the last hand-over.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


_ROWS_PER_HANDOVER = 1000


def _write_part(archive: zipfile.ZipFile, pipe: _Pipe, part: ArchivePart) -> Iterator[bytes]:
    with archive.open(part.name, "w", force_zip64=True) as member:
        text = io.TextIOWrapper(member, encoding="utf-8", newline="")
        if part.document is not None:
            json.dump(part.document, text, ensure_ascii=False, indent=2, default=str)
        else:
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(part.header)
            for count, row in enumerate(part.rows, start=1):
                writer.writerow([_cell(value) for value in row])
                if count % _ROWS_PER_HANDOVER == 0:
                    text.flush()
                    yield pipe.take()
        text.flush()
        text.detach()  # the member is closed by its own `with`
    yield pipe.take()


def customer_archive_parts(*, customer_id: int) -> list[ArchivePart]:
    customer = Customer.objects.get(pk=customer_id)
    parts = _ingest_parts(customer)
    for _receiver, answer in customer_archive_requested.send(sender=Customer,
                                                             customer_id=customer_id):
        parts.extend(answer or [])
    return parts


def customer_archive_stream(*, customer_id: int, actor: Actor) -> Iterator[bytes]:
    """The customer's data as a zip, streamed: rows are read and compressed as they go,
    so 10,000 orders are never in memory at once. Raises Customer.DoesNotExist at once
    (before the first byte), and records the download in the audit log."""
    parts = customer_archive_parts(customer_id=customer_id)
    audit_record(actor=actor, action=AuditAction.CUSTOMER_EXPORTED, target=f"customer #{customer_id}")
    return _zip_stream(parts)


def _zip_stream(parts: list[ArchivePart]) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        readme = [("Your data as the shop's Profiler holds it, "
                  f"written {timezone.now():%Y-%m-%d %H:%M} UTC."), ""]
        readme += [f"{part.name}: {part.note}" for part in parts]
        archive.writestr("README.txt", "\r\n".join(readme) + "\r\n")
        for part in parts:
            yield from _write_part(archive, pipe, part)
    yield pipe.take()


# --- erasure -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Erasure:
    customer_id: int
    already_erased: bool
    orders_kept: int
    events_cleared: int


def customer_is_erased(customer: Customer) -> bool:
    return customer.key.startswith(ERASED_PREFIX)


def customer_erase(*, customer_id: int, actor: Actor) -> Erasure:
    """Forget the person behind a customer row; their orders stay, anonymous.

    Waits for an import chunk or a campaign batch in flight (see the module's
    docstring), then in one transaction: the tombstone, the other apps' part
    (`customer_erasing`), the row's personal fields, its order keys made from the
    person's key, its events' properties, the rejected rows that name them, the
    details an import's undo kept about them, and the audit entry.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ERASE_LOCK])
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer_is_erased(customer):
            return Erasure(customer_id=customer_id, already_erased=True, orders_kept=0,
                           events_cleared=0)
        old_key = customer.key
        ErasedCustomer.objects.get_or_create(key_hash=customer_key_hash(old_key))
        emails = sorted({e.strip().lower() for e in (customer.email,) if e.strip()})
        customer_erasing.send(sender=Customer, customer_id=customer_id, emails=emails)
        new_key = f"{ERASED_PREFIX}{customer_id}"
        # Orders without a shop order id are keyed "<customer key>@<time>": the key
        # names the person, so it is rewritten; a shop's own order id is kept.
        Order.objects.filter(customer_id=customer_id, order_key__startswith=f"{old_key}@").update(
            order_key=Concat(Value(f"{new_key}@"), Substr("order_key", len(old_key) + 2)))
        orders_kept = Order.objects.filter(customer_id=customer_id).count()
        # The dedupe key is a hash of the properties: it goes with them.
        events_cleared = Event.objects.filter(customer_id=customer_id).update(
            properties={}, dedupe_key=Concat(Value(ERASED_PREFIX), F("id")))
        ImportRejection.objects.filter(pk__in=RawSQL(_REJECTIONS_NAMING, [
            sorted({old_key.lower(), *emails}), [f"%{_like_escaped(e)}%" for e in emails] or [""],
            f"'{old_key}'"])).delete()
        # An import's undo keeps the details it overwrote: they name the person too.
        CustomerBefore.objects.filter(customer_id=customer_id).delete()
        Customer.objects.filter(pk=customer_id).update(
            key=new_key, email="", shop_customer_id="", first_name="", last_name="", city="",
            gender="", birth_year=None, accepts_marketing=False, updated_at=timezone.now())
        audit_record(actor=actor, action=AuditAction.CUSTOMER_ERASED, target=f"customer #{customer_id}",
                     details={"orders_kept": orders_kept, "events_cleared": events_cleared})
    return Erasure(customer_id=customer_id, already_erased=False, orders_kept=orders_kept,
                   events_cleared=events_cleared)


# Rejected rows that name the person: a cell equal to their address or key, an
# unsplittable line containing their address, or a reason quoting their key. Exact
# cells, not substrings, so erasing ann@x.com keeps joann@x.com's rows.
_REJECTIONS_NAMING = """
SELECT id FROM ingest_importrejection
WHERE EXISTS (SELECT 1 FROM jsonb_each_text(raw) AS cell(name, value)
              WHERE lower(btrim(cell.value)) = ANY(%s)
                 OR (cell.name = 'text' AND cell.value ILIKE ANY(%s)))
   OR position(%s in reason) > 0
"""


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def customer_find(identifier: str) -> Customer:
    """A customer by id, email or key (what `manage.py` is given)."""
    identifier = identifier.strip()
    if identifier.isdigit():
        return Customer.objects.get(pk=int(identifier))
    found = Customer.objects.filter(key=identifier).first() or \
        Customer.objects.filter(email__iexact=identifier).order_by("id").first()
    if found is None:
        raise Customer.DoesNotExist(identifier)
    return found
