from __future__ import annotations

import csv
import io

from ingest.pipeline.rejects import neutralise_cell, write_rejects
from ingest.pipeline.rows import Rejection


def test_rejected_rows_are_written_with_line_reason_and_original_fields() -> None:
    out = io.StringIO()
    count = write_rejects(
        [
            Rejection(
                line_no=4, reason="quantity is zero", raw={"email": "a@example.com", "qty": "0"}
            ),
            Rejection(line_no=9, reason="a quoted field is never closed", raw='9,"broken\n'),
        ],
        out,
        ["email", "qty"],
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))

    assert count == 2
    assert rows == [
        ["line", "reason", "email", "qty", "raw line"],
        ["4", "quantity is zero", "a@example.com", "0", ""],
        ["9", "a quoted field is never closed", "", "", '9,"broken'],
    ]


def test_formula_cells_are_neutralised_but_plain_negative_numbers_are_not() -> None:
    out = io.StringIO()
    write_rejects(
        [
            Rejection(
                line_no=2,
                reason="=evil",
                raw={
                    "name": '=HYPERLINK("x")',
                    "note": "@SUM(A1)",
                    "qty": "-2",
                    "tab": "\tx",
                    "cmd": "-2+3+cmd|' /C calc'!A0",
                },
            )
        ],
        out,
        ["name", "note", "qty", "tab", "cmd"],
    )
    row = list(csv.reader(io.StringIO(out.getvalue())))[1]

    assert row == [
        "2",
        "'=evil",
        '\'=HYPERLINK("x")',
        "'@SUM(A1)",
        "-2",
        "'\tx",
        "'-2+3+cmd|' /C calc'!A0",
        "",
    ]
    assert neutralise_cell("+49 30 1234") == "'+49 30 1234"


def test_the_files_own_header_cells_are_neutralised_too() -> None:
    out = io.StringIO()
    headers = ['=HYPERLINK("https://evil.example","x")', "+cmd|' /C calc'!A0", "email"]
    write_rejects([Rejection(line_no=2, reason="bad", raw={"email": "a@example.com"})],
                  out, headers)

    header = next(csv.reader(io.StringIO(out.getvalue())))

    assert header == ["line", "reason", "'" + headers[0], "'" + headers[1], "email", "raw line"]
