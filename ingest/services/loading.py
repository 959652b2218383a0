"""Loading clean chunks into PostgreSQL: COPY into staging tables, then set-wise upserts.

The reader thread has already grouped the chunk into customers, products, orders
and lines (`ingest.pipeline.chunk_tables`); each goes to its own temporary
staging table, and the upserts join them into the real tables.

One transaction per chunk, with the job's checkpoint (`chunks_done`) and report
counters updated in the same transaction, so a worker killed mid-import resumes
at the first uncommitted chunk and ends with exactly the rows of a clean run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import DatabaseError, connection, transaction

from ingest.models import ImportRejection
from ingest.pipeline.chunk_tables import chunk_tables, order_totals, refunds_above_goods
from ingest.pipeline.errors import Reason, gettext_noop
from ingest.pipeline.rows import Rejection
from profiler_site.core.csv_copy import copy_csv, csv_for_copy, timestamptz_text

from .fresh_orders import FreshOrders, copy_fresh_orders, fresh_orders, money_text
from .privacy import erase_lock_shared_in_transaction, erased_keys_among
from .run_memory import HashMemory, RunMemory, key_hashes

# Temporary tables, one per kind of row; emptied at each commit. Keys compare in
# byte order, as in the tables they are matched against (see Customer.key).
_KEY = 'text COLLATE "C"'
STAGING_TABLES: dict[str, tuple[str, ...]] = {
    "stage_customers": (
        f"customer_key {_KEY}", "customer_email text", "shop_customer_id text", "first_name text",
        "last_name text", "country text", "city text", "gender text", "birth_year integer",
        "accepts_marketing boolean", "changed boolean",
    ),
    "stage_products": (f"sku_key {_KEY}", "product_name text", "category text"),
    "stage_orders": (
        f"order_key {_KEY}", f"customer_key {_KEY}", "ordered_at timestamptz", "is_cancelled boolean",
        "gross_total numeric", "returned numeric", "order_total numeric", "refunded numeric",
        "net_total numeric", "unlisted_quantity bigint", "unlisted_gross numeric",
        "unlisted_returned numeric",
    ),
    "stage_lines": (
        f"order_key {_KEY}", f"sku_key {_KEY}", "is_return boolean", "quantity bigint",
        "unit_price numeric", "line_total numeric",
    ),
    # Orders that existed before the chunk, merged and totalled (`_total_merged_orders`).
    "merged_orders": (
        "id bigint", "is_cancelled boolean", "refunded_total numeric", "unlisted_quantity bigint",
        "unlisted_gross numeric", "unlisted_returned numeric", "gross_total numeric",
        "returned_total numeric", "net_total numeric",
    ),
}
# Columns every staging row has a value in (the keys, and the customers' "changed"
# flag), so they are always copied.
_ALWAYS_COPIED = {"customer_key", "sku_key", "order_key", "changed"}


@dataclass(frozen=True, kw_only=True, slots=True)
class ChunkCounts:
    customers_created: int
    customers_updated: int
    orders_created: int
    orders_existing: int
    lines_created: int
    conflicts: list[Rejection]  # rows rejected by the database checks
    erased_rows: int = 0  # rows of erased customers, skipped (see `_drop_erased`)
    # The shop's revenue after the chunk less before it: its new orders' net totals, and
    # what merging changed in the orders it shares with the database. Exact whatever
    # else runs, since it is read inside the chunk's transaction, under the import lock.
    revenue_change: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class StagingCopy:
    """One staging table's COPY input: CSV for the columns that hold any value."""

    table: str
    columns: tuple[str, ...]
    csv_bytes: bytes


@dataclass(frozen=True, slots=True)
class StagingData:
    copies: tuple[StagingCopy, ...]
    order_rows: pd.DataFrame  # order_key, customer_key, line_no of every row of the chunk
    # Orders new to the run, to copy straight into their tables (see `fresh_orders`);
    # `fresh_copies` stages them (and the customers not staged yet) when that fails.
    fresh: FreshOrders | None = None
    fresh_tables: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None

    def fresh_copies(self) -> tuple[StagingCopy, ...]:
        customers, orders, lines = self.fresh_tables
        return (_staging_copy("stage_customers", customers), _staging_copy("stage_orders", orders),
                _staging_copy("stage_lines", lines))


