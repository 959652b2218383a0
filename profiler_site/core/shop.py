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
                         sender_address: str,
                         marketing_emails_per_week: int | None = None) -> ShopProfile:
    if marketing_emails_per_week is None:  # callers that do not show the field keep it
        marketing_emails_per_week = shop_profile().marketing_emails_per_week
    if not 0 <= marketing_emails_per_week <= 100:
        raise ValueError("marketing_emails_per_week must be between 0 and 100")
    if currency not in list_currencies():
        raise ValueError(f"unknown currency {currency!r}")
    zoneinfo.ZoneInfo(time_zone)  # raises for an unknown zone
    ShopSettings.objects.update_or_create(pk=1, defaults={
        "name": name.strip(), "currency": currency, "time_zone": time_zone,
        "sender_name": sender_name.strip(), "sender_address": sender_address.strip(),
        "marketing_emails_per_week": marketing_emails_per_week,
    })
    shop_profile_forget()
    return shop_profile()
