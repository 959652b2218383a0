"""Undoing one orders import: the database goes back to what it would be without it.

What an import brought is known from the loader's bookkeeping (see loading.py):
orders and customers it created carry its id (`import_job_id`); for orders and
customers that existed before, it kept their values before its first change
(OrderBefore, OrderLineBefore, CustomerBefore). The undo

1. puts back the orders it changed (totals, cancellation, and each line it added
   or changed), and forgets those "before" rows;
2. removes the orders it created, with their lines;
3. puts back the customers it changed; removes the customers it created that no
   order of another import holds;
4. removes products no order line mentions any more;
5. marks the import undone and announces it (`import_undone`), so the analysis
   runs again.

Each step is its own transaction and finds its work in the database again, so a
worker killed mid-undo resumes where it stopped, and an undo run twice changes
nothing the second time.

A later import that changed the same order or customer wins: its values stay,
and the undone import's "before" values pass to it (undoing that one too then
goes back to the values before both). An order the undone import created that a
later import re-imported stays, as that later import's order.

The whole undo holds the import lock (the loader's, per chunk) as a session
lock, so no import chunk commits in between; imports wait for it at their start.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from ingest.models import (
    Customer,
    CustomerBefore,
    ImportJob,
    ImportKind,
    ImportUndo,
    Order,
    OrderLine,
    Product,
)
from ingest.signals import customers_removing, import_undone
from profiler_site.core.jobs import job_enqueue, job_progress
from profiler_site.core.models import ACTIVE_STATUSES, JobStatus

from .loading import IMPORT_LOCK

BATCH = 10_000


class UndoRefused(Exception):
    """The undo cannot run now; `reason` says why in the owner's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refusal(job: ImportJob) -> str | None:
    if job.kind != ImportKind.ORDERS:
        return _("Only order imports can be undone.")
    if job.undone_at is not None:
        return _("This import has already been undone.")
    if job.status == JobStatus.DRAFT:
        return _("This file was never imported; discard it instead.")
    if job.status in ACTIVE_STATUSES:
        return _("This import is still running. Cancel it first, then undo it.")
    if ImportJob.objects.filter(kind=ImportKind.ORDERS, status__in=ACTIVE_STATUSES).exists():
        # Its run keeps customer ids in memory that the undo could remove.
        return _("Another import is running. Undo this one when it has finished.")
    return None


def import_undo_start(*, job: ImportJob, user=None) -> ImportUndo:
    """Queue the undo of `job` (or return the one already queued or running).

    Raises UndoRefused when it cannot be undone, or not now.
    """
    from ingest.tasks import import_undo_task

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        active = ImportUndo.objects.filter(target=job, status__in=ACTIVE_STATUSES).first()
        if active is not None:
            return active
        if (reason := _refusal(job)) is not None:
            raise UndoRefused(reason)
        undo = ImportUndo.objects.create(target=job, created_by=user, status=JobStatus.QUEUED)
        job_enqueue(job=undo, task=import_undo_task)
    return undo


def demo_remove_start(*, user=None) -> ImportUndo | None:
    """Queue the undo of the demo shop's import; None when there is none left to remove."""
    from ingest.selectors import demo_import

    demo = demo_import()
    return None if demo is None else import_undo_start(job=demo, user=user)


def import_undo_run(undo: ImportUndo) -> str:
    """The worker's part: run every step that is left, holding the import lock."""
    with connection.cursor() as cursor:
        # Waits for a chunk that is committing; no import chunk commits until we are done.
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
    try:
        target = ImportJob.objects.get(pk=undo.target_id)
        if target.undone_at is not None:
            return _("This import had already been undone; nothing changed.")
        if (reason := _refusal(target)) is not None:
            raise UndoRefused(reason)
        job_progress(job=undo, total=_work_left(target.pk), processed=0)
        for step in UNDO_STEPS:
            step(undo)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])
    undo.refresh_from_db()
    return _("Undone: %(orders)s orders and %(customers)s customers removed; %(restored)s orders "
             "and %(customers_restored)s customers put back as they were.") % {
        "orders": f"{undo.orders_removed:,}", "customers": f"{undo.customers_removed:,}",
        "restored": f"{undo.orders_restored:,}",
        "customers_restored": f"{undo.customers_restored:,}",
    }