def staging_data(frame: pd.DataFrame, *, memory: RunMemory) -> StagingData:
    """The chunk as COPY input for the staging tables, and its orders new to the run
    as input for `copy_fresh_orders`. Pure but for `memory`: runs in the reader thread.

    Columns with no value in the chunk are left out of the COPY (they stay NULL):
    most exports fill a handful of the fields. Timestamps and money go to Arrow
    ready-made (typed times, exact Decimal text), not as Python objects.
    """
    tables = chunk_tables(frame)
    customers = _mark_changed_customers(tables.customers, memory.customers)
    orders, lines = tables.orders, tables.lines
    fresh = _new_to_run(orders["order_key"], memory)
    if fresh.any():
        line_orders = tables.line_orders
        fresh_lines = fresh[line_orders]
        # Staged anyway: customers to upsert, and the owners of the staged orders.
        staged = customers["changed"].to_numpy(dtype=bool)
        if not fresh.all():
            owners = set(orders["customer_key"].to_numpy(dtype=object)[~fresh].tolist())
            staged = staged | np.fromiter(
                (key in owners for key in customers["customer_key"].to_numpy(dtype=object)),
                dtype=bool, count=len(customers))
        # Rows of the fresh orders, renumbered among themselves.
        renumbered = np.cumsum(fresh) - 1
        fresh_orders_data = fresh_orders(orders[fresh], lines[fresh_lines],
                                         renumbered[line_orders[fresh_lines]])
        fresh_tables = (customers[~staged], orders[fresh], lines[fresh_lines])
        customers, orders, lines = customers[staged], orders[~fresh], lines[~fresh_lines]
    else:
        fresh_orders_data = fresh_tables = None
    staged_tables = {"stage_customers": customers, "stage_products": tables.products,
                     "stage_orders": orders, "stage_lines": lines}
    return StagingData(
        copies=tuple(_staging_copy(table, rows) for table, rows in staged_tables.items()),
        order_rows=tables.order_rows, fresh=fresh_orders_data, fresh_tables=fresh_tables,
    )


def _new_to_run(order_keys: pd.Series, memory: RunMemory) -> np.ndarray:
    """Which orders no earlier chunk of this run staged (all False while the loader is
    not copying fresh orders). Every key is remembered."""
    hashes = key_hashes(order_keys)
    as_ints = hashes.tolist()
    # Set operations in C: most chunks repeat one order or none (one straddling their start).
    repeated = memory.orders.intersection(as_ints)
    memory.orders.update(as_ints)
    fresh = np.ones(len(hashes), dtype=bool)
    if repeated:
        fresh &= ~np.isin(hashes, np.fromiter(repeated, dtype=np.uint64, count=len(repeated)))
    if not memory.copy_fresh:
        fresh[:] = False
    return fresh


def _mark_changed_customers(customers: pd.DataFrame, seen: HashMemory | None) -> pd.DataFrame:
    """Flag the customers whose details differ from what an earlier chunk of this import staged.

    A regular shows up in most chunks with the same details; upserting them again
    is a conflict check and a comparison per row for nothing. They still go to the
    staging table, where their orders find them, but only flagged rows are upserted.
    Rows are compared by a 64-bit hash of their values. The memory lives as long
    as one run of the import: a resumed import starts empty and upserts everyone.
    """
    if seen is None:
        return customers.assign(changed=True)
    keys = key_hashes(customers["customer_key"])
    return customers.assign(changed=seen.changed(keys, _detail_hashes(customers, keys)))


# Near-unique per customer: hashed as they are, not factorized first (which only pays
# off for repetitive columns such as country or city).
_DISTINCT_PER_CUSTOMER = {"customer_email"}


def _detail_hashes(customers: pd.DataFrame, keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each customer row; `keys` are its key column's hashes."""
    columns = {"customer_key": keys}
    for name in customers.columns.drop("customer_key"):
        values = customers[name]
        if values.dtype == object:
            columns[name] = pd.util.hash_array(values.to_numpy(),
                                               categorize=name not in _DISTINCT_PER_CUSTOMER)
        else:
            columns[name] = pd.util.hash_pandas_object(values, index=False).to_numpy()
    # The row's hash of its columns' hashes (integers: a cheap pass).
    return pd.util.hash_pandas_object(pd.DataFrame(columns), index=False).to_numpy()


def _staging_copy(table: str, rows: pd.DataFrame) -> StagingCopy:
    present = {}
    for definition in STAGING_TABLES[table]:
        name, kind = definition.split(maxsplit=1)
        values = rows[name]
        if name not in _ALWAYS_COPIED and not values.notna().any():
            continue
        if kind == "timestamptz":
            values = timestamptz_text(values)
        elif kind == "numeric":
            values = money_text(values.to_numpy(dtype=object))
        present[name] = values
    return StagingCopy(table=table, columns=tuple(present), csv_bytes=csv_for_copy(present))


def _create_staging_tables(cursor) -> None:
    for table, columns in STAGING_TABLES.items():
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} ({', '.join(columns)}) ON COMMIT DELETE ROWS"
        )


