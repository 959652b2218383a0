"""Orders new to the import, copied straight into the order and line tables.

Most orders of a big first import are new to the shop. For them the staging
route (copy by key, look each key up in the order index, then insert the rows
again) does the index work twice. Here the reader thread prepares their rows;
the loader gives them ids (orders from the order sequence, customers and
products from what it has already upserted) and `COPY`s them into the real
tables. The order-key unique index is then the only existence check: if one of
the orders is in the database after all (an earlier import, a resumed run),
the copy fails, is rolled back to its savepoint, and the chunk takes the
staging route, which merges.

An order the reader saw in an earlier chunk of the same run (an order whose
lines straddle two chunks) always takes the staging route.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import psycopg2.errors
import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction

from ingest.pipeline.identities import identities
from profiler_site.core.csv_copy import copy_csv, csv_for_copy, timestamptz_text

from .run_memory import HashMemory, RunMemory, key_hashes

CENT = Decimal("0.01")

ORDER_COLUMNS = ("id", "order_key", "customer_id", "ordered_at", "is_cancelled", "gross_total",
                 "returned_total", "refunded_total", "net_total", "unlisted_quantity",
                 "unlisted_gross", "unlisted_returned", "import_job_id", "last_import_id")
LINE_COLUMNS = ("order_id", "product_id", "is_return", "quantity", "unit_price", "line_total",
                "last_import_id")


@dataclass(frozen=True, slots=True)
class FreshOrders:
    """A chunk's orders new to the run, ready to copy but for their ids (reader thread)."""

    orders: dict[str, pa.Array]  # the order columns but the ids (own, customer's, import's)
    customer_keys: np.ndarray  # object, one per order
    line_orders: np.ndarray  # each line's order, as its position in `orders`
    line_skus: np.ndarray  # object, each line's product key
    lines: dict[str, pa.Array]  # is_return, quantity, unit_price, line_total
    # What the orders add to the shop's revenue once stored (each net rounded to the
    # cent, as the column does): worked out here, in the reader thread, for the report.
    net_sum: Decimal = Decimal(0)

    def __len__(self) -> int:
        return len(self.customer_keys)


def fresh_orders(orders: pd.DataFrame, lines: pd.DataFrame, line_orders: np.ndarray) -> FreshOrders:
    """The orders (and their lines, each line's order given as a row of `orders`) as
    copy input; orders sorted by key. Pure.

    Sorted by key, the orders get their ids in key order: shops number orders
    upwards, so the primary key and the order-key index both grow at their
    right edge (PostgreSQL's fast path) instead of at random leaves.
    """
    keys = pa.array(orders["order_key"].to_numpy(dtype=object), type=pa.string())
    # Arrow sorts text in C++ (byte order, as the key column's collation), stably.
    by_key = pc.sort_indices(keys).to_numpy()
    orders = orders.iloc[by_key]
    keys = keys.take(by_key)
    sorted_row = np.empty(len(by_key), dtype=np.intp)
    sorted_row[by_key] = np.arange(len(by_key))
    # Totals as `chunk_tables.order_totals` computed them; missing parts are 0 here.
    zero = Decimal(0)
    gross = orders["gross_total"].to_numpy(dtype=object)
    net = orders["net_total"].to_numpy(dtype=object)
    gross_text = money_text(gross)
    # Most orders have no returns or refunds: their net is their gross, text and all.
    net_text = gross_text if (identities(net) == identities(gross)).all() else money_text(net)
    return FreshOrders(
        orders={
            "order_key": keys,
            "ordered_at": timestamptz_text(orders["ordered_at"]),
            "is_cancelled": pa.array(orders["is_cancelled"].to_numpy(dtype=bool)),
            "gross_total": gross_text,
            "returned_total": money_text(orders["returned"].fillna(zero).to_numpy(dtype=object)),
            "refunded_total": money_text(orders["refunded"].fillna(zero).to_numpy(dtype=object)),
            "net_total": net_text,
            "unlisted_quantity": pa.array(orders["unlisted_quantity"], type=pa.int64(),
                                          from_pandas=True),
            "unlisted_gross": money_text(orders["unlisted_gross"].to_numpy(dtype=object)),
            "unlisted_returned": money_text(orders["unlisted_returned"].to_numpy(dtype=object)),
        },
        customer_keys=orders["customer_key"].to_numpy(dtype=object),
        line_orders=sorted_row[line_orders],
        line_skus=lines["sku_key"].to_numpy(dtype=object),
        net_sum=cents_sum(net),
        lines={
            "is_return": pa.array(lines["is_return"].to_numpy(dtype=bool)),
            "quantity": pa.array(lines["quantity"], from_pandas=True),
            "unit_price": money_text(lines["unit_price"].to_numpy(dtype=object)),
            "line_total": money_text(lines["line_total"].to_numpy(dtype=object)),
        },
    )


