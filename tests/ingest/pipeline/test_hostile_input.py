from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import pytest

from ingest.pipeline.errors import PipelineError
from tests.ingest.pipeline.helpers import GOOD_1, GOOD_2, HEADER, ingest_bytes

GOOD_ORDERS = {"1001", "1002"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Case:
    id: str
    data: bytes
    name: str = "orders.csv"
    limit: int = 50 * 1024**2
    # A whole-file refusal: its message must contain this.
    error: str | None = None
    # Otherwise: each rejection reason must contain one of these, in file order...
    reasons: tuple[str, ...] = ()
    # ...these cleaning notes must appear...
    notes: tuple[str, ...] = ()
    # ...duplicate headers must be reported as renamed...
    renamed: tuple[str, ...] = ()
    # ...and these orders must still be loaded.
    orders: set[str] = field(default_factory=lambda: set(GOOD_ORDERS))


def _csv(*middle: str, header: str = HEADER) -> bytes:
    return (header + GOOD_1 + "".join(middle) + GOOD_2).encode("utf-8")


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry, content in entries.items():
            archive.writestr(entry, content)
    return buffer.getvalue()


CASES: tuple[Case, ...] = (
    Case(id="empty file", data=b"", error="The file is empty"),
    Case(id="header only", data=HEADER.encode(), error="header row but no data rows"),
    Case(id="png renamed to csv", data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, error="PNG image"),
    Case(
        id="no customer column",
        data=b"order_id,ordered_at,total\n1,2024-01-01,5.00\n",
        error="customer_email or customer_id",
    ),
    Case(id="utf-16 with bom", data=_csv().decode().encode("utf-16")),
    Case(id="utf-16-le without bom", data=_csv().decode().encode("utf-16-le")),
    Case(
        id="gbk chinese headers",
        data=(
            "订单号,邮箱,客户名称,日期,数量,单价\n"
            "1001,ann@example.com,张伟,2024-01-05,2,12.50\n"
            "1002,bob@example.com,李娜,2024-01-06,1,5.00\n"
        ).encode("gbk"),
    ),
    Case(id="utf-8 bom", data=b"\xef\xbb\xbf" + _csv()),
    Case(
        id="mixed line endings",
        data=(HEADER.rstrip("\n") + "\r\n" + GOOD_1.rstrip("\n") + "\r" + GOOD_2).encode(),
    ),
    Case(
        id="unterminated quote at the end",
        data=(
            HEADER + GOOD_1 + GOOD_2 + '1003,"carl@example.com,Carl,2024-01-07,X,1,2.00\n'
        ).encode(),
        reasons=("never closed",),
    ),
    Case(
        id="ten megabyte field",
        data=_csv("1003,dan@example.com,Dan," + "x" * 10_000_000 + ",X,1,2.00\n"),
        reasons=("longer than 1,000,000 characters",),
    ),
    Case(
        id="five thousand columns in the header",
        data=(",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n").encode(),
        error="5,000 columns",
    ),
    Case(
        id="five thousand fields in a row",
        data=_csv(",".join(["9"] * 5000) + "\n"),
        reasons=("5,000 fields",),
    ),
    Case(
        id="duplicate header names",
        data=(
            "order_id,email,name,ordered_at,sku,quantity,unit_price,name\n"
            + GOOD_1.replace("\n", ",dup\n")
            + GOOD_2.replace("\n", ",dup\n")
        ).encode(),
        renamed=("column 8 is now 'name (2)'",),
    ),
    Case(
        id="formulas in names",
        data=_csv(
            '1003,c@example.com,"=HYPERLINK(""http://evil.example"",""x"")",2024-01-07,X,1,2.00\n',
            "1004,d@example.com,@SUM(A1:A9),2024-01-07,X,1,2.00\n",
            "1005,e@example.com,\tTab Name,2024-01-07,X,1,2.00\n",
        ),
        notes=("name starts like a spreadsheet formula",),
        orders=GOOD_ORDERS | {"1003", "1004", "1005"},
    ),
    Case(
        id="nan inf and 1e309 prices",
        data=_csv(
            "1003,c@example.com,C,2024-01-07,X,1,NaN\n",
            "1004,d@example.com,D,2024-01-07,X,1,inf\n",
            "1005,e@example.com,E,2024-01-07,X,1,1e309\n",
        ),
        reasons=("is not a number", "is not a finite number", "is out of range"),
    ),
    Case(
        id="negative and zero quantities",
        data=_csv(
            "1003,c@example.com,C,2024-01-07,X,-1,2.00\n",
            "1004,d@example.com,D,2024-01-07,X,0,2.00\n",
        ),
        reasons=("quantity is zero",),
        orders=GOOD_ORDERS | {"1003"},
    ),
    Case(
        id="impossible date",
        data=_csv("1003,c@example.com,C,2023-02-30,X,1,2.00\n"),
        reasons=("order date '2023-02-30' is not a real date",),
    ),
    Case(
        id="mixed date formats in one column",
        data=_csv(
            "1003,c@example.com,C,01/13/2024 9:30,X,1,2.00\n",
            "1004,d@example.com,D,14.01.2024,X,1,2.00\n",
            "1005,e@example.com,E,20240115,X,1,2.00\n",
            "1006,f@example.com,F,2024-01-16T08:00:00+01:00,X,1,2.00\n",
        ),
        orders=GOOD_ORDERS | {"1003", "1004", "1005", "1006"},
    ),
    Case(
        id="email with a line break",
        data=_csv('1003,"c@example.com\r\nBcc: all@example.com",C,2024-01-07,X,1,2.00\n'),
        reasons=("line break",),
    ),
    Case(
        id="conflicting duplicates of one order id",
        data=_csv("1001,mallory@example.com,M,2024-01-05 10:00,COF-2,1,1.00\n"),
        reasons=("order '1001' already belongs to customer 'ann@example.com' (line 2)",),
    ),
    Case(
        id="zip with a parent-directory entry",
        name="orders.zip",
        data=_zip({"../evil.csv": _csv()}),
        error="unsafe entry name '../evil.csv'",
    ),
    Case(
        id="zip with an absolute entry",
        name="orders.zip",
        data=_zip({"/etc/orders.csv": _csv()}),
        error="unsafe entry name",
    ),
    Case(
        id="zip bomb",
        name="orders.zip",
        data=_zip({"orders.csv": b"0" * (40 * 1024**2)}),
        error="decompression bomb",
    ),
    Case(
        id="zip with two csv files",
        name="orders.zip",
        data=_zip({"a.csv": _csv(), "b.csv": _csv()}),
        error="exactly one CSV file",
    ),
    Case(
        id="one byte over the limit",
        data=b"x" * (1024**2 + 1),
        limit=1024**2,
        error="The file is 1.0 MB plus 1 byte; the limit is 1 MB",
    ),
    Case(id="php double extension", name="x.csv.php", data=_csv(), error="ends in '.php'"),
    Case(
        id="percent-encoded nul in the name",
        name="orders%00.csv",
        data=_csv(),
        error="encoded characters",
    ),
    Case(id="nul in the name", name="orders\x00.csv", data=_csv(), error="NUL"),
)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_a_clear_message_and_good_rows_survive(case: Case) -> None:
    if case.error is not None:
        with pytest.raises(PipelineError) as caught:
            ingest_bytes(case.data, case.name, limit=case.limit)
        assert case.error in caught.value.reason
        return

    outcome = ingest_bytes(case.data, case.name, limit=case.limit)

    assert case.orders <= set(outcome.frame["order_key"])
    assert len(outcome.rejections) == len(case.reasons)
    for rejection, expected in zip(outcome.rejections, case.reasons):
        assert expected in rejection.reason
        assert rejection.line_no > 1
    for expected_rename in case.renamed:
        assert any(expected_rename in r for r in outcome.proposed.renamed_duplicates)
    for note in case.notes:
        assert outcome.notes[note] > 0
    good = outcome.frame.set_index("order_key").loc["1001"]
    assert good["customer_key"] == "ann@example.com"
    assert str(good["line_total"]) == "25.00"