def _copy_to_staging(cursor, copies: tuple[StagingCopy, ...]) -> None:
    for copy in copies:
        if copy.csv_bytes:
            copy_csv(cursor, copy.table, copy.columns, copy.csv_bytes)


UPSERT_CUSTOMERS = """
WITH upserted AS (
INSERT INTO ingest_customer AS c (key, email, shop_customer_id, first_name, last_name, country,
                                  city, gender, birth_year, accepts_marketing, created_at, updated_at,
                                  import_job_id)
SELECT customer_key, COALESCE(customer_email, ''), COALESCE(shop_customer_id, ''),
       COALESCE(first_name, ''), COALESCE(last_name, ''), COALESCE(country, ''), COALESCE(city, ''),
       COALESCE(gender, ''), birth_year, accepts_marketing, now(), now(), %(job_id)s
FROM stage_customers
WHERE changed
ON CONFLICT (key) DO UPDATE SET
    email = COALESCE(NULLIF(EXCLUDED.email, ''), c.email),
    shop_customer_id = COALESCE(NULLIF(EXCLUDED.shop_customer_id, ''), c.shop_customer_id),
    first_name = COALESCE(NULLIF(EXCLUDED.first_name, ''), c.first_name),
    last_name = COALESCE(NULLIF(EXCLUDED.last_name, ''), c.last_name),
    country = COALESCE(NULLIF(EXCLUDED.country, ''), c.country),
    city = COALESCE(NULLIF(EXCLUDED.city, ''), c.city),
    gender = COALESCE(NULLIF(EXCLUDED.gender, ''), c.gender),
    birth_year = COALESCE(EXCLUDED.birth_year, c.birth_year),
    accepts_marketing = COALESCE(EXCLUDED.accepts_marketing, c.accepts_marketing),
    updated_at = now()
WHERE (c.email, c.shop_customer_id, c.first_name, c.last_name, c.country, c.city, c.gender,
       c.birth_year, c.accepts_marketing)
   IS DISTINCT FROM
      (COALESCE(NULLIF(EXCLUDED.email, ''), c.email),
       COALESCE(NULLIF(EXCLUDED.shop_customer_id, ''), c.shop_customer_id),
       COALESCE(NULLIF(EXCLUDED.first_name, ''), c.first_name),
       COALESCE(NULLIF(EXCLUDED.last_name, ''), c.last_name),
       COALESCE(NULLIF(EXCLUDED.country, ''), c.country),
       COALESCE(NULLIF(EXCLUDED.city, ''), c.city),
       COALESCE(NULLIF(EXCLUDED.gender, ''), c.gender),
       COALESCE(EXCLUDED.birth_year, c.birth_year),
       COALESCE(EXCLUDED.accepts_marketing, c.accepts_marketing))
RETURNING c.key, c.id, (xmax = 0) AS inserted
), kept_before AS (
    -- For the import's undo: the details of the customers it changed, as they were.
    -- Same statement, same snapshot: `c` is still the row before the update. Only
    -- changed rows come back from the upsert, so an import that changes nobody
    -- (every first import) writes nothing here.
    INSERT INTO ingest_customerbefore (job_id, customer_id, email, shop_customer_id, first_name,
                                       last_name, country, city, gender, birth_year,
                                       accepts_marketing)
    SELECT %(job_id)s, c.id, c.email, c.shop_customer_id, c.first_name, c.last_name, c.country,
           c.city, c.gender, c.birth_year, c.accepts_marketing
    FROM upserted u JOIN ingest_customer c ON c.id = u.id
    WHERE NOT u.inserted AND c.import_job_id IS DISTINCT FROM %(job_id)s
    ON CONFLICT DO NOTHING  -- the first change of this import has the value before it
)
SELECT key, id, inserted FROM upserted
"""

UPSERT_PRODUCTS = """
INSERT INTO ingest_product AS p (sku, name, category)
SELECT sku_key, COALESCE(product_name, ''), COALESCE(category, '') FROM stage_products
ON CONFLICT (sku) DO UPDATE SET
    name = COALESCE(NULLIF(EXCLUDED.name, ''), p.name),
    category = COALESCE(NULLIF(EXCLUDED.category, ''), p.category)
WHERE (p.name, p.category) IS DISTINCT FROM
      (COALESCE(NULLIF(EXCLUDED.name, ''), p.name), COALESCE(NULLIF(EXCLUDED.category, ''), p.category))
"""

