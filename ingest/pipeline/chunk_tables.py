"""A clean chunk of order lines as the four small tables the loader upserts.

Pure pandas; it runs in the import's reader thread while PostgreSQL loads the
previous chunk. Grouping here (an order's totals, a customer's latest details, a
product line's repeats) leaves the database only joins and inserts, and the
database is the import's bottleneck.

The rules are the loader's, row for row:
- a customer's and a product's details come from their latest row in the chunk
  (by order time, then line number);
- an order's gross total is the sum of its non-return lines, or its order total
  when no line has an amount; returns are summed apart, refunds taken as the
  largest refunded amount given;
- repeated lines of one product in one order (and return kind) are summed, with
  the highest unit price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

# Column sizes of the tables the text lands in (counted in characters).
TEXT_LIMITS = {"first_name": 150, "last_name": 150, "country": 100, "city": 100, "gender": 30,
               "shop_customer_id": 100, "product_name": 300, "category": 200, "sku_key": 200}

CUSTOMER_COLUMNS = ("customer_key", "customer_email", "shop_customer_id", "first_name",
                    "last_name", "country", "city", "gender", "birth_year", "accepts_marketing")
PRODUCT_COLUMNS = ("sku_key", "product_name", "category")
ORDER_COLUMNS = ("order_key", "customer_key", "ordered_at", "is_cancelled", "gross_total",
                 "returned", "order_total", "refunded")
LINE_COLUMNS = ("order_key", "sku_key", "is_return", "quantity", "unit_price", "line_total")

_ZERO = Decimal(0)
_USED = {*CUSTOMER_COLUMNS, *PRODUCT_COLUMNS, *ORDER_COLUMNS, *LINE_COLUMNS, "line_no",
         "full_name", "line_total", "refunded_amount"}


@dataclass(frozen=True, kw_only=True, slots=True)
class ChunkTables:
    customers: pd.DataFrame  # CUSTOMER_COLUMNS, one row per customer key
    products: pd.DataFrame  # PRODUCT_COLUMNS, one row per product key
    orders: pd.DataFrame  # ORDER_COLUMNS, one row per order key
    lines: pd.DataFrame  # LINE_COLUMNS, one row per (order, product, is_return)
    # Every input row's order and line number, to name the lines of a refused order.
    order_rows: pd.DataFrame


def chunk_tables(frame: pd.DataFrame) -> ChunkTables:
    """Group one chunk (the pipeline's clean frame) into customers, products, orders, lines."""
    ordered_at = frame["ordered_at"].dt.tz_convert("UTC")
    rows = frame.loc[:, [c for c in frame.columns if c in _USED]].assign(
        ordered_at=ordered_at, sku_key=_limited(_product_keys(frame), "sku_key"))
    # Latest last: "the latest row" of a key is then its last row.
    times = ordered_at.dt.tz_localize(None).to_numpy("datetime64[us]")
    rows = rows.iloc[np.lexsort((rows["line_no"].to_numpy(), times))]
    return ChunkTables(
        customers=_customers(rows),
        products=_products(rows),
        orders=_orders(rows),
        lines=_lines(rows),
        order_rows=frame[["order_key", "customer_key", "line_no"]],
    )


def _limited(values: pd.Series, name: str) -> pd.Series:
    size = TEXT_LIMITS[name]
    texts = values.astype(object)
    too_long = texts.str.len() > size
    if not too_long.any():
        return texts
    return texts.where(~too_long, texts.str.slice(0, size))


def _product_keys(frame: pd.DataFrame) -> pd.Series:
    """The SKU; a product without one is known by its name ("name:" + lower-case name)."""
    sku = frame["sku"].astype(object)
    no_sku = sku.isna() | (sku == "")
    if not no_sku.any():
        return sku
    names = frame["product_name"].astype(object)[no_sku]
    sku = sku.copy()
    sku[no_sku] = ("name:" + names.fillna("").str.strip().str.lower()).where(names.notna())
    return sku


def _customers(rows: pd.DataFrame) -> pd.DataFrame:
    latest = rows.drop_duplicates("customer_key", keep="last")
    first, last = latest["first_name"].astype(object), latest["last_name"].astype(object)
    has_full = latest["full_name"].notna() & first.isna()
    if has_full.any():  # "Jane van Dijk" -> first "Jane", last "van Dijk"
        parts = latest["full_name"][has_full].astype(object).str.strip().str.split(n=1, expand=True)
        first, last = first.copy(), last.copy()
        first[has_full] = parts[0]
        last[has_full] = parts[1] if parts.shape[1] > 1 else None
    customers = latest.assign(first_name=first, last_name=last)
    for name in ("first_name", "last_name", "country", "city", "gender", "shop_customer_id"):
        customers[name] = _limited(customers[name], name)
    return customers.loc[:, list(CUSTOMER_COLUMNS)].reset_index(drop=True)


def _products(rows: pd.DataFrame) -> pd.DataFrame:
    named = rows[rows["sku_key"].notna()].drop_duplicates("sku_key", keep="last")
    products = named.assign(product_name=_limited(named["product_name"], "product_name"),
                            category=_limited(named["category"], "category"))
    return products.loc[:, list(PRODUCT_COLUMNS)].reset_index(drop=True)


def _orders(rows: pd.DataFrame) -> pd.DataFrame:
    line_total = rows["line_total"].astype(object)
    is_return = rows["is_return"].to_numpy(dtype=bool)
    parts = pd.DataFrame({
        "order_key": rows["order_key"].to_numpy(),
        "gross": line_total.where(~is_return, _ZERO).to_numpy(),
        "returned": line_total.where(is_return, _ZERO).to_numpy(),
        "priced": line_total.notna().to_numpy(),
    })
    grouped = parts.groupby("order_key", sort=False)
    # Decimal sums in Python objects: exact, as money must be.
    gross = grouped["gross"].sum(min_count=1)
    returned = -grouped["returned"].sum()
    priced = grouped["priced"].any()
    firsts = rows.groupby("order_key", sort=False).agg(
        # One customer per order: the reader refuses rows naming a second one.
        customer_key=("customer_key", "first"),
        ordered_at=("ordered_at", "min"),
        is_cancelled=("is_cancelled", "any"),
    )
    order_total = _group_max(rows["order_key"], rows["order_total"])
    refunded = _group_max(rows["order_key"], rows["refunded_amount"])
    gross_total = gross.where(priced, order_total.fillna(_ZERO))
    orders = firsts.assign(gross_total=gross_total, returned=returned, order_total=order_total,
                           refunded=refunded)
    return orders.rename_axis("order_key").reset_index().loc[:, list(ORDER_COLUMNS)]


def _lines(rows: pd.DataFrame) -> pd.DataFrame:
    priced = rows[rows["line_total"].notna() & rows["sku_key"].notna()]
    keys = ["order_key", "sku_key", "is_return"]
    grouped = priced.groupby(keys, sort=False)
    sums = grouped.agg(quantity=("quantity", "sum"), line_total=("line_total", "sum"))
    group_of_row = grouped.ngroup().to_numpy()
    unit_price = _group_max(pd.Series(group_of_row, index=priced.index), priced["unit_price"])
    lines = sums.reset_index().assign(unit_price=unit_price.to_numpy())
    return lines.loc[:, list(LINE_COLUMNS)]


def _group_max(keys: pd.Series, values: pd.Series) -> pd.Series:
    """The largest Decimal per key (None where a key has none), in first-appearance order.

    Ordered by float, returned as the exact Decimal: money never has enough digits
    for two different amounts to compare equal as floats.
    """
    codes, uniques = pd.factorize(keys.to_numpy(), sort=False)
    objects = values.astype(object).to_numpy()
    floats = pd.to_numeric(pd.Series(objects), errors="coerce").to_numpy(dtype=float)
    present = ~np.isnan(floats)
    result = np.full(len(uniques), None, dtype=object)
    if present.any():
        order = np.lexsort((floats[present], codes[present]))
        ranked_codes = codes[present][order]
        last_of_code = np.r_[ranked_codes[1:] != ranked_codes[:-1], True]
        result[ranked_codes[last_of_code]] = objects[present][order][last_of_code]
    return pd.Series(result, index=pd.Index(uniques, name=keys.name))
