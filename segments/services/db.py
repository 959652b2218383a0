"""Reading the shop's data out of PostgreSQL fast: aggregation in SQL, transfer by COPY."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import pandas as pd
from django.db import connection
from django.utils import timezone

from profiler_site.core.csv_copy import frame_csv_for_copy
from segments.analysis.features import ALL_COLUMNS

# Aggregates the same numbers as segments.analysis.features.customer_features, in
# one GROUP BY over ingest_order. Cancelled orders are not purchases, so both this
# and orders_frame leave them out.
FEATURES_SQL = """
SELECT customer_id,
       EXTRACT(EPOCH FROM %(as_of)s::timestamptz - last_at) / 86400.0 AS recency_days,
       frequency,
       monetary::float8 AS monetary,
       (monetary / GREATEST(frequency, 1))::float8 AS avg_order_value,
       EXTRACT(EPOCH FROM %(as_of)s::timestamptz - first_at) / 86400.0 AS tenure_days,
       CASE WHEN frequency > 1
            THEN EXTRACT(EPOCH FROM last_at - first_at) / 86400.0 / (frequency - 1)
       END AS mean_days_between_orders,
       CASE WHEN monetary + returned > 0
            THEN (returned / (monetary + returned))::float8
            ELSE 0.0 END AS return_rate,
       first_at AS first_order_at,
       last_at AS last_order_at
FROM (
    -- A purchase is an order with a positive gross value; a return or refund exported
    -- as its own order only nets money (see analysis.features).
    SELECT customer_id,
           COUNT(*) FILTER (WHERE gross_total > 0) AS frequency,
           SUM(net_total) AS monetary,
           SUM(returned_total) AS returned,
           COALESCE(MIN(ordered_at) FILTER (WHERE gross_total > 0), MIN(ordered_at)) AS first_at,
           COALESCE(MAX(ordered_at) FILTER (WHERE gross_total > 0), MAX(ordered_at)) AS last_at
    FROM ingest_order
    WHERE ordered_at <= %(as_of)s AND NOT is_cancelled {extra}
    GROUP BY customer_id
) per_customer
ORDER BY customer_id
"""


def copy_query(sql: str, params: dict | Sequence | None = None, *,
               parse_dates: Iterable[str] = (), dtype: dict | None = None) -> pd.DataFrame:
    """Run ``sql`` and return its rows as a DataFrame, transferred with COPY ... TO STDOUT.

    COPY streams one CSV, which pandas' C parser reads far faster than Python rows
    from a cursor; at a million order lines that is seconds against a minute.
    """
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2 cursor under Django's wrapper
        query = raw.mogrify(sql, params).decode()
        raw.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype=dtype)
    for column in parse_dates:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


# An order dated after today is a mistyped year or a scheduled date, not a sale: as the
# analysis' "now" it would make every real customer look gone for years. A day's slack
# keeps today's orders of a shop east of UTC.
FUTURE_SLACK = timedelta(days=1)


def counted_until() -> datetime:
    """The latest order date the analysis counts: now, with a day's slack."""
    return timezone.now() + FUTURE_SLACK


def newest_order_at() -> datetime | None:
    """The analysis' "now": the newest order that is not cancelled nor dated in the
    future (the newest of all when every order is)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COALESCE(MAX(ordered_at) FILTER (WHERE ordered_at <= %s), MAX(ordered_at))
               FROM ingest_order WHERE NOT is_cancelled""",
            [counted_until()],
        )
        return cursor.fetchone()[0]


def features_frame(*, as_of: datetime, without_membership_in: int | None = None) -> pd.DataFrame:
    """Per-customer features (columns of analysis.features) plus first/last order time.

    With ``without_membership_in`` (a run id): only customers who have no membership in
    that run, i.e. those imported after it (for placement).
    """
    extra = ""
    if without_membership_in is not None:
        extra = ("AND customer_id NOT IN (SELECT customer_id FROM segments_segmentmembership "
                 "WHERE run_id = %(run)s)")
    frame = copy_query(FEATURES_SQL.format(extra=extra),
                       {"as_of": as_of, "run": without_membership_in},
                       parse_dates=("first_order_at", "last_order_at"))
    frame = frame.set_index("customer_id").sort_index()
    frame["frequency"] = frame["frequency"].astype("int64")
    for column in ALL_COLUMNS:
        if column != "frequency":
            frame[column] = frame[column].astype(float)
    return frame