# Which of the chunk's orders the shop already has, and ids for the new ones, in
# `chunk_orders`; the lines then join a chunk-sized table instead of every order.
# New orders get their ids in key order: shops number orders upwards, so both the
# primary key and the order-key index grow at their right edge (PostgreSQL's fast
# path) instead of at random leaves. A plain insert then needs no conflict check:
# the chunk holds the import lock, so no other writer adds an order in between.
CLAIM_ORDER_IDS = """
INSERT INTO chunk_orders (id, order_key, inserted)
SELECT COALESCE(o.id, nextval(%(sequence)s::regclass)), s.order_key, o.id IS NULL
FROM stage_orders s LEFT JOIN ingest_order o ON o.order_key = s.order_key
ORDER BY s.order_key
"""

INSERT_NEW_ORDERS = """
WITH owners AS MATERIALIZED (
    -- One index lookup per customer of the chunk, not one per order.
    SELECT c.id, c.key FROM stage_customers k JOIN ingest_customer c ON c.key = k.customer_key
)
INSERT INTO ingest_order (id, order_key, customer_id, ordered_at, is_cancelled, gross_total,
                          returned_total, refunded_total, net_total, unlisted_quantity,
                          unlisted_gross, unlisted_returned, import_job_id, last_import_id)
SELECT k.id, t.order_key, c.id, t.ordered_at, t.is_cancelled, t.gross_total,
       COALESCE(t.returned, 0), COALESCE(t.refunded, 0), t.net_total, t.unlisted_quantity,
       t.unlisted_gross, t.unlisted_returned, %(job_id)s, %(job_id)s
FROM chunk_orders k JOIN stage_orders t ON t.order_key = k.order_key
JOIN owners c ON c.key = t.customer_key
WHERE k.inserted
ORDER BY k.id
"""

# For the import's undo: the totals of the orders it re-imports (orders an earlier
# import created) as they were, noted in a temporary table (no WAL) before the chunk
# changes them; kept (`KEEP_CHANGED_ORDERS_BEFORE`) only where the totals changed, so
# re-importing an unchanged file writes nothing. The first change an import makes is
# the one kept: earlier chunks left the order as it was, or recorded it.
NOTE_ORDERS_BEFORE = """
INSERT INTO chunk_orders_before
SELECT o.id, o.is_cancelled, o.gross_total, o.returned_total, o.refunded_total, o.net_total,
       o.unlisted_quantity, o.unlisted_gross, o.unlisted_returned
FROM ingest_order o
WHERE o.id = ANY(%(ids)s) AND o.import_job_id IS DISTINCT FROM %(job_id)s
"""

KEEP_CHANGED_ORDERS_BEFORE = """
INSERT INTO ingest_orderbefore (job_id, order_id, is_cancelled, gross_total, returned_total,
                                refunded_total, net_total, unlisted_quantity, unlisted_gross,
                                unlisted_returned)
SELECT %(job_id)s, b.id, b.is_cancelled, b.gross_total, b.returned_total, b.refunded_total,
       b.net_total, b.unlisted_quantity, b.unlisted_gross, b.unlisted_returned
FROM chunk_orders_before b JOIN ingest_order o ON o.id = b.id
WHERE (o.is_cancelled, o.gross_total, o.returned_total, o.refunded_total, o.net_total,
       o.unlisted_quantity, o.unlisted_gross, o.unlisted_returned)
      IS DISTINCT FROM
      (b.is_cancelled, b.gross_total, b.returned_total, b.refunded_total, b.net_total,
       b.unlisted_quantity, b.unlisted_gross, b.unlisted_returned)
ON CONFLICT DO NOTHING
"""

# An order id the database already holds for another customer: the order's rows
# are refused rather than moving the order (the earlier import is trusted).
REJECT_CONFLICTING_OWNERS = """
WITH refused AS (
    DELETE FROM stage_orders s
    USING ingest_order o, ingest_customer c
    WHERE o.id = ANY(%(ids)s)
      AND o.order_key = s.order_key AND c.key = s.customer_key AND o.customer_id <> c.id
    RETURNING s.order_key
), dropped_lines AS (
    DELETE FROM stage_lines l USING refused r WHERE l.order_key = r.order_key
)
SELECT order_key FROM refused
"""

# Orders of an earlier import this import had not touched yet: each counts once,
# however many chunks (or a resumed run) it straddles.
COUNT_EXISTING_ORDERS = """
SELECT count(*) FROM ingest_order WHERE id = ANY(%(ids)s) AND last_import_id IS DISTINCT FROM %(job_id)s
"""

_CHUNK_LINES = """
SELECT o.id, p.id, s.is_return, s.quantity, s.unit_price, s.line_total, %(job_id)s
FROM stage_lines s
JOIN chunk_orders o ON o.order_key = s.order_key AND o.inserted = %(new_orders)s
JOIN ingest_product p ON p.sku = s.sku_key
ORDER BY o.id, p.id, s.is_return  -- appends to the (order, product, is_return) index
"""
_LINE_COLUMNS = "(order_id, product_id, is_return, quantity, unit_price, line_total, last_import_id)"

