"""Loading clean chunks into PostgreSQL: COPY into a staging table, then set-wise upserts.

One transaction per chunk, with the job's checkpoint (`chunks_done`) and report
counters updated in the same transaction, so a worker killed mid-import resumes
at the first uncommitted chunk and ends with exactly the rows of a clean run.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import DatabaseError, connection, transaction

from profiler_site.core.csv_copy import csv_for_copy

STAGING_COLUMNS = (
    "line_no bigint",
    # The row's place in the chunk by (order time, line number): "the latest row"
    # becomes a max() that a hash aggregate finds, instead of a sort of the chunk.
    "recency bigint",
    "customer_key text",
    "customer_email text",
    "shop_customer_id text",
    "first_name text",
    "last_name text",
    "order_key text",
    "ordered_at timestamptz",
    "sku_key text",
    "product_name text",
    "category text",
    "quantity integer",
    "unit_price numeric",
    "line_total numeric",
    "order_total numeric",
    "refunded_amount numeric",
    "is_return boolean",
    "is_cancelled boolean",
    "accepts_marketing boolean",
    "country text",
    "city text",
    "gender text",
    "birth_year integer",
)
STAGING_NAMES = [c.split()[0] for c in STAGING_COLUMNS]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChunkCounts:
    customers_created: int
    customers_updated: int
    orders_created: int
    orders_existing: int
    lines_created: int
    conflicts: list[tuple[int, str]]  # (line_no, reason) rejected by the database checks


# Text trimmed to the column sizes in SQL (`left(...)`), where it is cheaper than in pandas.
TEXT_LIMITS = {"first_name": 150, "last_name": 150, "country": 100, "city": 100, "gender": 30,
               "product_name": 300, "category": 200, "shop_customer_id": 100, "sku_key": 200}


MONEY_COLUMNS = ("unit_price", "line_total", "order_total", "refunded_amount")


@dataclass(frozen=True, slots=True)
class StagingData:
    """One chunk as COPY input: CSV text for the columns that hold any value."""

    columns: tuple[str, ...]
    csv_bytes: bytes


def staging_data(frame: pd.DataFrame) -> StagingData:
    """The chunk in staging-table shape, as CSV. Pure: runs in the reader thread.

    Columns with no value in the chunk are left out of the COPY (they stay NULL):
    most exports fill a handful of the two dozen fields. Timestamps and money go
    to Arrow ready-made (typed times, exact Decimal text), not as Python objects.
    """
    out = {}
    for name in STAGING_NAMES:
        if name in frame.columns:
            out[name] = frame[name]
    ordered_at = (frame["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
                  .to_numpy("datetime64[us]"))
    recency = np.empty(len(frame), dtype=np.int64)
    recency[np.lexsort((frame["line_no"].to_numpy(), ordered_at))] = np.arange(len(frame))
    out["recency"] = pd.Series(recency, index=frame.index)
    first, last = frame["first_name"], frame["last_name"]
    has_full = frame["full_name"].notna() & first.isna()
    if has_full.any():
        parts = frame["full_name"][has_full].astype(object).str.strip().str.split(n=1, expand=True)
        first, last = first.astype(object).copy(), last.astype(object).copy()
        first[has_full] = parts[0]
        last[has_full] = parts[1] if parts.shape[1] > 1 else None
        out["first_name"], out["last_name"] = first, last
    sku = frame["sku"].astype(object)
    no_sku = sku.isna() | (sku == "")
    if no_sku.any():  # a product without a SKU is known by its name
        names = frame["product_name"].astype(object)[no_sku]
        sku = sku.copy()
        sku[no_sku] = ("name:" + names.fillna("").str.strip().str.lower()).where(names.notna())
    out["sku_key"] = sku
    out["ordered_at"] = pa.array(ordered_at, type=pa.timestamp("us", tz="UTC"))
    for name in MONEY_COLUMNS:  # Decimal's own text is exact and cheaper than Arrow's decimals
        if name in out and out[name].notna().any():
            texts = [None if v is None or v is pd.NA or v != v else str(v) for v in out[name]]
            out[name] = pa.array(texts, type=pa.string())
    present = {name: out[name] for name in STAGING_NAMES
               if name in out and (isinstance(out[name], pa.Array) or out[name].notna().any())}
    return StagingData(columns=tuple(present), csv_bytes=csv_for_copy(present))


def _copy_to_staging(cursor, data: StagingData) -> None:
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ingest_staging (%s) ON COMMIT DELETE ROWS"
        % ", ".join(STAGING_COLUMNS)
    )
    # The raw psycopg2 cursor: Django's debug wrapper does not pass `size` on.
    cursor.cursor.copy_expert(
        "COPY ingest_staging (%s) FROM STDIN WITH (FORMAT csv)" % ", ".join(data.columns),
        io.BytesIO(data.csv_bytes),
        # One read: in 8 kB blocks (the default) each block waits for the GIL, which
        # the reader thread holds while it parses the next chunk.
        size=max(len(data.csv_bytes), 1),
    )
    # The text limits, applied once to the chunk rather than in every upsert.
    cursor.execute("UPDATE ingest_staging SET %s WHERE %s" % (
        ", ".join(f"{name} = left({name}, {size})" for name, size in TEXT_LIMITS.items()),
        " OR ".join(f"octet_length({name}) > {size}" for name, size in TEXT_LIMITS.items()),
    ))


CUSTOMER_ATTRIBUTES = ("customer_email, shop_customer_id, first_name, last_name, country, city, "
                       "gender, birth_year, accepts_marketing")

# Each customer's attributes from their latest row in the chunk. Rows of one
# customer mostly repeat the same attributes, so grouping by them first leaves
# a few rows per customer to choose from.
UPSERT_CUSTOMERS = f"""
WITH grouped AS (
    SELECT customer_key, {CUSTOMER_ATTRIBUTES}, max(recency) AS latest
    FROM ingest_staging GROUP BY customer_key, {CUSTOMER_ATTRIBUTES}
), src AS (
    SELECT DISTINCT ON (customer_key) * FROM grouped ORDER BY customer_key, latest DESC
), upserted AS (
INSERT INTO ingest_customer AS c (key, email, shop_customer_id, first_name, last_name, country,
                                  city, gender, birth_year, accepts_marketing, created_at, updated_at)
SELECT customer_key, COALESCE(customer_email, ''), COALESCE(shop_customer_id, ''),
       COALESCE(first_name, ''), COALESCE(last_name, ''), COALESCE(country, ''), COALESCE(city, ''),
       COALESCE(gender, ''), birth_year, accepts_marketing, now(), now()
FROM src
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
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""

UPSERT_PRODUCTS = """
WITH grouped AS (
    SELECT sku_key, product_name, category, max(recency) AS latest
    FROM ingest_staging WHERE sku_key IS NOT NULL GROUP BY sku_key, product_name, category
), src AS (
    SELECT DISTINCT ON (sku_key) * FROM grouped ORDER BY sku_key, latest DESC
)
INSERT INTO ingest_product AS p (sku, name, category)
SELECT sku_key, COALESCE(product_name, ''), COALESCE(category, '') FROM src
ON CONFLICT (sku) DO UPDATE SET
    name = COALESCE(NULLIF(EXCLUDED.name, ''), p.name),
    category = COALESCE(NULLIF(EXCLUDED.category, ''), p.category)
WHERE (p.name, p.category) IS DISTINCT FROM
      (COALESCE(NULLIF(EXCLUDED.name, ''), p.name), COALESCE(NULLIF(EXCLUDED.category, ''), p.category))
"""

# The chunk's orders (new and existing) land in `chunk_orders`, so the lines
# join a chunk-sized table instead of every order the shop has.
UPSERT_ORDERS = """
WITH src AS (
    SELECT order_key,
           -- the reader already rejected rows naming a second customer for one order
           MIN(customer_key) AS customer_key,
           MIN(ordered_at) AS ordered_at,
           bool_or(is_cancelled) AS is_cancelled,
           SUM(CASE WHEN NOT is_return THEN line_total ELSE 0 END) AS gross,
           -SUM(CASE WHEN is_return THEN line_total ELSE 0 END) AS returned,
           COUNT(line_total) AS priced_lines,
           MAX(order_total) AS order_total,
           COALESCE(MAX(refunded_amount), 0) AS refunded
    FROM ingest_staging GROUP BY order_key
), totals AS (
    SELECT src.*, CASE WHEN priced_lines > 0 THEN gross ELSE COALESCE(order_total, 0) END AS gross_total
    FROM src
), owners AS MATERIALIZED (
    -- One index lookup per customer of the chunk, not one per order.
    SELECT c.id, c.key FROM (SELECT DISTINCT customer_key FROM src) k
    JOIN ingest_customer c ON c.key = k.customer_key
), upserted AS (
INSERT INTO ingest_order AS o (order_key, customer_id, ordered_at, is_cancelled, gross_total,
                               returned_total, refunded_total, net_total, import_job_id)
SELECT t.order_key, c.id, t.ordered_at, t.is_cancelled, t.gross_total, COALESCE(t.returned, 0),
       t.refunded,
       CASE WHEN t.is_cancelled THEN 0 ELSE t.gross_total - COALESCE(t.returned, 0) - t.refunded END,
       %(job_id)s
FROM totals t JOIN owners c ON c.key = t.customer_key
-- In key order: shops number orders upwards, so the unique index grows at its
-- right edge (PostgreSQL's fast path) instead of at random leaves.
ORDER BY t.order_key
ON CONFLICT (order_key) DO UPDATE SET is_cancelled = o.is_cancelled OR EXCLUDED.is_cancelled
RETURNING o.id, o.order_key, (xmax = 0) AS inserted
), kept AS (
    INSERT INTO chunk_orders SELECT * FROM upserted RETURNING id, inserted
)
SELECT count(*) FILTER (WHERE inserted), array_agg(id) FILTER (WHERE NOT inserted) FROM kept
"""

# An order id the database already holds for another customer: the row is
# rejected rather than moving the order (the earlier import is trusted).
REJECT_CONFLICTING_OWNERS = """
DELETE FROM ingest_staging s
USING ingest_order o, ingest_customer c
WHERE o.id = ANY(%(ids)s)
  AND o.order_key = s.order_key AND c.key = s.customer_key AND o.customer_id <> c.id
RETURNING s.line_no, s.order_key, s.customer_key
"""

COUNT_EXISTING_ORDERS = """
SELECT count(*) FROM ingest_order WHERE id = ANY(%(ids)s) AND import_job_id IS DISTINCT FROM %(job_id)s
"""

_CHUNK_LINES = """
SELECT o.id, p.id, s.is_return, SUM(s.quantity), MAX(s.unit_price), SUM(s.line_total)
FROM ingest_staging s
JOIN chunk_orders o ON o.order_key = s.order_key AND o.inserted = %(new_orders)s
JOIN ingest_product p ON p.sku = s.sku_key
WHERE s.quantity IS NOT NULL AND s.line_total IS NOT NULL
GROUP BY o.id, p.id, s.is_return
ORDER BY o.id, p.id, s.is_return  -- appends to the (order, product, is_return) index
"""
_LINE_COLUMNS = "(order_id, product_id, is_return, quantity, unit_price, line_total)"

# Lines of orders this chunk created cannot exist yet (the GROUP BY merges repeats
# within the chunk), so they skip the conflict check: a plain insert.
INSERT_NEW_ORDER_LINES = f"INSERT INTO ingest_orderline {_LINE_COLUMNS} {_CHUNK_LINES}"

UPSERT_EXISTING_ORDER_LINES = f"""
WITH upserted AS (
INSERT INTO ingest_orderline AS l {_LINE_COLUMNS} {_CHUNK_LINES}
ON CONFLICT (order_id, product_id, is_return) DO UPDATE SET
    quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price, line_total = EXCLUDED.line_total
WHERE (l.quantity, l.line_total) IS DISTINCT FROM (EXCLUDED.quantity, EXCLUDED.line_total)
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) FROM upserted
"""

# Orders that existed before this chunk (an earlier import, or an order split
# across chunks) get their totals again from all their stored lines.
UPDATE_EXISTING_ORDER_TOTALS = """
WITH touched AS (
    SELECT o.id, MAX(s.order_total) AS order_total, MAX(s.refunded_amount) AS refunded
    FROM ingest_order o JOIN ingest_staging s ON s.order_key = o.order_key
    WHERE o.id = ANY(%(ids)s) GROUP BY o.id
), sums AS (
    SELECT t.id,
           SUM(CASE WHEN NOT l.is_return THEN l.line_total ELSE 0 END) AS gross,
           -SUM(CASE WHEN l.is_return THEN l.line_total ELSE 0 END) AS returned,
           COUNT(l.id) AS lines
    FROM touched t LEFT JOIN ingest_orderline l ON l.order_id = t.id GROUP BY t.id
)
UPDATE ingest_order o SET
    gross_total = CASE WHEN sums.lines > 0 THEN sums.gross ELSE COALESCE(t.order_total, 0) END,
    returned_total = COALESCE(sums.returned, 0),
    refunded_total = COALESCE(t.refunded, o.refunded_total),
    net_total = CASE WHEN o.is_cancelled THEN 0 ELSE
        (CASE WHEN sums.lines > 0 THEN sums.gross ELSE COALESCE(t.order_total, 0) END)
        - COALESCE(sums.returned, 0) - COALESCE(t.refunded, o.refunded_total) END
FROM touched t JOIN sums ON sums.id = t.id
WHERE o.id = t.id
"""


def _roomy_temp_buffers(cursor) -> None:
    """Let a chunk's staging rows (~10 MB) stay in memory instead of spilling to disk.

    PostgreSQL only accepts the setting before the session's first temporary table;
    later (another temp table came first) it refuses, and the default stays.
    """
    cursor.execute("SELECT to_regclass('pg_temp.ingest_staging') IS NULL")
    if not cursor.fetchone()[0]:
        return
    try:
        with transaction.atomic():
            cursor.execute("SET temp_buffers TO '64MB'")
    except DatabaseError:
        pass


def load_chunk(*, data: StagingData, job_id: int) -> ChunkCounts:
    """Upsert one chunk's staging data; must run inside the caller's transaction."""
    with connection.cursor() as cursor:
        # The checkpoint commits with the data, so a commit lost in a crash is
        # simply redone on resume: no need to wait for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Room for the chunk's sorts and hash aggregates in memory, not on disk.
        cursor.execute("SET LOCAL work_mem TO '128MB'")
        _roomy_temp_buffers(cursor)
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS chunk_orders "
            "(id bigint, order_key text, inserted boolean) ON COMMIT DELETE ROWS"
        )
        _copy_to_staging(cursor, data)
        cursor.execute(UPSERT_CUSTOMERS)
        customers_created, customers_updated = cursor.fetchone()
        cursor.execute(UPSERT_PRODUCTS)
        cursor.execute(UPSERT_ORDERS, {"job_id": job_id})
        orders_created, existing_ids = cursor.fetchone()
        existing_ids = existing_ids or []
        conflicts = []
        orders_existing = 0
        if existing_ids:  # only an order that existed before can belong to someone else
            cursor.execute(REJECT_CONFLICTING_OWNERS, {"ids": existing_ids})
            conflicts = [
                (line_no, f"order {order_key!r} was imported earlier for another customer; "
                          f"this row names {customer_key!r}, so it was not imported")
                for line_no, order_key, customer_key in cursor.fetchall()
            ]
            cursor.execute(COUNT_EXISTING_ORDERS, {"job_id": job_id, "ids": existing_ids})
            orders_existing = cursor.fetchone()[0]
        cursor.execute(INSERT_NEW_ORDER_LINES, {"new_orders": True})
        lines_created = cursor.rowcount
        if existing_ids:
            cursor.execute(UPSERT_EXISTING_ORDER_LINES, {"new_orders": False})
            lines_created += cursor.fetchone()[0]
            cursor.execute(UPDATE_EXISTING_ORDER_TOTALS, {"ids": existing_ids})
        cursor.execute("TRUNCATE ingest_staging, chunk_orders")
    return ChunkCounts(
        customers_created=customers_created,
        customers_updated=customers_updated,
        orders_created=orders_created,
        orders_existing=orders_existing,
        lines_created=lines_created,
        conflicts=conflicts,
    )


def raw_as_json(raw) -> dict:
    if isinstance(raw, str):
        return {"text": raw[:10_000]}
    return {str(k)[:200]: (str(v)[:2_000] if v is not None else "") for k, v in dict(raw).items()}


def dumps(value) -> str:
    return json.dumps(value, default=str)
