from __future__ import annotations

import pytest

from ingest.pipeline.dialect import detect_dialect


@pytest.mark.parametrize(
    ("sample", "delimiter", "decimal_comma"),
    [
        ("email,total\na@b.c,12.50\nb@b.c,3.00\n", ",", False),
        ("email;total\na@b.c;12,50\nb@b.c;1.234,00\n", ";", True),
        ("email;total\na@b.c;12.50\nb@b.c;3.00\n", ";", False),
        ("email\ttotal\tnote\na@b.c\t12.50\tx, y\nb@b.c\t3.00\tz\n", "\t", False),
        ("email|total\na@b.c|12.50\nb@b.c|3\n", "|", False),
        ('name,total\n"Lee, Ann","12,50"\n"Ray, Bob","3,99"\n', ",", True),
        ("name;note\nAnn;a, b, c, d\nBob;e, f\n", ";", False),
        # Only whole amounts grouped by dots: in a ";" file (Excel's list separator where
        # the comma is the decimal mark) "1.200" is twelve hundred, not 1.2.
        ("email;total\na@b.c;1.200\nb@b.c;850\n", ";", True),
        # The same cells in a "," file stay undecided: read with a point, shown on the
        # mapping page for the owner to change.
        ("email,total\na@b.c,1.200\nb@b.c,850\n", ",", False),
        # One amount that can only be read with a point outweighs the grouped ones.
        ("email;total\na@b.c;1.200\nb@b.c;12.50\n", ";", False),
    ],
)
def test_delimiter_and_decimal_comma_are_detected(
    sample: str, delimiter: str, decimal_comma: bool
) -> None:
    dialect = detect_dialect(sample, complete=True)
    assert (dialect.delimiter, dialect.decimal_comma) == (delimiter, decimal_comma)


def test_a_truncated_last_sample_line_does_not_confuse_detection() -> None:
    sample = "a;b;c\n" + "1;2;3\n" * 50 + "4;5"
    assert detect_dialect(sample).delimiter == ";"