# Lines of orders this chunk created cannot exist yet (the reader merged repeats
# within the chunk), so they skip the conflict check: a plain insert.
INSERT_NEW_ORDER_LINES = f"INSERT INTO ingest_orderline {_LINE_COLUMNS} {_CHUNK_LINES}"

# A line this import wrote before (the same product in another chunk's rows of the
# order) adds up; a line of an earlier import is replaced: importing the same rows
# again changes nothing. Written either way, so the line is this import's from now.
UPSERT_EXISTING_ORDER_LINES = f"""
WITH upserted AS (
INSERT INTO ingest_orderline AS l {_LINE_COLUMNS} {_CHUNK_LINES}
ON CONFLICT (order_id, product_id, is_return) DO UPDATE SET
    quantity = EXCLUDED.quantity
        + CASE WHEN l.last_import_id = EXCLUDED.last_import_id THEN l.quantity ELSE 0 END,
    unit_price = CASE WHEN l.last_import_id = EXCLUDED.last_import_id
                      THEN GREATEST(l.unit_price, EXCLUDED.unit_price) ELSE EXCLUDED.unit_price END,
    -- An unpriced part (null) adds nothing; a line with no priced part stays null.
    line_total = CASE WHEN l.last_import_id = EXCLUDED.last_import_id AND l.line_total IS NOT NULL
                      THEN l.line_total + COALESCE(EXCLUDED.line_total, 0)
                      ELSE EXCLUDED.line_total END,
    last_import_id = EXCLUDED.last_import_id
RETURNING l.order_id, l.product_id, l.is_return, l.quantity, l.line_total, (xmax = 0) AS inserted
), kept_before AS (
    -- For the import's undo: each line it added (quantity null) or changed (the values
    -- before, read in the statement's snapshot) in an order an earlier import created;
    -- a line re-imported with the same values is not noted.
    INSERT INTO ingest_orderlinebefore (job_id, order_id, product_id, is_return, quantity,
                                        unit_price, line_total)
    SELECT %(job_id)s, u.order_id, u.product_id, u.is_return, b.quantity, b.unit_price,
           b.line_total
    FROM upserted u
    JOIN ingest_order o ON o.id = u.order_id AND o.import_job_id IS DISTINCT FROM %(job_id)s
    LEFT JOIN ingest_orderline b ON NOT u.inserted AND b.order_id = u.order_id
         AND b.product_id = u.product_id AND b.is_return = u.is_return
    WHERE u.inserted OR (b.quantity, b.line_total) IS DISTINCT FROM (u.quantity, u.line_total)
    ON CONFLICT DO NOTHING
)
SELECT count(*) FILTER (WHERE inserted) FROM upserted
"""

# The order-level parts of orders that existed before this chunk, merged by the same
# rule as their lines (this import's parts add up, an earlier import's are replaced),
# and what `order_totals` needs to total them again: their lines' sums, and the order
# total they were given (kept as the gross of an order whose rows have no amount).
# Read here and written once with the totals (`SET_MERGED_ORDERS`): every merged order
# is rewritten anyway, to record that this import wrote it.
MERGED_ORDER_PARTS = """
WITH old AS (
    SELECT o.id, o.gross_total, o.last_import_id = %(job_id)s AS ours, o.is_cancelled,
           o.refunded_total, o.unlisted_quantity, o.unlisted_gross, o.unlisted_returned,
           s.order_total, s.is_cancelled AS cancels, s.refunded,
           s.unlisted_quantity AS quantity, s.unlisted_gross AS gross, s.unlisted_returned AS returned
    FROM ingest_order o JOIN stage_orders s ON s.order_key = o.order_key
    WHERE o.id = ANY(%(ids)s)
), lines AS (
    SELECT l.order_id,
           SUM(l.line_total) FILTER (WHERE NOT l.is_return) AS gross,
           -SUM(l.line_total) FILTER (WHERE l.is_return) AS returned
    FROM ingest_orderline l WHERE l.order_id = ANY(%(ids)s) GROUP BY l.order_id
)
SELECT old.id,
       old.is_cancelled OR old.cancels,
       CASE WHEN old.refunded IS NULL THEN old.refunded_total
            WHEN old.ours THEN GREATEST(old.refunded_total, old.refunded)
            ELSE old.refunded END,
       CASE WHEN old.quantity IS NULL THEN old.unlisted_quantity
            WHEN old.ours THEN COALESCE(old.unlisted_quantity, 0) + old.quantity
            ELSE old.quantity END,
       CASE WHEN old.quantity IS NULL THEN old.unlisted_gross
            WHEN old.ours AND old.unlisted_gross IS NOT NULL
            THEN old.unlisted_gross + COALESCE(old.gross, 0)
            ELSE old.gross END,
       CASE WHEN old.quantity IS NULL THEN old.unlisted_returned
            WHEN old.ours AND old.unlisted_returned IS NOT NULL
            THEN old.unlisted_returned + COALESCE(old.returned, 0)
            ELSE old.returned END,
       lines.gross, lines.returned,
       CASE WHEN old.ours THEN GREATEST(old.gross_total, old.order_total)
            ELSE COALESCE(old.order_total, old.gross_total) END
FROM old LEFT JOIN lines ON lines.order_id = old.id
"""

