"""Two secondary indexes set aside while a big import loads, built again at its end.

PostgreSQL's advice for loading much data ("Populating a Database"): an index
built once, by sorting, costs less than the same index updated row by row. Two
indexes of the order tables serve pages only (a product's lines, a customer's
orders), never the import. Updated row by row they cost an import of a million
lines about 1.5 s of database time; built at its end, about 0.6 s.

So an import at least as big as IMPORT_BULK_LINES that brings at least as many
lines as are stored drops them at its start and builds them when it ends, however
it ends. While it runs it holds a session lock; if its worker is killed, the lock
goes with the connection and `restore_indexes` (at each import's start, and every
minute from beat) builds them again. Without them queries are right, only slower.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction

logger = logging.getLogger(__name__)

# Held (session level) by the import that set the indexes aside; any fixed number.
BULK_LOAD_LOCK = 0x1F0AE


@dataclass(frozen=True, slots=True)
class SecondaryIndex:
    name: str  # as the migrations named it
    table: str
    columns: tuple[str, ...]

    def create_sql(self) -> str:
        return f"CREATE INDEX IF NOT EXISTS {self.name} ON {self.table} ({', '.join(self.columns)})"


SET_ASIDE = (
    # OrderLine.product (the product page)
    SecondaryIndex("ingest_orderline_product_id_9625e64c", "ingest_orderline", ("product_id",)),
    # Order.Meta.indexes (a customer's orders, newest first)
    SecondaryIndex("ingest_orde_custome_ac8d4e_idx", "ingest_order", ("customer_id", "ordered_at")),
)


def worth_setting_aside(lines: int) -> bool:
    """Whether an import of `lines` lines should load without the two indexes."""
    if lines < settings.IMPORT_BULK_LINES:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'ingest_orderline'")
        row = cursor.fetchone()
    return lines >= (row[0] if row else 0)


@contextmanager
def indexes_set_aside(enabled: bool, *, before_build: Callable[[], None] | None = None
                      ) -> Iterator[bool]:
    """Drop the indexes for the block (if `enabled` and no one holds them) and build
    them again when it ends, also on an error; `before_build` runs first (a progress
    phase). Yields whether they were dropped."""
    if not enabled or not _take_lock():
        yield False
        return
    try:
        dropped = _drop()
        yield dropped
    finally:
        try:
            _build_missing(before_build)
        except DatabaseError:  # e.g. the connection is gone: the beat task builds them
            logger.exception("the indexes set aside were not built again")
        finally:
            _release_lock()


def restore_indexes() -> list[str]:
    """Build the indexes a killed import left missing; nothing while an import holds
    them aside. Returns the names built."""
    if not _take_lock():
        return []
    try:
        return _build_missing()
    finally:
        _release_lock()


def missing_indexes() -> list[SecondaryIndex]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                       "AND indexname = ANY(%s)", [[index.name for index in SET_ASIDE]])
        present = {name for (name,) in cursor.fetchall()}
    return [index for index in SET_ASIDE if index.name not in present]


def _take_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BULK_LOAD_LOCK])
        return cursor.fetchone()[0]


def _release_lock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BULK_LOAD_LOCK])
    except DatabaseError:  # a session lock ends with its connection anyway
        logger.warning("could not release the bulk-load lock", exc_info=True)


def _drop() -> bool:
    """Drop both, or neither when a page holds its table for more than a moment."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout TO '2s'")
            cursor.execute(f"DROP INDEX IF EXISTS {', '.join(index.name for index in SET_ASIDE)}")
    except OperationalError:
        logger.warning("import loads with its indexes: a reader held the order tables")
        return False
    logger.info("import loads without indexes %s", ", ".join(index.name for index in SET_ASIDE))
    return True


def _build_missing(before: Callable[[], None] | None = None) -> list[str]:
    built = []
    missing = missing_indexes()
    if missing and before is not None:
        before()
    for index in missing:
        with transaction.atomic(), connection.cursor() as cursor:
            # Sorted in memory rather than in temporary files.
            cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
            cursor.execute(index.create_sql())
        built.append(index.name)
    if built:
        logger.info("built indexes %s", ", ".join(built))
    return built