def _work_left(job_id: int) -> int:
    return (Order.objects.filter(import_job_id=job_id).count()
            + Customer.objects.filter(import_job_id=job_id).count())


def _add(undo: ImportUndo, **counts: int) -> None:
    for name, value in counts.items():
        setattr(undo, name, getattr(undo, name) + value)
    undo.save(update_fields=list(counts))


# Per order the undone import touched: the next import (by id) that touched it too.
_NEXT_TOUCH = """
CREATE TEMP TABLE undo_next_touch ON COMMIT DROP AS
SELECT order_id, min(job_id) AS next_job FROM (
    SELECT order_id, job_id FROM ingest_orderbefore WHERE job_id > %(job)s
    UNION ALL
    SELECT order_id, job_id FROM ingest_orderlinebefore WHERE job_id > %(job)s
) later GROUP BY order_id
"""

# Orders the undone import created and a later import re-imported: the later one's now.
_HAND_OVER_CREATED_ORDERS = """
WITH handed AS (
    UPDATE ingest_order o SET import_job_id = n.next_job
    FROM undo_next_touch n WHERE o.id = n.order_id AND o.import_job_id = %(job)s
    RETURNING o.id, n.next_job
), lines AS (
    DELETE FROM ingest_orderlinebefore b USING handed h
    WHERE b.order_id = h.id AND b.job_id = h.next_job
)
DELETE FROM ingest_orderbefore b USING handed h WHERE b.order_id = h.id AND b.job_id = h.next_job
"""

# Orders a later import changed again keep its values; the "before" passes to it.
_HAND_OVER_BEFORE = """
WITH orders AS (
    INSERT INTO ingest_orderbefore (job_id, order_id, is_cancelled, gross_total, returned_total,
                                    refunded_total, net_total, unlisted_quantity,
                                    unlisted_gross, unlisted_returned)
    SELECT n.next_job, b.order_id, b.is_cancelled, b.gross_total, b.returned_total,
           b.refunded_total, b.net_total, b.unlisted_quantity, b.unlisted_gross,
           b.unlisted_returned
    FROM ingest_orderbefore b JOIN undo_next_touch n ON n.order_id = b.order_id
    WHERE b.job_id = %(job)s
    ON CONFLICT (job_id, order_id) DO UPDATE SET
        is_cancelled = EXCLUDED.is_cancelled, gross_total = EXCLUDED.gross_total,
        returned_total = EXCLUDED.returned_total, refunded_total = EXCLUDED.refunded_total,
        net_total = EXCLUDED.net_total, unlisted_quantity = EXCLUDED.unlisted_quantity,
        unlisted_gross = EXCLUDED.unlisted_gross, unlisted_returned = EXCLUDED.unlisted_returned
)
INSERT INTO ingest_orderlinebefore (job_id, order_id, product_id, is_return, quantity,
                                    unit_price, line_total)
SELECT n.next_job, b.order_id, b.product_id, b.is_return, b.quantity, b.unit_price, b.line_total
FROM ingest_orderlinebefore b JOIN undo_next_touch n ON n.order_id = b.order_id
WHERE b.job_id = %(job)s
ON CONFLICT (job_id, order_id, product_id, is_return) DO UPDATE SET
    quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price,
    line_total = EXCLUDED.line_total
"""

_RESTORE_ORDERS = """
UPDATE ingest_order o SET is_cancelled = b.is_cancelled, gross_total = b.gross_total,
    returned_total = b.returned_total, refunded_total = b.refunded_total, net_total = b.net_total,
    unlisted_quantity = b.unlisted_quantity, unlisted_gross = b.unlisted_gross,
    unlisted_returned = b.unlisted_returned
FROM ingest_orderbefore b
WHERE b.job_id = %(job)s AND o.id = b.order_id
  AND NOT EXISTS (SELECT 1 FROM undo_next_touch n WHERE n.order_id = b.order_id)
"""