def orders_frame(*, as_of: datetime) -> pd.DataFrame:
    """One row per (non-cancelled) order: customer_id, order_id, ordered_at, net_total,
    returned_total, gross_total. Purchases are the rows with gross_total > 0
    (``purchases_only``); the others are returns or refunds exported on their own."""
    return copy_query(
        """SELECT customer_id, id AS order_id, ordered_at,
                  net_total::float8 AS net_total, returned_total::float8 AS returned_total,
                  gross_total::float8 AS gross_total
           FROM ingest_order WHERE ordered_at <= %(as_of)s AND NOT is_cancelled""",
        {"as_of": as_of},
        parse_dates=("ordered_at",),
        dtype={"customer_id": "int64", "order_id": "int64"},
    )


def purchases_only(orders: pd.DataFrame) -> pd.DataFrame:
    """The purchase occasions of an ``orders_frame``: what the value and propensity models
    count as orders, so a return exported on its own is not a visit to the shop."""
    return orders.loc[orders["gross_total"] > 0]


def basket_lines_frame(*, as_of: datetime) -> pd.DataFrame:
    """Purchased lines: order_id, customer_id, product_id, line_total (returns and
    cancelled orders left out)."""
    return copy_query(
        """SELECT l.order_id, o.customer_id, l.product_id, l.line_total::float8 AS line_total
           FROM ingest_orderline l JOIN ingest_order o ON o.id = l.order_id
           WHERE o.ordered_at <= %(as_of)s AND NOT o.is_cancelled
             AND NOT l.is_return AND l.quantity > 0""",
        {"as_of": as_of},
        dtype={"order_id": "int64", "customer_id": "int64", "product_id": "int64"},
    )


def products_frame() -> pd.DataFrame:
    """id, label (name, or SKU when unnamed), category of every product."""
    return copy_query(
        "SELECT id, COALESCE(NULLIF(name, ''), sku) AS label, category FROM ingest_product",
        dtype={"id": "int64", "label": str, "category": str},
    ).fillna({"label": "", "category": ""})


def category_counts_frame(*, as_of: datetime) -> pd.DataFrame:
    """customer_id, term (product category), count (orders containing that category)."""
    return copy_query(
        """SELECT o.customer_id, p.category AS term, COUNT(DISTINCT o.id) AS count
           FROM ingest_orderline l
           JOIN ingest_order o ON o.id = l.order_id
           JOIN ingest_product p ON p.id = l.product_id
           WHERE o.ordered_at <= %(as_of)s AND NOT o.is_cancelled
             AND NOT l.is_return AND l.quantity > 0 AND p.category <> ''
           GROUP BY o.customer_id, p.category""",
        {"as_of": as_of},
        dtype={"customer_id": "int64", "term": str, "count": "int64"},
    )


def copy_rows(table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    """Bulk insert ``frame`` (columns in order) into ``table`` with COPY FROM STDIN (CSV)."""
    if not frame.empty:
        copy_text(table, columns, csv_text(frame, columns))


def csv_text(frame: pd.DataFrame, columns: Sequence[str]) -> bytes:
    """``frame``'s columns as the CSV that copy_text loads."""
    return frame_csv_for_copy(frame, columns)


def copy_text(table: str, columns: Sequence[str], text: bytes) -> None:
    """COPY already formatted CSV (from csv_text) into ``table``."""
    if not text:
        return
    column_list = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f'COPY "{table}" ({column_list}) FROM STDIN WITH (FORMAT csv, NULL \'\')',
            io.BytesIO(text), size=1 << 20,
        )


def planner_statistics_refresh() -> None:
    """ANALYZE the tables a run reads and rewrites, once it has committed.

    A page's query is planned on the tables' statistics. Autovacuum gathers them a minute
    or more after a big write, and until then a first import's or a first run's tables
    look empty: a plan made on that nests loops over every row (seen: a segment's best
    sellers running for over ten minutes on a 1,500-customer shop). ANALYZE samples a
    fixed number of rows per table, so it costs the same on any shop's size.
    """
    from ingest.models import Customer, Order, OrderLine, Product
    from segments.models import CustomerScore, SegmentMembership

    tables = [m._meta.db_table for m in (Customer, Order, OrderLine, Product, CustomerScore,
                                         SegmentMembership)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))
