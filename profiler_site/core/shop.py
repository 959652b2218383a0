"""The shop's name, currency, time zone and sender defaults: read here, written here.

Every process (web workers, Celery) reads the one ShopSettings row and keeps it
for a few seconds; a save clears this process's copy at once, and the others
see it within SHOP_CACHE_SECONDS. Without a saved row the environment's values
apply, so a fresh install behaves as configured.
"""

from __future__ import annotations

import functools
import time
import zoneinfo
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from babel.numbers import list_currencies
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .models import ShopSettings

SHOP_CACHE_SECONDS = 5.0
_cached: tuple[float, ShopProfile] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ShopProfile:
    name: str
    currency: str
    time_zone: str
    sender_name: str
    sender_address: str
    # At most this many marketing emails per customer in any 7 days; 0: no limit.
    marketing_emails_per_week: int
    # "https://shop.example/products/{sku}"; "" when product pages are not linked.
    product_url_template: str = ""


def _from_environment() -> ShopProfile:
    return ShopProfile(
        name=str(getattr(settings, "SHOP_NAME", "")),
        currency=str(getattr(settings, "SHOP_CURRENCY", "USD")).upper(),
        time_zone=settings.TIME_ZONE,
        sender_name=str(getattr(settings, "SHOP_NAME", "")),
        sender_address=settings.DEFAULT_FROM_EMAIL,
        marketing_emails_per_week=int(getattr(settings, "MARKETING_EMAILS_PER_WEEK", 2)),
    )


def shop_profile() -> ShopProfile:
    global _cached
    now = time.monotonic()
    if _cached is not None and now - _cached[0] < SHOP_CACHE_SECONDS:
        return _cached[1]
    row = ShopSettings.objects.filter(pk=1).first()
    profile = _from_environment() if row is None else ShopProfile(
        name=row.name, currency=row.currency, time_zone=row.time_zone,
        sender_name=row.sender_name, sender_address=row.sender_address,
        marketing_emails_per_week=row.marketing_emails_per_week,
        product_url_template=row.product_url_template,
    )
    _cached = (now, profile)
    return profile


def shop_profile_forget() -> None:
    """Drop this process's copy (after a save, and between tests)."""
    global _cached
    _cached = None


@receiver(setting_changed)
def _environment_changed(*, setting: str, **kwargs) -> None:
    if setting in {"SHOP_NAME", "SHOP_CURRENCY", "TIME_ZONE", "DEFAULT_FROM_EMAIL",
                   "MARKETING_EMAILS_PER_WEEK"}:
        shop_profile_forget()


# Both lists are fixed while the process runs; reading the zone files took ~20 ms a request.
@functools.cache
def known_currencies() -> list[str]:
    return sorted(list_currencies())


@functools.cache
def known_time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def shop_settings_update(*, name: str, currency: str, time_zone: str, sender_name: str,
                         sender_address: str, marketing_emails_per_week: int | None = None,
                         product_url_template: str | None = None) -> ShopProfile:
    if marketing_emails_per_week is None:  # callers that do not show the field keep it
        marketing_emails_per_week = shop_profile().marketing_emails_per_week
    if product_url_template is None:
        product_url_template = shop_profile().product_url_template
    product_url_template = product_url_template.strip()
    problem = product_url_template_problem(product_url_template)
    if problem:
        raise ValueError(f"product_url_template: {problem}")
    if not 0 <= marketing_emails_per_week <= 100:
        raise ValueError("marketing_emails_per_week must be between 0 and 100")
    if currency not in list_currencies():
        raise ValueError(f"unknown currency {currency!r}")
    zoneinfo.ZoneInfo(time_zone)  # raises for an unknown zone
    ShopSettings.objects.update_or_create(pk=1, defaults={
        "name": name.strip(), "currency": currency, "time_zone": time_zone,
        "sender_name": sender_name.strip(), "sender_address": sender_address.strip(),
        "marketing_emails_per_week": marketing_emails_per_week,
        "product_url_template": product_url_template,
    })
    shop_profile_forget()
    return shop_profile()


SKU_PLACEHOLDER = "{sku}"


class UrlProblem:
    """Why a product page address cannot be used; the form puts it into words."""

    NOT_WEB = "not_web"  # not an absolute http(s) address
    NO_SKU = "no_sku"  # no {sku} in it
    BRACES = "braces"  # braces other than {sku}


def product_url_template_problem(template: str) -> str:
    """A `UrlProblem` code ("" when the address can be used, or is blank)."""
    if not template:
        return ""
    example = template.replace(SKU_PLACEHOLDER, "SKU-1")
    parts = urlsplit(example)
    if parts.scheme not in {"http", "https"} or not parts.hostname or any(
            c.isspace() for c in template):
        return UrlProblem.NOT_WEB
    if SKU_PLACEHOLDER not in template:
        return UrlProblem.NO_SKU
    if "{" in example or "}" in example:
        return UrlProblem.BRACES
    return ""


def product_page_url(template: str, sku: str) -> str | None:
    """The product's page by the shop's template, or None: no template, or a product the
    files named without a SKU (its key is "name:" + its name, which no shop URL uses)."""
    if not template or not sku or sku.startswith("name:"):
        return None
    return template.replace(SKU_PLACEHOLDER, quote(sku, safe=""))