SET_MERGED_ORDERS = """
UPDATE ingest_order o SET
    is_cancelled = t.is_cancelled, refunded_total = t.refunded_total,
    unlisted_quantity = t.unlisted_quantity, unlisted_gross = t.unlisted_gross,
    unlisted_returned = t.unlisted_returned, gross_total = t.gross_total,
    returned_total = t.returned_total, net_total = t.net_total, last_import_id = %(job_id)s
FROM merged_orders t
WHERE o.id = t.id
"""


def _total_merged_orders(cursor, *, job_id: int, ids: list[int]) -> None:
    """Merge the chunk's orders that existed before it with their stored parts and total
    them again with `order_totals`, as their first chunk was."""
    cursor.execute(MERGED_ORDER_PARTS, {"job_id": job_id, "ids": ids})
    rows = cursor.fetchall()
    if not rows:
        return
    (order_ids, cancelled, refunded, unlisted_quantity, unlisted_gross, unlisted_returned,
     lines_gross, lines_returned, order_total) = (np.array(column, dtype=object)
                                                  for column in zip(*rows))
    priced = (lines_gross != None) | (lines_returned != None)  # noqa: E711 (elementwise)
    priced |= (unlisted_gross != None) | (unlisted_returned != None)  # noqa: E711
    gross = np.array([(a or 0) + (b or 0) for a, b in zip(lines_gross, unlisted_gross)], dtype=object)
    returned = np.array([(a or 0) + (b or 0) for a, b in zip(lines_returned, unlisted_returned)],
                        dtype=object)
    gross_total, net_total = order_totals(
        gross=gross, priced=priced, returned=returned, order_total=order_total,
        refunded=refunded, cancelled=cancelled.astype(bool))
    # Copied in, not sent as array parameters: psycopg2 quotes each value into the
    # statement's text, which took seconds for a chunk of a re-imported file.
    merged = {"id": pa.array(order_ids.astype(np.int64)), "is_cancelled": pa.array(cancelled.astype(bool)),
              "refunded_total": money_text(refunded),
              "unlisted_quantity": pa.array(unlisted_quantity.tolist(), type=pa.int64()),
              "unlisted_gross": money_text(unlisted_gross),
              "unlisted_returned": money_text(unlisted_returned),
              "gross_total": money_text(gross_total), "returned_total": money_text(returned),
              "net_total": money_text(net_total)}
    copy_csv(cursor, "merged_orders", tuple(merged), csv_for_copy(merged))
    cursor.execute(SET_MERGED_ORDERS, {"job_id": job_id})


def _roomy_temp_buffers(cursor) -> None:
    """Let a chunk's staging rows stay in memory instead of spilling to disk.

    PostgreSQL only accepts the setting before the session's first temporary table;
    later (another temp table came first) it refuses, and the default stays.
    """
    cursor.execute("SELECT to_regclass('pg_temp.stage_lines') IS NULL")
    if not cursor.fetchone()[0]:
        return
    try:
        with transaction.atomic():
            cursor.execute("SET temp_buffers TO '64MB'")
    except DatabaseError:
        pass


# Taken by each chunk's transaction (see `load_chunk`); any fixed number unique to us.
IMPORT_LOCK = 0x1F0AD


def _order_id_sequence(cursor) -> str:
    cursor.execute("SELECT pg_get_serial_sequence('ingest_order', 'id')")
    return cursor.fetchone()[0]


MAX_REASON_CHARS = 2000


def _refused_lines(order_rows: pd.DataFrame, order_keys: list[str]) -> list[Rejection]:
    refused = order_rows[order_rows["order_key"].isin(order_keys)]
    rejections = []
    for order_key, customer_key, line_no in refused.itertuples(index=False):
        reason = Reason(
            template=gettext_noop("order %(order)s was imported earlier for another customer; "
                                  "this row names %(customer)s, so it was not imported"),
            params={"order": repr(order_key), "customer": repr(customer_key)})
        rejections.append(Rejection(line_no=int(line_no), reason=reason.text, raw={},
                                    template=reason.template, params=reason.params))
    return rejections