def _distinct_objects(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's distinct object (a code) and one row holding each: the reader shares one
    object per amount, so work done per distinct object is done a few times a chunk."""
    ids = identities(values)
    if len(values) and (ids == ids[0]).all():  # e.g. no order has a refund
        return np.zeros(len(values), dtype=np.int32), np.zeros(1, dtype=np.intp)
    of_row, distinct = pd.factorize(ids)
    one_row = np.empty(len(distinct), dtype=np.intp)
    one_row[of_row] = np.arange(len(values))  # any row of each object will do
    return of_row, one_row


def cents_sum(values: np.ndarray) -> Decimal:
    """The sum of Decimal objects (missing: 0) as PostgreSQL will hold them: each rounded
    to the cent, half away from zero, as a numeric(…, 2) column rounds its input."""
    if not len(values):
        return Decimal(0)
    of_row, one_row = _distinct_objects(values)
    counts = np.bincount(of_row, minlength=len(one_row))
    return sum((Decimal(count) * Decimal(value).quantize(CENT, ROUND_HALF_UP)
                for count, value in zip(counts.tolist(), values[one_row])
                if not pd.isna(value)), Decimal(0))


def money_text(values: np.ndarray) -> pa.DictionaryArray:
    """Decimal objects as their exact text (missing: null), converted once per distinct object.

    Decimal's own text is exact and cheaper than Arrow's decimals. Each row points at
    its text (a dictionary array): the CSV writer expands them without the GIL.
    """
    of_row, one_row = _distinct_objects(values)
    texts = pa.array([None if pd.isna(v) else str(v) for v in values[one_row]], type=pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(of_row, type=pa.int32()), texts)


def copy_fresh_orders(cursor, fresh: FreshOrders, *, job_id: int, sequence: str,
                      memory: RunMemory) -> bool:
    """Copy the orders and their lines into their tables; False (nothing written) when
    one of the orders is already in the database. Runs inside the chunk's transaction,
    after its customers and products were upserted.
    """
    customer_ids = _ids(cursor, memory.customer_ids, fresh.customer_keys,
                        "SELECT key, id FROM ingest_customer WHERE key = ANY(%s)")
    product_ids = _ids(cursor, memory.product_ids, fresh.line_skus,
                       "SELECT sku, id FROM ingest_product WHERE sku = ANY(%s)")
    # One block of ids in one call. Only imports add orders, and they take ids while
    # holding the import lock (see `load_chunk`), so no one draws from the sequence
    # in between; like nextval's, ids of a copy that is rolled back are not reused.
    cursor.execute("SELECT setval(%s::regclass, nextval(%s::regclass) + %s - 1)",
                   [sequence, sequence, len(fresh)])
    last_id = cursor.fetchone()[0]
    order_ids = np.arange(last_id - len(fresh) + 1, last_id + 1, dtype=np.int64)
    job_ids = pa.array(np.full(len(fresh), job_id, dtype=np.int64))
    orders = {"id": pa.array(order_ids), "customer_id": pa.array(customer_ids), **fresh.orders,
              "import_job_id": job_ids, "last_import_id": job_ids}
    line_order_ids = order_ids[fresh.line_orders]
    # In primary-key order, so the (order, product, is_return) index is appended to.
    is_return = fresh.lines["is_return"].to_numpy(zero_copy_only=False)
    in_key_order = np.lexsort((is_return, product_ids, line_order_ids))
    indices = pa.array(in_key_order)
    lines = {"order_id": pa.array(line_order_ids[in_key_order]),
             "product_id": pa.array(product_ids[in_key_order]),
             **{name: values.take(indices) for name, values in fresh.lines.items()},
             "last_import_id": pa.array(np.full(len(in_key_order), job_id, dtype=np.int64))}
    with ThreadPoolExecutor(max_workers=1) as writer:
        # Arrow writes CSV without holding the GIL: the lines' CSV is written while
        # PostgreSQL takes the orders.
        lines_csv = writer.submit(csv_for_copy, {name: lines[name] for name in LINE_COLUMNS})
        try:
            with transaction.atomic():
                copy_csv(cursor, "ingest_order", ORDER_COLUMNS,
                         csv_for_copy({name: orders[name] for name in ORDER_COLUMNS}))
                copy_csv(cursor, "ingest_orderline", LINE_COLUMNS, lines_csv.result())
        except psycopg2.errors.UniqueViolation:
            return False
    return True


def _ids(cursor, known: HashMemory, keys: np.ndarray, query: str) -> np.ndarray:
    """The database id of each key, asking the database only for keys not yet known."""
    codes, distinct = pd.factorize(keys)
    hashes = key_hashes(distinct)
    found, ids = known.get(hashes, distinct)
    if not found.all():
        cursor.execute(query, [distinct[~found].tolist()])
        if rows := cursor.fetchall():
            names, values = zip(*rows)
            known.put(key_hashes(names), np.array(values, dtype=np.int64), names)
        found, ids = known.get(hashes, distinct)
        if not found.all():  # upserted just before: a bug if any is absent
            raise RuntimeError(f"{(~found).sum()} keys were not found after their upsert, "
                               f"e.g. {distinct[~found][0]!r}")
    return ids.astype(np.int64)[codes]
