"""`{{ value|money }}`: an amount in the shop's currency, written the reader's way.

Babel's CLDR data gives the symbol, its place and the digit grouping for the
active language ("$1,234.50"; in Chinese "US$1,234.50"), and the currency's own
decimals (no cents for yen). A rounded zero never shows a minus sign.
`money_whole` drops the cents, for large or estimated figures.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency, get_currency_precision
from django import template
from django.utils.translation import get_language, to_locale

from profiler_site.core.shop import shop_profile

register = template.Library()


def _babel_locale(language: str | None) -> Locale:
    locale = to_locale(language or get_language() or "en")
    return Locale.parse("zh_Hans_CN" if locale == "zh_Hans" else locale)


def format_money(value, currency: str, *, language: str | None = None, whole: bool = False) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    places = 0 if whole else get_currency_precision(currency)
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if amount == 0:
        amount = abs(amount)  # "-$0.00" is not an amount anyone spent
    locale = _babel_locale(language)
    if not whole:
        return format_currency(amount, currency, locale=locale)
    pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return format_money(value, shop_profile().currency)


@register.filter
def money_whole(value) -> str:
    if value is None or value == "":
        return ""
    return format_money(value, shop_profile().currency, whole=True)


@register.filter
def money_estimate(value) -> str:
    """An estimate in whole money that never rounds a positive amount to nothing: a
    12-month value of $0.31 is "<$1", not "$0" (as a share under 0.5% is "<1%")."""
    if value is None or value == "":
        return ""
    currency = shop_profile().currency
    if 0 < float(value) < 0.5:
        return "<" + format_money(1, currency, whole=True)
    return format_money(value, currency, whole=True)