def load_chunk(*, data: StagingData, job_id: int, memory: RunMemory) -> ChunkCounts:
    """Load one chunk; must run inside the caller's transaction.

    `memory` (the run's) lets the loader copy orders new to the run straight into
    their tables (`copy_fresh_orders`); everything else goes through staging.
    """
    with connection.cursor() as cursor:
        # The checkpoint commits with the data, so a commit lost in a crash is
        # simply redone on resume: no need to wait for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Room for the chunk's sorts and hash joins in memory, not on disk.
        cursor.execute("SET LOCAL work_mem TO '128MB'")
        _roomy_temp_buffers(cursor)
        _create_staging_tables(cursor)
        _copy_to_staging(cursor, data.copies)
        erased_rows = _drop_erased(cursor, data)
        cursor.execute(UPSERT_CUSTOMERS, {"job_id": job_id})
        upserted = cursor.fetchall()
        if upserted:
            keys, ids, inserted = zip(*upserted)
            memory.customer_ids.put(key_hashes(keys), np.array(ids, dtype=np.int64), keys)
        customers_created = sum(inserted) if upserted else 0
        cursor.execute(UPSERT_PRODUCTS)
        # One chunk at a time across imports: between finding which orders exist and
        # inserting the new ones, no other import may add one of them.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        sequence = _order_id_sequence(cursor)
        fresh_orders = fresh_lines = 0
        fresh_revenue = Decimal(0)
        staged_orders = any(c.table == "stage_orders" and c.csv_bytes for c in data.copies)
        if data.fresh is not None and erased_rows:  # staged above, to be dropped there
            staged_orders = True
        elif data.fresh is not None:
            if memory.copy_fresh and copy_fresh_orders(cursor, data.fresh, job_id=job_id,
                                                       sequence=sequence, memory=memory):
                fresh_orders, fresh_lines = len(data.fresh), len(data.fresh.line_orders)
                fresh_revenue = data.fresh.net_sum
            else:  # one of them is in the database already: staging merges
                _copy_to_staging(cursor, data.fresh_copies())
                staged_orders = True
        counts = _load_staged_orders(cursor, data, job_id=job_id, sequence=sequence) \
            if staged_orders else StagedCounts(0, 0, 0, [], Decimal(0))
        memory.copy_fresh = counts.orders_existing == 0
        cursor.execute(f"TRUNCATE {', '.join(STAGING_TABLES)}")
    return ChunkCounts(
        customers_created=customers_created,
        customers_updated=len(upserted) - customers_created,
        orders_created=fresh_orders + counts.orders_created,
        orders_existing=counts.orders_existing,
        lines_created=fresh_lines + counts.lines_created,
        conflicts=counts.conflicts,
        erased_rows=erased_rows,
        revenue_change=fresh_revenue + counts.revenue_change,
    )


DROP_ERASED = """
DELETE FROM stage_lines l USING stage_orders o
WHERE l.order_key = o.order_key AND o.customer_key = ANY(%(keys)s);
DELETE FROM stage_orders WHERE customer_key = ANY(%(keys)s);
DELETE FROM stage_customers WHERE customer_key = ANY(%(keys)s);
"""


def _drop_erased(cursor, data: StagingData) -> int:
    """Drop the chunk's rows of erased customers from staging; returns how many rows.

    Holds the erase lock shared until the chunk commits, so an erasure either
    committed before (its tombstone is read here) or waits for this chunk and
    then finds the customer it created. Orders the reader meant to copy straight
    in go through staging instead, so they are dropped with the rest.
    """
    erase_lock_shared_in_transaction()
    erased = erased_keys_among(data.order_rows["customer_key"].unique().tolist())
    if not erased:
        return 0
    if data.fresh is not None:
        _copy_to_staging(cursor, data.fresh_copies())
    cursor.execute(DROP_ERASED, {"keys": sorted(erased)})
    return int(data.order_rows["customer_key"].isin(erased).sum())


@dataclass(frozen=True, slots=True)
class StagedCounts:
    orders_created: int
    orders_existing: int
    lines_created: int
    conflicts: list[Rejection]
    revenue_change: Decimal


# The chunk's orders' revenue: before the chunk writes (the orders it shares with the
# database) and after (all of them, new ones included).
CHUNK_ORDERS_REVENUE = """
SELECT COALESCE(sum(o.net_total), 0) FROM chunk_orders k JOIN ingest_order o ON o.id = k.id
WHERE %(all)s OR NOT k.inserted
"""


