"""The reader's grouping of a chunk into the four staging tables (pure pandas)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from ingest.pipeline.chunk_tables import (
    LINE_COLUMNS,
    TEXT_LIMITS,
    chunk_tables,
    order_totals,
    refunds_above_goods,
)
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


def test_each_line_names_the_row_of_its_order() -> None:
    tables = tables_of(
        "D2,dee@example.com,Dee,Ray,Rome,2024-06-02,S1,Tea,Tea,1,3.00\n"
        "D1,dee@example.com,Dee,Ray,Rome,2024-06-01,S1,Tea,Tea,1,3.00\n"
        "D2,dee@example.com,Dee,Ray,Rome,2024-06-02,S2,Cup,Ware,1,5.00\n"
        "D3,eve@example.com,Eve,Ko,Bonn,2024-06-03,S2,Cup,Ware,-1,5.00\n"
    )

    order_keys = tables.orders["order_key"].to_numpy(dtype=object)
    assert len(tables.line_orders) == len(tables.lines) == 4
    assert order_keys[tables.line_orders].tolist() == tables.lines["order_key"].tolist()


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


MONEY_HEADER = "order_id,email,order_date,sku,quantity,unit_price,line_total,total\n"


def money_tables_of(rows: str):
    return chunk_tables(ingest_bytes((MONEY_HEADER + rows).encode()).frame)


def one_order_of(line_totals: list[str]) -> str:
    return "".join(f"G1,gil@example.com,2024-02-01,S{i},1,{amount},{amount},\n"
                   for i, amount in enumerate(line_totals))


@pytest.mark.parametrize(
    ("line_totals", "gross_total"),
    [
        (["4.00", "5.50"], "9.50"),
        (["1.5", "2.5"], "4.0"),  # the sum keeps the digits its amounts were written with
        (["1.5", "1.25"], "2.75"),
        (["0.125", "0.0625", "2"], "2.1875"),
        # Too many digits to add as 64-bit integers: added as Decimals instead.
        (["12345678901.123456789", "12345678901.123456789"], "24691357802.246913578"),
    ],
)
def test_an_orders_gross_total_is_the_exact_decimal_sum_of_its_lines(
    line_totals: list[str], gross_total: str
) -> None:
    tables = money_tables_of(one_order_of(line_totals))

    assert str(tables.orders.loc[0, "gross_total"]) == gross_total


def test_equal_amounts_written_differently_keep_their_own_digits() -> None:
    tables = money_tables_of(
        "H1,hal@example.com,2024-02-01,S1,1,1.5,1.5,\n"
        "H2,hal@example.com,2024-02-02,S1,1,1.50,1.50,\n"
    )

    assert [str(total) for total in tables.orders["gross_total"]] == ["1.5", "1.50"]
    assert [str(price) for price in tables.lines["unit_price"]] == ["1.5", "1.50"]


def test_returned_free_items_sum_to_a_signed_zero_and_return_nothing() -> None:
    # 0.00 * -1 is Decimal("-0.00"); Decimal addition keeps the sign of two such zeros.
    tables = money_tables_of(
        "R1,rae@example.com,2024-03-01,S1,-1,0.00,,\n"
        "R1,rae@example.com,2024-03-01,S1,-1,0.00,,\n"
    )

    assert str(tables.lines.loc[0, "line_total"]) == "-0.00"
    assert str(tables.orders.loc[0, "returned"]) == "0.00"


def test_sums_round_as_decimal_addition_does_under_a_narrower_context() -> None:
    frame = ingest_bytes((MONEY_HEADER + one_order_of(["123.4", "0.56", "0.01"])).encode()).frame

    with decimal.localcontext(prec=4):
        tables = chunk_tables(frame)

    # Four digits, left to right: 123.4 + 0.56 = 124.0, + 0.01 = 124.0.
    assert str(tables.orders.loc[0, "gross_total"]) == "124.0"


def test_a_chunk_without_line_amounts_takes_each_orders_total_or_zero() -> None:
    frame = ingest_bytes((MONEY_HEADER + (
        "M1,mo@example.com,2024-04-01,S1,1,2.00,2.00,30.00\n"
        "M2,mo@example.com,2024-04-02,S1,1,2.00,2.00,\n"
    )).encode()).frame

    # As the reader leaves them for rows whose only money is their order's total.
    tables = chunk_tables(frame.assign(line_total=None))

    orders = tables.orders.set_index("order_key")
    assert orders["gross_total"].to_dict() == {"M1": Decimal("30.00"), "M2": Decimal(0)}
    assert orders["order_total"].to_dict() == {"M1": Decimal("30.00"), "M2": None}
    # The products stay, as unpriced lines: no share of the total is made up for them.
    assert tuple(tables.lines.columns) == LINE_COLUMNS
    assert tables.lines["order_key"].tolist() == ["M1", "M2"]
    assert tables.lines["line_total"].tolist() == [None, None]


def test_skus_that_share_the_characters_kept_become_one_product() -> None:
    stem = "S" * TEXT_LIMITS["sku_key"]
    tables = tables_of(
        f"K1,kim@example.com,Kim,Ho,Oslo,2024-05-01,{stem}A,Pot,Ware,1,2.00\n"
        f"K1,kim@example.com,Kim,Ho,Oslo,2024-05-01,{stem}B,Pot,Ware,2,2.00\n"
    )

    assert tables.products["sku_key"].tolist() == [stem]
    assert tables.lines[["sku_key", "quantity"]].values.tolist() == [[stem, 3]]
    assert tables.lines.loc[0, "line_total"] == Decimal("6.00")


def test_order_totals_net_returns_and_refunds_and_a_cancelled_order_is_worth_nothing() -> None:
    gross, net = order_totals(
        gross=np.array([Decimal("10.50"), Decimal(7), Decimal("3.00"), None], dtype=object),
        priced=np.array([True, True, True, False]),
        returned=np.array([Decimal("2.25"), 0, 0, None], dtype=object),
        order_total=np.array([None, None, None, Decimal("40.00")], dtype=object),
        refunded=np.array([Decimal(1), None, None, Decimal(5)], dtype=object),
        cancelled=np.array([False, False, True, False]),
    )

    assert gross.tolist() == [Decimal("10.50"), Decimal(7), Decimal("3.00"), Decimal("40.00")]
    assert net.tolist() == [Decimal("7.25"), Decimal(7), Decimal(0), Decimal("35.00")]


def test_a_refund_takes_an_order_down_to_zero_at_most_and_a_return_keeps_its_value() -> None:
    gross, net = order_totals(
        # goods 20 refunded 24.90 with shipping; goods 100 refunded 85 (a discount larger
        # than shipping and tax); goods 30 less a 10 return, refunded 25; a partial refund
        # inside the goods; a return exported on its own, without and with a refund.
        gross=np.array([Decimal("20.00"), Decimal(100), Decimal(30), Decimal("50.00"),
                        Decimal(0), Decimal(0)], dtype=object),
        priced=np.array([True] * 6),
        returned=np.array([None, None, Decimal(10), None, Decimal(10), Decimal(10)], dtype=object),
        order_total=np.array([None] * 6, dtype=object),
        refunded=np.array([Decimal("24.90"), Decimal(85), Decimal(25), Decimal("12.50"), None,
                           Decimal(10)], dtype=object),
        cancelled=np.array([False] * 6),
    )

    assert gross.tolist() == [Decimal("20.00"), Decimal(100), Decimal(30), Decimal("50.00"),
                              Decimal(0), Decimal(0)]
    assert net.tolist() == [Decimal(0), Decimal(15), Decimal(0), Decimal("37.50"),
                            Decimal(-10), Decimal(-10)]


def test_the_orders_refunded_more_than_their_goods_are_those_the_refund_took_to_zero() -> None:
    above = refunds_above_goods(
        gross=np.array([Decimal("20.00"), Decimal(100), Decimal(30), Decimal(20), Decimal(0),
                        Decimal(20)], dtype=object),
        returned=np.array([Decimal(0), Decimal(0), Decimal(10), Decimal(0), Decimal(10),
                           Decimal(0)], dtype=object),
        refunded=np.array([Decimal("24.90"), Decimal(85), Decimal(25), Decimal(20), Decimal(10),
                           Decimal(30)], dtype=object),
        cancelled=np.array([False, False, False, False, False, True]),
    )

    # A refund of exactly the goods is not above them; a cancelled order counts 0 anyway.
    assert above.tolist() == [True, False, True, False, True, False]


def test_rows_without_a_product_keep_their_quantity_and_amounts_on_their_order() -> None:
    frame = ingest_bytes(b"Customer No.,Order Date,Qty,Sales ($)\n"
                         b"00002,1997-01-12,1,12.00\n"
                         b"00002,1997-01-12,5,77.00\n"
                         b"00002,1997-01-12,-2,10.00\n"
                         b"00003,1997-01-02,2,20.76\n").frame

    tables = chunk_tables(frame)

    orders = tables.orders.set_index("customer_key")
    assert orders.loc["id:00002", "unlisted_quantity"] == 4
    assert orders.loc["id:00002", "unlisted_gross"] == Decimal("89.00")
    assert orders.loc["id:00002", "unlisted_returned"] == Decimal("10.00")
    assert orders.loc["id:00002", "net_total"] == Decimal("79.00")
    assert pd.isna(orders.loc["id:00003", "unlisted_returned"])
    assert len(tables.lines) == 0
