from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.pipeline.errors import RowError
from ingest.pipeline.parsing import (
    AMBIGUOUS_DATE,
    DAY_FIRST,
    EITHER_WAY,
    MONTH_FIRST,
    NOT_ASKED,
    clean_text,
    date_order_shown,
    parse_bool,
    parse_datetime,
    parse_email,
    parse_money,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("12.50", False, "12.50"),
        ("$1,234.50", False, "1234.50"),
        ("€ 9,99", False, "9.99"),
        ("1.234,50", False, "1234.50"),
        ("1.234,50", True, "1234.50"),
        ("12,5", True, "12.5"),
        ("(12.50)", False, "-12.50"),
        ("12.50-", False, "-12.50"),
        ("1 234,00 EUR", True, "1234.00"),
        ("CHF 1'250.00", False, "1250.00"),
        ("1.5E+2", False, "150"),
        ("", False, None),
        # Written with a dot in a decimal-comma file: one way to read it, never 1.23456.
        ("$1,234.56", True, "1234.56"),
        ("1,234,567.89", True, "1234567.89"),
        ("1.234", True, "1234"),
        ("0.125", True, "0.125"),  # a leading 0 is never a thousands group
    ],
)
def test_money_is_parsed_to_exact_decimals(
    text: str, decimal_comma: bool, expected: str | None
) -> None:
    value = parse_money(text, decimal_comma=decimal_comma).value
    assert value == (Decimal(expected) if expected is not None else None)
    assert value is None or str(value) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", "amount 'NaN' is not a number"),
        ("inf", "amount 'inf' is not a finite number"),
        ("-Infinity", "is not a finite number"),
        ("1e309", "amount '1e309' is out of range"),
        ("12.50.3", "is not a number"),
        ("abc", "is not a number"),
    ],
)
def test_impossible_money_is_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_money(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(("text", "expected"), [("3", 3), ("-2", -2), ("4.0", 4), ("1,000", 1000)])
def test_quantities_are_whole_numbers_and_negative_means_return(text: str, expected: int) -> None:
    assert parse_quantity(text).value == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "quantity is zero"),
        ("2.5", "not a whole number"),
        ("", "quantity is missing"),
        ("NaN", "not a number"),
    ],
)
def test_unusable_quantities_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_quantity(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("text", "dayfirst", "tz", "expected"),
    [
        ("2023-01-15", False, "UTC", datetime(2023, 1, 15, tzinfo=UTC)),
        ("2023-01-15T10:00:00Z", False, "Europe/Berlin", datetime(2023, 1, 15, 10, tzinfo=UTC)),
        ("2011-12-09 12:50:00 +0100", False, "UTC", datetime(2011, 12, 9, 11, 50, tzinfo=UTC)),
        (
            "2023-07-01T12:00:00.123+02:00",
            False,
            "UTC",
            datetime(2023, 7, 1, 10, 0, 0, 123000, tzinfo=UTC),
        ),
        ("12/1/2010 8:26", False, "UTC", datetime(2010, 12, 1, 8, 26, tzinfo=UTC)),
        ("12/1/2010 8:26", True, "UTC", datetime(2010, 1, 12, 8, 26, tzinfo=UTC)),
        ("13/1/2010", False, "UTC", datetime(2010, 1, 13, tzinfo=UTC)),
        ("01.12.2010", False, "UTC", datetime(2010, 12, 1, tzinfo=UTC)),
        ("20230115", False, "UTC", datetime(2023, 1, 15, tzinfo=UTC)),
        ("1/2/2024 3:15 PM", False, "UTC", datetime(2024, 1, 2, 15, 15, tzinfo=UTC)),
        ("Dec 9, 2011", False, "UTC", datetime(2011, 12, 9, tzinfo=UTC)),
        ("45000", False, "UTC", datetime(2023, 3, 15, tzinfo=UTC)),
        # Naive wall-clock times are the shop's local time: 10:00 in Berlin summer is 08:00 UTC.
        ("2023-07-01 10:00", False, "Europe/Berlin", datetime(2023, 7, 1, 8, tzinfo=UTC)),
        ("2023-01-01 10:00", False, "America/New_York", datetime(2023, 1, 1, 15, tzinfo=UTC)),
        # Month names as exports and spreadsheets write them.
        ("5-Mar-24", False, "UTC", datetime(2024, 3, 5, tzinfo=UTC)),  # Excel d-mmm-yy
        ("05-Mar-2024", False, "UTC", datetime(2024, 3, 5, tzinfo=UTC)),
        ("Jan-15-24", False, "UTC", datetime(2024, 1, 15, tzinfo=UTC)),  # eBay
        ("Mar 5, 2024 2:05:00 PM", False, "UTC", datetime(2024, 3, 5, 14, 5, tzinfo=UTC)),
        ("5 March 2024 14:05", False, "UTC", datetime(2024, 3, 5, 14, 5, tzinfo=UTC)),
        ("March 5th, 2024", False, "UTC", datetime(2024, 3, 5, tzinfo=UTC)),
        ("Tuesday, March 5, 2024", False, "UTC", datetime(2024, 3, 5, tzinfo=UTC)),
        ("Sept. 5, 2024", False, "UTC", datetime(2024, 9, 5, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 14:05:00 +0100", False, "UTC", datetime(2024, 3, 5, 13, 5, tzinfo=UTC)),
        ("2024年3月5日", False, "UTC", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024年3月5日 14:05", False, "Asia/Shanghai", datetime(2024, 3, 5, 6, 5, tzinfo=UTC)),
    ],
)
def test_dates_in_real_export_formats_become_utc(
    text: str, dayfirst: bool, tz: str, expected: datetime
) -> None:
    assert parse_datetime(text, dayfirst=dayfirst, tz=tz).value == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-02-30", "order date '2023-02-30' is not a real date"),
        ("31/04/2023", "is not a real date"),
        ("2023-01-01 25:00", "impossible time"),
        ("1899-12-31", "is outside 1970-2100"),
        ("yesterday", "is not a date we can read"),
        ("Foo 5, 2024", "is not a date we can read"),
        ("31-Feb-2024", "is not a real date"),
    ],
)
def test_impossible_dates_are_rejected_with_the_value_in_the_reason(text: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_datetime(text)
    assert reason in caught.value.reason


def test_emails_are_trimmed_and_lowercased_with_notes() -> None:
    parsed = parse_email("  Ann.Lee@Example.COM ")
    assert parsed.value == "ann.lee@example.com"
    assert parsed.notes == ("trimmed email whitespace", "lowercased email")
    assert parse_email("").value is None


@pytest.mark.parametrize("text", ["Anna Müller <Anna@Example.de>", '"Müller, Anna" <anna@example.de>',
                                  "<anna@example.de>"])
def test_an_address_written_with_its_name_as_mail_writes_it_is_read(text: str) -> None:
    assert parse_email(text).value == "anna@example.de"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Anna <anna@example.de>, Bob <bob@example.de>", "is not a valid address"),
        ("Anna <anna@example.de> Bcc", "is not a valid address"),
        ("a@example.com\r\nBcc: b@example.com", "line break or control character"),
        ("a@example.com\n", "line break or control character"),
        ("a\x00@example.com", "line break or control character"),
        ("not-an-email", "is not a valid address"),
        ("a@b", "is not a valid address"),
        ("a b@example.com", "is not a valid address"),
    ],
)
def test_broken_or_hostile_emails_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_email(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+1", "-2+3", "\tTab"]
)
def test_formula_like_names_are_kept_literally_and_noted(text: str) -> None:
    parsed = clean_text(text, label="name")
    assert parsed.value == text.strip()
    assert "name starts like a spreadsheet formula" in parsed.notes


