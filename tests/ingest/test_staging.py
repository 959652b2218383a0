"""What the reader thread makes of a chunk for the loader (pure; no database)."""

from decimal import Decimal

import numpy as np
import pandas as pd

from ingest.services.fresh_orders import fresh_orders
from ingest.services.loading import _mark_changed_customers, staging_data
from ingest.services.run_memory import HashMemory, RunMemory
from tests.ingest.pipeline.helpers import ingest_bytes


def _customers(city_of_ann: str) -> pd.DataFrame:
    return pd.DataFrame({"customer_key": ["ann@example.com", "bob@example.com"],
                         "first_name": ["Ann", None], "city": [city_of_ann, "York"]})


def test_only_customers_new_to_the_import_or_with_changed_details_are_flagged():
    seen = HashMemory()

    first = _mark_changed_customers(_customers("Leeds"), seen)
    repeat = _mark_changed_customers(_customers("Leeds"), seen)
    moved = _mark_changed_customers(_customers("Bath"), seen)

    assert first["changed"].tolist() == [True, True]
    assert repeat["changed"].tolist() == [False, False]
    assert moved["changed"].tolist() == [True, False]


def test_a_change_in_any_detail_flags_the_customer_again():
    def customer(**changes) -> pd.DataFrame:
        row = {"customer_key": "ann@example.com", "customer_email": "ann@example.com",
               "first_name": "Ann", "last_name": "Lee", "birth_year": 1980,
               "accepts_marketing": True, **changes}
        columns = {name: pd.Series([value], dtype=object) for name, value in row.items()}
        columns["birth_year"] = columns["birth_year"].astype("Int64")
        columns["accepts_marketing"] = columns["accepts_marketing"].astype("boolean")
        return pd.DataFrame(columns)

    seen = HashMemory()
    assert _mark_changed_customers(customer(), seen)["changed"].tolist() == [True]
    assert _mark_changed_customers(customer(), seen)["changed"].tolist() == [False]
    for changes in ({"customer_email": "ann@shop.example"}, {"first_name": "Lee", "last_name": "Ann"},
                    {"birth_year": None}, {"accepts_marketing": False}, {"last_name": None}):
        assert _mark_changed_customers(customer(**changes), seen)["changed"].tolist() == [True], changes


def test_without_a_memory_every_customer_is_upserted():
    assert _mark_changed_customers(_customers("Leeds"), None)["changed"].tolist() == [True, True]


def test_fresh_orders_are_sorted_by_key_with_exact_money_and_net_totals():
    orders = pd.DataFrame({
        "order_key": ["B7", "A3", "C1"],
        "customer_key": ["bob@example.com", "ann@example.com", "cy@example.com"],
        "ordered_at": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03"], utc=True),
        "is_cancelled": [False, False, True],
        "gross_total": [Decimal("10.50"), Decimal(7), Decimal("3.00")],
        "returned": [Decimal("2.25"), 0, 0],
        "order_total": [None, None, None],
        "refunded": [Decimal(1), None, None],
        "net_total": [Decimal("7.25"), Decimal(7), Decimal(0)],
        "unlisted_quantity": [None, None, 4],
        "unlisted_gross": [None, None, Decimal("1.25")],
        "unlisted_returned": [None, None, None],
    })
    lines = pd.DataFrame({"order_key": ["B7", "A3", "C1"], "sku_key": ["S1", "S2", "S1"],
                          "is_return": [False, False, False], "quantity": [1, 2, 1],
                          "unit_price": [Decimal("10.50"), Decimal("3.5"), Decimal("3.00")],
                          "line_total": [Decimal("10.50"), Decimal("7.0"), Decimal("3.00")]})

    fresh = fresh_orders(orders, lines, np.array([0, 1, 2]))

    assert fresh.orders["order_key"].to_pylist() == ["A3", "B7", "C1"]
    assert fresh.customer_keys.tolist() == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert fresh.orders["gross_total"].to_pylist() == ["7", "10.50", "3.00"]
    assert fresh.orders["net_total"].to_pylist() == ["7", "7.25", "0"]
    assert fresh.orders["refunded_total"].to_pylist() == ["0", "1", "0"]
    assert fresh.orders["unlisted_quantity"].to_pylist() == [None, None, 4]
    assert fresh.orders["unlisted_gross"].to_pylist() == [None, None, "1.25"]
    assert fresh.line_orders.tolist() == [1, 0, 2]  # each line still finds its order
    assert fresh.lines["unit_price"].to_pylist() == ["10.50", "3.5", "3.00"]


def test_an_order_seen_in_an_earlier_chunk_is_staged_with_its_owner_and_the_rest_copied():
    memory = RunMemory()
    staging_data(_chunk(b"B1,bob@example.com,2024-01-01,S1,5\n"), memory=memory)

    data = staging_data(_chunk(b"C1,ann@example.com,2024-01-02,S1,10\n"
                               b"B1,bob@example.com,2024-01-01,S2,5\n"
                               b"A1,cy@example.com,2024-01-03,S1,3\n"), memory=memory)

    staged = {copy.table: copy.csv_bytes for copy in data.copies}
    assert data.fresh.orders["order_key"].to_pylist() == ["A1", "C1"]
    assert staged["stage_orders"].startswith(b'"B1",') and b"C1" not in staged["stage_orders"]
    assert staged["stage_lines"].startswith(b'"B1","S2",')
    # the staged order's owner is staged (its orders find it there); Bob was seen before,
    # so he is not upserted again; Ann and Cy are new and are.
    customers = staged["stage_customers"].decode()
    assert "bob@example.com" in customers and customers.count("\n") == 3


def test_while_the_loader_is_not_copying_fresh_orders_every_order_is_staged():
    memory = RunMemory(copy_fresh=False)

    data = staging_data(_chunk(b"A1,ann@example.com,2024-01-02,S1,10\n"), memory=memory)

    assert data.fresh is None
    assert {c.table: c.csv_bytes for c in data.copies}["stage_orders"].startswith(b'"A1",')


def _chunk(rows: bytes) -> pd.DataFrame:
    return ingest_bytes(b"order_id,email,ordered_at,sku,line_total\n" + rows).frame


def test_an_exact_memory_never_mixes_up_two_keys_with_one_hash():
    ids = HashMemory(exact=True)
    ids.put(np.array([7], dtype=np.uint64), np.array([101]), np.array(["ann@example.com"], dtype=object))

    known, values = ids.get(np.array([7, 7], dtype=np.uint64),
                            np.array(["ann@example.com", "bob@example.com"], dtype=object))

    assert known.tolist() == [True, False] and values[0] == 101
