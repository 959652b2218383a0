"""Value parsers: one raw cell in, a typed value plus cleaning notes out, or `RowError`.

Parsers are pure and cached (exports repeat the same prices and timestamps on
many lines), so they must never return mutable values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.pipeline.errors import RowError, gettext_noop

T = TypeVar("T")

MAX_AMOUNT = Decimal(10) ** 12
MAX_QUANTITY = 1_000_000
MAX_TEXT = 1000
EARLIEST_YEAR = 1970
LATEST_YEAR = 2100
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The labels a row's reason names its value by (the `field` of a RowError: a word the
# page translates). Callers pass their own: "unit price", "event time"...
_QUANTITY = gettext_noop("quantity")
_EMAIL_LABEL = gettext_noop("email")


@dataclass(frozen=True, kw_only=True, slots=True)
class Parsed(Generic[T]):
    """A parsed value and what cleaning it took (empty when the cell was already clean)."""

    value: T
    notes: tuple[str, ...] = ()


def _show(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


# --- money -------------------------------------------------------------------------------

_CURRENCY = re.compile(
    r"(?i)(?:us\$|r\$|c\$|a\$|hk\$|\b(?:usd|eur|gbp|cny|rmb|jpy|chf|cad|aud|nzd|sek|nok|dkk|pln|czk|huf|hkd|sgd|inr)\b|[€$£¥￥₹₩₽元]|\bkr\b\.?|\brs\b\.?|zł)"
)
# Any other ISO 4217 code, written in capitals before or after the number ("7.00 MXN").
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}(?=[\s\d(+\-\u2212.])|(?<=[\s\d.)])[A-Z]{3}$")
# Swiss and Liechtenstein group thousands with an apostrophe, typed or typographic (’).
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'\u2019]")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
# "1,234.56", and India's lakh grouping "1,23,456.00". Never "0,125": no thousands
# grouping starts with a zero group.
_THOUSANDS_COMMA = re.compile(r"(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d?(?:,\d{2})+,\d{3})(?:\.\d+)?")
_ZERO_COMMA_DECIMAL = re.compile(r"0,\d+")
_SHORT_COMMA_DECIMAL = re.compile(r"\d+,\d{1,2}")
_NOT_A_NUMBER = {"nan", "-nan", "+nan", "null", "#n/a", "#value!", "#div/0!"}
_INFINITE = {"inf", "-inf", "+inf", "infinity", "-infinity", "+infinity", "∞", "-∞"}


def parse_money(
    text: str, *, decimal_comma: bool = False, label: str = gettext_noop("amount")
) -> Parsed[Decimal | None]:
    """Parse a money amount to Decimal: currency symbols, thousands separators, `(12.50)` negatives."""
    return _parse_money(text, decimal_comma, label)


@lru_cache(maxsize=65536)
def _parse_money(text: str, decimal_comma: bool, label: str) -> Parsed[Decimal | None]:
    s = text.strip()
    if not s:
        return Parsed(value=None)
    lowered = s.lower()
    if lowered in _NOT_A_NUMBER:
        raise RowError(gettext_noop("%(field)s %(value)s is not a number"), field=label,
                       value=_show(text))
    if lowered in _INFINITE:
        raise RowError(gettext_noop("%(field)s %(value)s is not a finite number"),
                       field=label, value=_show(text))
    notes: list[str] = []
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
        notes.append("read (parentheses) as a negative amount")
    stripped = _CURRENCY_CODE.sub("", _CURRENCY.sub("", s).strip())
    if stripped != s.strip():
        notes.append("stripped currency symbol")
    s = _SPACES.sub("", stripped).replace("\u2212", "-")
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    elif s.endswith("-"):
        negative, s = not negative, s[:-1]
    elif s.startswith("+"):
        s = s[1:]
    s = _normalise_separators(s, decimal_comma, notes)
    if not _PLAIN_NUMBER.fullmatch(s):
        raise RowError(gettext_noop("%(field)s %(value)s is not a number"), field=label,
                       value=_show(text))
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the regex above already guards this
        raise RowError(gettext_noop("%(field)s %(value)s is not a number"), field=label,
                       value=_show(text)) from exc
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise RowError(gettext_noop("%(field)s %(value)s is out of range"), field=label,
                       value=_show(text))
    if "e" in s.lower():
        value = Decimal(format(value, "f"))
    return Parsed(value=-value if negative else value, notes=tuple(notes))


def _normalise_separators(s: str, decimal_comma: bool, notes: list[str]) -> str:
    if "," not in s:
        # "0.125" is never a thousands grouping, whatever the file's decimal mark.
        if decimal_comma and s.count(".") >= 1 and re.fullmatch(r"[1-9]\d{0,2}(?:\.\d{3})+", s):
            notes.append("removed thousands separators")
            return s.replace(".", "")
        return s
    if decimal_comma and "." in s and s.rfind(".") > s.rfind(",") and _THOUSANDS_COMMA.fullmatch(s):
        # "$1,234.56" in a decimal-comma file: written the other way, and only one way
        # to read it. Taken as decimal commas it would be 1.23456.
        notes.append("removed thousands separators")
        return s.replace(",", "")
    if decimal_comma:
        notes.append("decimal comma converted")
        return s.replace(".", "").replace(",", ".")
    if "." in s and s.rfind(",") > s.rfind("."):
        # "1.234,50": the last separator is the decimal one.
        notes.append("decimal comma converted")
        return s.replace(".", "").replace(",", ".")
    if _THOUSANDS_COMMA.fullmatch(s):
        notes.append("removed thousands separators")
        return s.replace(",", "")
    if _SHORT_COMMA_DECIMAL.fullmatch(s) or _ZERO_COMMA_DECIMAL.fullmatch(s):
        notes.append("decimal comma converted")
        return s.replace(",", ".")
    return s  # fails the number check with a clear message


# --- quantity ----------------------------------------------------------------------------


def parse_quantity(text: str, *, decimal_comma: bool = False) -> Parsed[int]:
    """Parse a whole, non-zero quantity; negative means a returned item."""
    return _parse_quantity(text, decimal_comma)


# Cached functions take positional arguments only: keyword arguments make lru_cache
# keys slower to build, and these run several times per row.
@lru_cache(maxsize=4096)
def _parse_quantity(text: str, decimal_comma: bool) -> Parsed[int]:
    s = text.strip()
    if not s:
        raise RowError(gettext_noop("quantity is missing"))
    try:
        parsed = _parse_money(s, decimal_comma, _QUANTITY)
    except RowError as exc:
        raise exc.with_traceback(None) from None
    value = parsed.value
    assert value is not None  # s is non-empty
    if value != value.to_integral_value():
        raise RowError(gettext_noop("%(field)s %(value)s is not a whole number"),
                       field=_QUANTITY, value=_show(text))
    if value == 0:
        raise RowError(gettext_noop("quantity is zero"))
    if abs(value) > MAX_QUANTITY:
        raise RowError(gettext_noop("%(field)s %(value)s is out of range"), field=_QUANTITY,
                       value=_show(text))
    notes = tuple(n for n in parsed.notes if n != "stripped currency symbol")
    return Parsed(value=int(value), notes=notes)


# --- dates -------------------------------------------------------------------------------

_TIME = (
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
)
_OFFSET = r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?"
_YMD = re.compile(
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _TIME + _OFFSET
)
_XYZ = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME + _OFFSET
)
_COMPACT = re.compile(
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[T\s]?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?"
)
_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
# Month names in English, as exports write them: "5-Mar-24" (Excel's d-mmm-yy),
# "Jan-15-24" (eBay), "Mar 5, 2024 2:05:00 PM" (Magento), "Tue, 05 Mar 2024 14:05:00
# +0000" (RFC 2822), "March 5th, 2024". Matched after commas become spaces.
_NAMED_MONTH = re.compile(
    r"(?i)(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s+)?"
    r"(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?[\s-](?P<mon1>[a-z]{3,9})\.?[\s-](?P<y1>\d{4}|\d{2})"
    r"|(?P<mon2>[a-z]{3,9})\.?[\s-](?P<d2>\d{1,2})(?:st|nd|rd|th)?[\s-](?P<y2>\d{4}|\d{2}))"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    + _OFFSET
)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_CJK_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日")


def _month_number(name: str | None) -> int | None:
    """1-12 for an English month name or its abbreviation ("Sep", "Sept."), else None."""
    lowered = (name or "").lower()
    for number, month in enumerate(_MONTHS, start=1):
        if len(lowered) >= 3 and month.startswith(lowered) or lowered == "sept" and number == 9:
            return number
    return None


_NAMED_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y %H:%M",
    "%d %b %Y %H:%M:%S",
    "%b %d %Y %H:%M",
    "%b %d %Y %H:%M:%S",
    "%a %b %d %Y",
    "%a %d %b %Y %H:%M:%S",
)


# An `03/05/2024` read month-first because nothing said which comes first.
AMBIGUOUS_DATE = "day and month could be either way: read month-first"


def parse_datetime(
    text: str, *, dayfirst: bool | None = False, tz: str = "UTC",
    label: str = gettext_noop("order date"),
) -> Parsed[datetime | None]:
    """Parse the date formats real exports use into an aware UTC datetime.

    Naive values are wall-clock times in the shop's time zone `tz`. Ambiguous
    `01/02/2023` follows `dayfirst`, or is read month-first with a note when it is
    None (unknown); unambiguous ones (13/01/2023) are read as written, so a column
    that mixes formats still parses value by value.
    """
    return _parse_datetime(text, dayfirst, tz, label)


# What one date says about the order of day and month.
DAY_FIRST, MONTH_FIRST, EITHER_WAY, NOT_ASKED = "day first", "month first", "either way", "not asked"


def date_order_shown(text: str) -> str:
    """DAY_FIRST for `13/03/2024`, MONTH_FIRST for `03/13/2024`, EITHER_WAY for
    `05/03/2024`, NOT_ASKED where the question does not arise (ISO, dotted, not a date)."""
    match = _XYZ.fullmatch(text.strip())
    if match is None or match["sep"] == ".":
        return NOT_ASKED  # dotted dates are always read day-first
    a, b = int(match["a"]), int(match["b"])
    if a > 12 >= b:
        return DAY_FIRST
    if b > 12 >= a:
        return MONTH_FIRST
    return EITHER_WAY


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@lru_cache(maxsize=131072)
def _parse_datetime(
    text: str, dayfirst: bool | None, tz: str, label: str
) -> Parsed[datetime | None]:
    s = text.strip()
    if not s:
        return Parsed(value=None)
    notes: list[str] = []
    if "年" in s:
        s = _CJK_DATE.sub(r"\1-\2-\3", s, count=1)  # "2024年3月5日" as 2024-3-5
    match = _YMD.fullmatch(s)
    if match:
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
    elif (match := _NAMED_MONTH.fullmatch(" ".join(s.replace(",", " ").split()))) and (
        _month_number(match["mon1"] or match["mon2"])
    ):
        m = _month_number(match["mon1"] or match["mon2"])
        d, y = int(match["d1"] or match["d2"]), int(match["y1"] or match["y2"])
        if y < 100:
            y += 2000 if y < 70 else 1900
            notes.append("two-digit year expanded")
    elif match := _XYZ.fullmatch(s):
        a, b, y = int(match["a"]), int(match["b"]), int(match["y"])
        if y < 100:
            y += 2000 if y < 70 else 1900
            notes.append("two-digit year expanded")
        if match["sep"] == "." or a > 12:
            d, m = a, b  # dotted dates are European; a first part over 12 must be the day
        elif b > 12:
            m, d = a, b
        elif dayfirst:
            d, m = a, b
        else:
            m, d = a, b
            if dayfirst is None and a != b:
                notes.append(AMBIGUOUS_DATE)
    elif match := _COMPACT.fullmatch(s):
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
    elif _EXCEL_SERIAL.fullmatch(s) and 20000 <= float(s) <= 80000:
        # Spreadsheet serial day (1899-12-30 epoch), what Excel leaves when a date column
        # loses its format.
        moment = datetime(1899, 12, 30) + timedelta(days=float(s))
        notes.append("converted spreadsheet date number")
        return Parsed(value=_localise(moment, tz), notes=tuple(notes))
    else:
        return _parse_named(s, text, tz, label)
    try:
        day = date(y, m, d)
    except ValueError:
        raise RowError(gettext_noop("%(field)s %(value)s is not a real date"), field=label,
                       value=_show(text)) from None
    if not EARLIEST_YEAR <= y <= LATEST_YEAR:
        raise RowError(gettext_noop("%(field)s %(value)s is outside %(first)s-%(last)s"), field=label,
                       value=_show(text), first=EARLIEST_YEAR, last=LATEST_YEAR)
    hour = minute = second = micro = 0
    groups = match.groupdict()
    if groups.get("H") is not None:
        hour, minute = int(groups["H"]), int(groups["M"])
        second = int(groups["S"] or 0)
        micro = int((groups.get("f") or "0")[:6].ljust(6, "0"))
        ampm = (groups.get("ampm") or "").lower().replace(".", "")
        if ampm:
            if not 1 <= hour <= 12:
                raise RowError(gettext_noop("%(field)s %(value)s has an impossible time"), field=label,
                       value=_show(text))
            hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        moment = datetime(day.year, day.month, day.day, hour, minute, second, micro)
    except ValueError:
        raise RowError(gettext_noop("%(field)s %(value)s has an impossible time"), field=label,
                       value=_show(text)) from None
    offset = groups.get("tz")
    if offset:
        return Parsed(
            value=moment.replace(tzinfo=_offset(offset)).astimezone(UTC), notes=tuple(notes)
        )
    return Parsed(value=_localise(moment, tz), notes=tuple(notes))


def _offset(token: str) -> timezone:
    if token in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if token[0] == "-" else 1
    digits = token[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _localise(moment: datetime, tz: str) -> datetime:
    # fold=0: an ambiguous autumn hour is read as the first occurrence, consistently.
    return moment.replace(tzinfo=_zone(tz)).astimezone(UTC)


def _parse_named(s: str, text: str, tz: str, label: str) -> Parsed[datetime | None]:
    cleaned = " ".join(s.replace(",", " ").split())
    for fmt in _NAMED_FORMATS:
        try:
            moment = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise RowError(gettext_noop("%(field)s %(value)s is outside %(first)s-%(last)s"), field=label,
                       value=_show(text), first=EARLIEST_YEAR, last=LATEST_YEAR)
        return Parsed(value=_localise(moment, tz))
    try:
        # Last resort for ISO variants the regexes do not cover (e.g. week dates).
        moment = datetime.fromisoformat(s)
    except ValueError:
        raise RowError(gettext_noop("%(field)s %(value)s is not a date we can read"), field=label,
                       value=_show(text)) from None
    if moment.tzinfo is None:
        return Parsed(value=_localise(moment, tz))
    return Parsed(value=moment.astimezone(UTC))


# --- text --------------------------------------------------------------------------------

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]"
)
_EMAIL = re.compile(r"[^@\s\"<>(),;:\\\[\]]+@[^@\s\"<>(),;:\\\[\]]+\.[^@\s\"<>(),;:\\\[\]]+")
_EMAIL_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_NAMED_ADDRESS = re.compile(r"[^<>@]*<([^<>]+)>")


@lru_cache(maxsize=65536)
def parse_email(text: str) -> Parsed[str | None]:
    """Trim and lowercase an address; refuse anything that could inject mail headers."""
    if _EMAIL_CONTROL.search(text.strip(" ")):
        # CR/LF in an address we later send to is a header-injection attempt, not a typo.
        raise RowError(gettext_noop("%(field)s %(value)s contains a line break or control character"),
                       field=_EMAIL_LABEL, value=_show(text))
    notes: list[str] = []
    s = text.strip()
    if s != text:
        notes.append("trimmed email whitespace")
    if s.lower().startswith("mailto:"):
        s = s[7:]
        notes.append("removed mailto: from email")
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1].strip()
    elif named := _NAMED_ADDRESS.fullmatch(s):  # "Anna Müller <anna@example.de>", as mail writes it
        s = named.group(1).strip()
        notes.append("took the address from a name and address")
    if not s:
        return Parsed(value=None, notes=tuple(notes))
    lowered = s.lower()
    if lowered != s:
        notes.append("lowercased email")
    if len(lowered) > 254 or not _EMAIL.fullmatch(lowered):
        raise RowError(gettext_noop("%(field)s %(value)s is not a valid address"), field=_EMAIL_LABEL,
                       value=_show(text))
    return Parsed(value=lowered, notes=tuple(notes))


def clean_text(text: str, *, label: str = "text") -> Parsed[str | None]:
    """Trim, collapse spaces and drop control characters; flag spreadsheet-formula starts.

    A leading `=`, `+`, `-`, `@`, tab or CR is kept as written (it may be a real
    name) but noted, so every export path knows to neutralise it.
    """
    return _clean_text(text, label)


@lru_cache(maxsize=65536)
def _clean_text(text: str, label: str) -> Parsed[str | None]:
    notes: list[str] = []
    if text.startswith(FORMULA_STARTS):
        notes.append(f"{label} starts like a spreadsheet formula")
    s = _CONTROL.sub("", text)
    if s != text:
        notes.append(f"removed control characters from {label}")
    collapsed = " ".join(s.split())
    if collapsed != s:
        notes.append(f"trimmed {label} whitespace")
    if len(collapsed) > MAX_TEXT:
        collapsed = collapsed[:MAX_TEXT]
        notes.append(f"shortened {label} to {MAX_TEXT} characters")
    collapsed = unicodedata.normalize("NFC", collapsed)
    return Parsed(value=collapsed or None, notes=tuple(notes))


_TRUE = {
    "yes",
    "y",
    "true",
    "t",
    "1",
    "subscribed",
    "opted in",
    "optin",
    "opt-in",
    "accepted",
    "ja",
    "j",
    "oui",
    "si",
    "sí",
    "是",
    "x",
    "checked",
    "on",
}
_FALSE = {
    "no",
    "n",
    "false",
    "f",
    "0",
    "unsubscribed",
    "not subscribed",
    "opted out",
    "optout",
    "opt-out",
    "declined",
    "nein",
    "non",
    "否",
    "unchecked",
    "off",
    "never subscribed",
}


@lru_cache(maxsize=256)
def parse_bool(text: str) -> Parsed[bool | None]:
    """Read a yes/no consent flag; unknown words become None with a note, never a rejection."""
    s = " ".join(text.strip().lower().split())
    if not s:
        return Parsed(value=None)
    if s in _TRUE:
        return Parsed(value=True)
    if s in _FALSE:
        return Parsed(value=False)
    return Parsed(value=None, notes=("unrecognised yes/no value treated as unknown",))


_GENDERS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "w": "female",
    "frau": "female",
    "weiblich": "female",
    "femme": "female",
    "mujer": "female",
    "女": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "herr": "male",
    "männlich": "male",
    "homme": "male",
    "hombre": "male",
    "男": "male",
    "other": "other",
    "diverse": "other",
    "divers": "other",
    "d": "other",
    "x": "other",
    "non-binary": "other",
    "nonbinary": "other",
}


@lru_cache(maxsize=256)
def parse_gender(text: str) -> Parsed[str | None]:
    s = text.strip().lower()
    if not s:
        return Parsed(value=None)
    value = _GENDERS.get(s)
    return Parsed(value=value, notes=() if value else ("unrecognised gender treated as unknown",))


@lru_cache(maxsize=256)
def parse_birth_year(text: str) -> Parsed[int | None]:
    s = text.strip()
    if not s:
        return Parsed(value=None)
    if re.fullmatch(r"\d{4}(?:\.0+)?", s) and 1900 <= int(s[:4]) <= 2025:
        return Parsed(value=int(s[:4]))
    return Parsed(value=None, notes=("implausible birth year treated as unknown",))


@lru_cache(maxsize=256)
def parse_currency(text: str) -> Parsed[str | None]:
    s = text.strip().upper()
    if not s:
        return Parsed(value=None)
    if re.fullmatch(r"[A-Z]{3}", s):
        return Parsed(value=s)
    return Parsed(value=None, notes=("unrecognised currency code treated as unknown",))


OTHER_CURRENCY = gettext_noop(
    "the order is in %(currency)s, but the shop counts money in %(shop)s (Settings): "
    "amounts in two currencies cannot be added up")


@lru_cache(maxsize=256)
def parse_order_currency(text: str, shop: str | None) -> Parsed[str | None]:
    """`parse_currency`, refusing an order in another currency than the shop's (`shop`;
    None: not checked). Summed with the shop's, its amounts would make every total wrong,
    and no rate to convert them is known here."""
    parsed = parse_currency(text)
    if shop and parsed.value and parsed.value != shop:
        raise RowError(OTHER_CURRENCY, currency=parsed.value, shop=shop)
    return parsed


OTHER_CURRENCY_AMOUNT = gettext_noop(
    "%(field)s %(value)s is in %(currency)s, but the shop counts money in %(shop)s "
    "(Settings): amounts in two currencies cannot be added up")
# Symbols that name one currency only; "$", "¥" and "kr" are several countries'.
_SYMBOL_CURRENCIES = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₽": "RUB", "元": "CNY",
                      "zł": "PLN", "us$": "USD", "c$": "CAD", "a$": "AUD", "hk$": "HKD",
                      "r$": "BRL", "rmb": "CNY"}
_AMOUNT_CURRENCY = re.compile(r"(?i)us\$|c\$|a\$|hk\$|r\$|rmb|zł|[€£₹₩₽元]|\b[A-Z]{3}\b")


def amount_currency(text: str) -> str | None:
    """The currency an amount's own text names ("£20", "9,00 CHF"), None when it names
    none or only an ambiguous symbol ("$5")."""
    for match in _AMOUNT_CURRENCY.finditer(text):
        found = match.group(0)
        code = _SYMBOL_CURRENCIES.get(found.lower())
        if code:
            return code
        if found.isupper() and len(found) == 3 and found.isalpha():
            return found
    return None


@lru_cache(maxsize=65536)
def parse_shop_money(
    text: str, decimal_comma: bool, label: str, shop: str | None
) -> Parsed[Decimal | None]:
    """`parse_money`, refusing an amount whose text names another currency than the
    shop's (`shop`; None: not checked), as `parse_order_currency` refuses the column."""
    parsed = _parse_money(text, decimal_comma, label)
    if shop and parsed.value is not None:
        code = amount_currency(text)
        if code and code != shop:
            raise RowError(OTHER_CURRENCY_AMOUNT, field=label, value=_show(text),
                           currency=code, shop=shop)
    return parsed


def unfloat_id(value: str | None) -> str | None:
    """A shop id a spreadsheet turned into a float ("17850.0", as in UCI's files) as written."""
    if value and value.endswith(".0") and value[:-2].isdigit():
        return value[:-2]
    return value