def test_names_lose_control_characters_and_extra_spaces() -> None:
    parsed = clean_text("  Ann\u200b  \x07Lee ", label="name")
    assert parsed.value == "Ann Lee"
    assert set(parsed.notes) == {"removed control characters from name", "trimmed name whitespace"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("TRUE", True),
        ("1", True),
        ("subscribed", True),
        ("ja", True),
        ("no", False),
        ("false", False),
        ("0", False),
        ("unsubscribed", False),
        ("", None),
        ("maybe", None),
    ],
)
def test_marketing_consent_flags_are_read(text: str, expected: bool | None) -> None:
    assert parse_bool(text).value is expected


def test_an_ambiguous_date_read_month_first_for_want_of_a_choice_is_noted() -> None:
    unknown = parse_datetime("03/05/2024", dayfirst=None)
    chosen = parse_datetime("03/05/2024", dayfirst=False)

    assert unknown.value == chosen.value == datetime(2024, 3, 5, tzinfo=UTC)
    assert unknown.notes == (AMBIGUOUS_DATE,) and chosen.notes == ()
    assert parse_datetime("04/04/2024", dayfirst=None).notes == ()  # the same either way
    assert parse_datetime("13/05/2024", dayfirst=None).notes == ()


@pytest.mark.parametrize(
    ("text", "shown"),
    [("13/03/2024", DAY_FIRST), ("3-13-2024 10:00", MONTH_FIRST), ("03/05/2024", EITHER_WAY),
     ("13.03.2024", NOT_ASKED), ("2024-03-13", NOT_ASKED), ("not a date", NOT_ASKED)],
)
def test_only_a_date_with_a_part_over_twelve_shows_the_files_date_order(
    text: str, shown: str
) -> None:
    assert date_order_shown(text) == shown