_REMOVE_ADDED_LINES = """
DELETE FROM ingest_orderline l USING ingest_orderlinebefore b
WHERE b.job_id = %(job)s AND b.quantity IS NULL
  AND l.order_id = b.order_id AND l.product_id = b.product_id AND l.is_return = b.is_return
  AND NOT EXISTS (SELECT 1 FROM undo_next_touch n WHERE n.order_id = b.order_id)
"""

_RESTORE_CHANGED_LINES = """
UPDATE ingest_orderline l SET quantity = b.quantity, unit_price = b.unit_price,
    line_total = b.line_total
FROM ingest_orderlinebefore b
WHERE b.job_id = %(job)s AND b.quantity IS NOT NULL
  AND l.order_id = b.order_id AND l.product_id = b.product_id AND l.is_return = b.is_return
  AND NOT EXISTS (SELECT 1 FROM undo_next_touch n WHERE n.order_id = b.order_id)
"""


def _restore_changed_orders(undo: ImportUndo) -> None:
    job_progress(job=undo, phase=_("Putting back the orders it changed"))
    params = {"job": undo.target_id}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_NEXT_TOUCH, params)
        cursor.execute(_HAND_OVER_CREATED_ORDERS, params)
        cursor.execute(_HAND_OVER_BEFORE, params)
        cursor.execute(_RESTORE_ORDERS, params)
        restored = cursor.rowcount
        cursor.execute(_REMOVE_ADDED_LINES, params)
        cursor.execute(_RESTORE_CHANGED_LINES, params)
        cursor.execute("DELETE FROM ingest_orderlinebefore WHERE job_id = %(job)s", params)
        cursor.execute("DELETE FROM ingest_orderbefore WHERE job_id = %(job)s", params)
        cursor.execute("DROP TABLE undo_next_touch")  # inside an outer transaction too
        _add(undo, orders_restored=restored)