def _load_staged_orders(cursor, data: StagingData, *, job_id: int, sequence: str) -> StagedCounts:
    """Insert or merge the staged orders and their lines, by key."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS chunk_orders "
        f"(id bigint, order_key {_KEY}, inserted boolean) ON COMMIT DELETE ROWS"
    )
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS chunk_orders_before (id bigint, is_cancelled boolean, "
        "gross_total numeric, returned_total numeric, refunded_total numeric, net_total numeric, "
        "unlisted_quantity bigint, unlisted_gross numeric, unlisted_returned numeric) "
        "ON COMMIT DELETE ROWS"
    )
    # Existing orders are found by their index, not by hashing every order.
    cursor.execute("SET LOCAL enable_hashjoin TO off")
    cursor.execute(CLAIM_ORDER_IDS, {"sequence": sequence})
    cursor.execute("SET LOCAL enable_hashjoin TO on")
    cursor.execute(INSERT_NEW_ORDERS, {"job_id": job_id})
    orders_created = cursor.rowcount
    cursor.execute("SELECT array_agg(id) FILTER (WHERE NOT inserted), "
                   "count(*) FILTER (WHERE inserted) FROM chunk_orders")
    existing_ids, claimed = cursor.fetchone()
    existing_ids = existing_ids or []
    revenue_before = Decimal(0)
    if existing_ids:
        cursor.execute(CHUNK_ORDERS_REVENUE, {"all": False})
        revenue_before = cursor.fetchone()[0]
    if claimed != orders_created:  # every order's customer was upserted just above
        raise RuntimeError(f"{claimed - orders_created} new orders found no customer")
    conflicts = []
    orders_existing = 0
    if existing_ids:  # only an order that existed before can belong to someone else
        cursor.execute(REJECT_CONFLICTING_OWNERS, {"ids": existing_ids})
        conflicts = _refused_lines(data.order_rows, [key for (key,) in cursor.fetchall()])
        cursor.execute(NOTE_ORDERS_BEFORE, {"job_id": job_id, "ids": existing_ids})
        cursor.execute(COUNT_EXISTING_ORDERS, {"job_id": job_id, "ids": existing_ids})
        orders_existing = cursor.fetchone()[0]
    # Lines meet their orders by a hash join. Without statistics on the staging
    # tables the planner expects millions of matches and sorts both sides instead.
    cursor.execute("SET LOCAL enable_mergejoin TO off")
    cursor.execute(INSERT_NEW_ORDER_LINES, {"new_orders": True, "job_id": job_id})
    lines_created = cursor.rowcount
    if existing_ids:
        cursor.execute(UPSERT_EXISTING_ORDER_LINES, {"new_orders": False, "job_id": job_id})
        lines_created += cursor.fetchone()[0]
        _total_merged_orders(cursor, job_id=job_id, ids=existing_ids)
        cursor.execute(KEEP_CHANGED_ORDERS_BEFORE, {"job_id": job_id})
    cursor.execute(CHUNK_ORDERS_REVENUE, {"all": True})
    revenue_after = cursor.fetchone()[0]
    cursor.execute("TRUNCATE chunk_orders, chunk_orders_before")
    return StagedCounts(orders_created, orders_existing, lines_created, conflicts,
                        revenue_after - revenue_before)


def orders_refunded_above_goods(*, job_id: int) -> int:
    """How many of the orders the import wrote last were refunded more than their goods
    (`refunds_above_goods`), counted on their stored totals: once per order however many
    chunks held its rows, and as the order stands after merging with earlier imports."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gross_total, returned_total, refunded_total, is_cancelled "
                       "FROM ingest_order WHERE last_import_id = %s AND refunded_total > 0",
                       [job_id])
        rows = cursor.fetchall()
    if not rows:
        return 0
    gross, returned, refunded, cancelled = (np.array(column, dtype=object) for column in zip(*rows))
    return int(refunds_above_goods(gross=gross, returned=returned, refunded=refunded,
                                   cancelled=cancelled.astype(bool)).sum())


def rejection_row(job_id: int, rejection: Rejection) -> ImportRejection:
    """A refused row as stored: its English reason and that reason as data.

    A reason too long to keep whole is cut and kept as text only: its values must not
    hold more than the stored sentence, which an erasure searches for the person.
    """
    whole = len(rejection.reason) <= MAX_REASON_CHARS
    return ImportRejection(job_id=job_id, line_no=rejection.line_no,
                           reason=rejection.reason[:MAX_REASON_CHARS],
                           reason_template=rejection.template if whole else "",
                           reason_params=dict(rejection.params) if whole else {},
                           raw=raw_as_json(rejection.raw))


def raw_as_json(raw) -> dict:
    if isinstance(raw, str):
        return {"text": raw[:10_000]}
    return {str(k)[:200]: (str(v)[:2_000] if v is not None else "") for k, v in dict(raw).items()}


def dumps(value) -> str:
    return json.dumps(value, default=str)
