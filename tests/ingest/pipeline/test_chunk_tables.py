"""The reader's grouping of a chunk into the four staging tables (pure pandas)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from ingest.pipeline.chunk_tables import TEXT_LIMITS, chunk_tables
from tests.ingest.pipeline.helpers import ingest_bytes

HEADER = "order_id,email,first_name,last_name,city,order_date,sku,product,category,quantity,unit_price\n"


def tables_of(rows: str):
    return chunk_tables(ingest_bytes((HEADER + rows).encode()).frame)


def test_customer_and_product_details_come_from_their_latest_row() -> None:
    tables = tables_of(
        "A2,ann@example.com,Annie,Old,Paris,2024-03-05,S1,Tea (new name),Tea,1,4.00\n"
        "A1,ann@example.com,Ann,Smith,Lyon,2024-03-01,S1,Tea,Drinks,1,4.00\n"
    )

    customer = tables.customers.set_index("customer_key").loc["ann@example.com"]
    assert (customer["first_name"], customer["last_name"], customer["city"]) == ("Annie", "Old", "Paris")
    product = tables.products.set_index("sku_key").loc["S1"]
    assert (product["product_name"], product["category"]) == ("Tea (new name)", "Tea")
    assert len(tables.customers) == 1 and len(tables.products) == 1


def test_order_totals_net_returns_and_repeated_lines_are_merged() -> None:
    tables = tables_of(
        "B1,bob@example.com,Bob,Lee,Oslo,2024-04-01,S1,Tea,Tea,2,3.00\n"
        "B1,bob@example.com,Bob,Lee,Oslo,2024-04-01,S1,Tea,Tea,1,3.50\n"
        "B1,bob@example.com,Bob,Lee,Oslo,2024-04-01,S2,Cup,Ware,-1,10.00\n"
    )

    order = tables.orders.set_index("order_key").loc["B1"]
    assert order["gross_total"] == Decimal("9.50")
    assert order["returned"] == Decimal("10.00")
    assert order["customer_key"] == "bob@example.com" and not order["is_cancelled"]
    lines = tables.lines.set_index(["sku_key", "is_return"])
    assert lines.loc[("S1", False), "quantity"] == 3
    assert lines.loc[("S1", False), "line_total"] == Decimal("9.50")
    assert lines.loc[("S1", False), "unit_price"] == Decimal("3.50")  # the highest price
    assert lines.loc[("S2", True), "line_total"] == Decimal("-10.00")
    assert sorted(tables.order_rows["line_no"]) == [2, 3, 4]


def test_text_is_cut_to_the_column_sizes() -> None:
    long_city = "x" * (TEXT_LIMITS["city"] + 20)
    long_sku = "S" * (TEXT_LIMITS["sku_key"] + 5)
    tables = tables_of(f"C1,cy@example.com,Cy,Ng,{long_city},2024-05-01,{long_sku},Pot,Ware,1,2.00\n")

    assert tables.customers.loc[0, "city"] == "x" * TEXT_LIMITS["city"]
    assert tables.products.loc[0, "sku_key"] == "S" * TEXT_LIMITS["sku_key"]
    assert tables.lines.loc[0, "sku_key"] == tables.products.loc[0, "sku_key"]


def test_a_product_without_sku_is_known_by_its_name() -> None:
    tables = tables_of("D1,di@example.com,Di,Ro,Rome,2024-06-01,,Green Tea ,Tea,1,2.00\n")

    assert tables.products["sku_key"].tolist() == ["name:green tea"]
    assert tables.lines["sku_key"].tolist() == ["name:green tea"]
    assert pd.isna(tables.orders.loc[0, "refunded"])  # no refund column: nothing to take off