def _in_batches(undo: ImportUndo, model, remove: Callable[[list[int]], None]) -> None:
    """`remove` the rows of `model` the undone import created, a transaction per batch."""
    ids = list(model.objects.filter(import_job_id=undo.target_id).order_by("id")
               .values_list("id", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        with transaction.atomic():
            remove(batch)
        job_progress(job=undo, processed=undo.processed + len(batch))


def _remove_created_orders(undo: ImportUndo) -> None:
    job_progress(job=undo, phase=_("Removing its orders"))

    def remove(batch: list[int]) -> None:
        with connection.cursor() as cursor:
            # Raw deletes: lines have no surrogate key, and nothing else refers to orders.
            cursor.execute("DELETE FROM ingest_orderline WHERE order_id = ANY(%s)", [batch])
            cursor.execute("DELETE FROM ingest_order WHERE id = ANY(%s)", [batch])
            _add(undo, orders_removed=cursor.rowcount)

    _in_batches(undo, Order, remove)


_NEXT_CUSTOMER_TOUCH = """
CREATE TEMP TABLE undo_next_customer ON COMMIT DROP AS
SELECT customer_id, min(job_id) AS next_job FROM ingest_customerbefore
WHERE job_id > %(job)s GROUP BY customer_id
"""

_HAND_OVER_CUSTOMER_BEFORE = """
INSERT INTO ingest_customerbefore (job_id, customer_id, email, shop_customer_id, first_name,
                                   last_name, country, city, gender, birth_year, accepts_marketing)
SELECT n.next_job, b.customer_id, b.email, b.shop_customer_id, b.first_name, b.last_name,
       b.country, b.city, b.gender, b.birth_year, b.accepts_marketing
FROM ingest_customerbefore b JOIN undo_next_customer n ON n.customer_id = b.customer_id
WHERE b.job_id = %(job)s
ON CONFLICT (job_id, customer_id) DO UPDATE SET
    email = EXCLUDED.email, shop_customer_id = EXCLUDED.shop_customer_id,
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    country = EXCLUDED.country, city = EXCLUDED.city, gender = EXCLUDED.gender,
    birth_year = EXCLUDED.birth_year, accepts_marketing = EXCLUDED.accepts_marketing
"""

_RESTORE_CUSTOMERS = """
UPDATE ingest_customer c SET email = b.email, shop_customer_id = b.shop_customer_id,
    first_name = b.first_name, last_name = b.last_name, country = b.country, city = b.city,
    gender = b.gender, birth_year = b.birth_year, accepts_marketing = b.accepts_marketing,
    updated_at = now()
FROM ingest_customerbefore b
WHERE b.job_id = %(job)s AND c.id = b.customer_id
  AND NOT EXISTS (SELECT 1 FROM undo_next_customer n WHERE n.customer_id = b.customer_id)
"""

# Customers it created who still have orders (of a later import): that import's now.
_HAND_OVER_CREATED_CUSTOMERS = """
WITH handed AS (
    UPDATE ingest_customer c SET import_job_id = first.job
    FROM (SELECT o.customer_id, min(o.import_job_id) AS job FROM ingest_order o
          JOIN ingest_customer k ON k.id = o.customer_id AND k.import_job_id = %(job)s
          GROUP BY o.customer_id) first
    WHERE c.id = first.customer_id
    RETURNING c.id, c.import_job_id
)
DELETE FROM ingest_customerbefore b USING handed h
WHERE b.customer_id = h.id AND b.job_id = h.import_job_id
"""


def _restore_changed_customers(undo: ImportUndo) -> None:
    job_progress(job=undo, phase=_("Putting back the customers it changed"))
    params = {"job": undo.target_id}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_NEXT_CUSTOMER_TOUCH, params)
        cursor.execute(_HAND_OVER_CUSTOMER_BEFORE, params)
        cursor.execute(_RESTORE_CUSTOMERS, params)
        restored = cursor.rowcount
        cursor.execute("DELETE FROM ingest_customerbefore WHERE job_id = %(job)s", params)
        cursor.execute(_HAND_OVER_CREATED_CUSTOMERS, params)
        cursor.execute("DROP TABLE undo_next_customer")
        _add(undo, customers_restored=restored)


def _remove_created_customers(undo: ImportUndo) -> None:
    job_progress(job=undo, phase=_("Removing its customers"))

    # After the step above, every customer it created still marked as its own has no order.
    def remove(batch: list[int]) -> None:
        # Listeners act before the rows go (campaigns drops unsent emails to them).
        customers_removing.send(sender=ImportUndo, customer_ids=batch)
        CustomerBefore.objects.filter(customer_id__in=batch).delete()
        # Through the ORM: analysis rows, events and campaign recipients refer to
        # customers, and their own on_delete rules say what happens to them.
        Customer.objects.filter(id__in=batch).delete()
        _add(undo, customers_removed=len(batch))

    _in_batches(undo, Customer, remove)


def _remove_unused_products(undo: ImportUndo) -> None:
    job_progress(job=undo, phase=_("Removing products no order mentions"))
    with transaction.atomic():
        Product.objects.filter(~Exists(OrderLine.objects.filter(product_id=OuterRef("pk")))) \
            .delete()


def _mark_undone(undo: ImportUndo) -> None:
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=undo.target_id, undone_at__isnull=True) \
            .update(undone_at=timezone.now())
        if updated:
            job_id = undo.target_id
            transaction.on_commit(lambda: import_undone.send(sender=ImportJob, job_id=job_id))


UNDO_STEPS: tuple[Callable[[ImportUndo], None], ...] = (
    _restore_changed_orders, _remove_created_orders, _restore_changed_customers,
    _remove_created_customers, _remove_unused_products, _mark_undone,
)
