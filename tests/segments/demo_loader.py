"""Load an order-lines CSV (the demo shop's format) into the ingest tables with COPY.

A stand-in for the ingest loader, for tests and benchmarks of the analysis side: it
trusts the file (no mapping, cleaning or validation) and is fast at a million lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from segments.services.db import copy_rows


def _ids(table: str, key: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{key}", id FROM "{table}"')
        return dict(cursor.fetchall())


def load_order_lines(path: str | Path | pd.DataFrame) -> int:
    """Insert customers, products, orders and lines from the CSV; returns the line count."""
    lines = path if isinstance(path, pd.DataFrame) else pd.read_csv(
        path, dtype={"order_id": str, "sku": str}, keep_default_na=False
    )
    now = timezone.now().isoformat()
    lines = lines.assign(
        ordered_at=pd.to_datetime(lines["ordered_at"]).dt.tz_localize("UTC"),
        quantity=lines["quantity"].astype(int),
        unit_price=lines["unit_price"].astype(float),
        key="email:" + lines["email"].str.strip().str.lower(),
    )
    lines["line_total"] = (lines["quantity"] * lines["unit_price"]).round(2)
    with transaction.atomic():
        customers = lines.drop_duplicates("key")[
            ["key", "email", "first_name", "last_name", "country", "city", "accepts_marketing"]
        ].assign(shop_customer_id="-", gender="-", created_at=now, updated_at=now)
        customers["accepts_marketing"] = customers["accepts_marketing"].isin(["yes", "true", "1"])
        copy_rows("ingest_customer", ["key", "email", "shop_customer_id", "first_name",
                                      "last_name", "country", "city", "gender",
                                      "accepts_marketing", "created_at", "updated_at"], customers)
        products = lines.drop_duplicates("sku")[["sku", "product_name", "category"]]
        copy_rows("ingest_product", ["sku", "name", "category"],
                  products.rename(columns={"product_name": "name"}))
        customer_ids = _ids("ingest_customer", "key")
        product_ids = _ids("ingest_product", "sku")

        returns = lines["quantity"].clip(upper=0).mul(-1) * lines["unit_price"]
        orders = lines.assign(returned=returns, net=lines["line_total"]).groupby(
            "order_id", sort=False
        ).agg(key=("key", "first"), ordered_at=("ordered_at", "first"),
              net_total=("net", "sum"), returned_total=("returned", "sum"))
        orders["gross_total"] = orders["net_total"] + orders["returned_total"]
        orders = orders.reset_index().assign(
            customer_id=lambda o: o["key"].map(customer_ids), is_cancelled=False,
            refunded_total=0.0,
        )
        copy_rows("ingest_order", ["order_key", "customer_id", "ordered_at", "is_cancelled",
                                   "gross_total", "returned_total", "refunded_total",
                                   "net_total"], orders.rename(columns={"order_id": "order_key"}))
        order_ids = _ids("ingest_order", "order_key")
        rows = lines.assign(
            order_pk=lines["order_id"].map(order_ids), product_id=lines["sku"].map(product_ids),
            is_return=lines["quantity"] < 0,
        ).groupby(["order_pk", "product_id", "is_return"], as_index=False).agg(
            quantity=("quantity", "sum"), unit_price=("unit_price", "first"),
            line_total=("line_total", "sum"),
        )
        copy_rows("ingest_orderline", ["order_id", "product_id", "is_return", "quantity",
                                       "unit_price", "line_total"],
                  rows.rename(columns={"order_pk": "order_id"}).astype({"order_id": np.int64}))
    return len(lines)


def load_demo_shop(customers: int = 1500, seed: int = 7, tmp_dir: Path | None = None) -> int:
    from ingest.demo.generate import generate_demo_orders

    path = Path(tmp_dir or "/tmp") / f"demo-{customers}-{seed}.csv"
    if not path.exists():
        generate_demo_orders(path, customers=customers, seed=seed)
    return load_order_lines(path)
