"""Campaign settings with their defaults, read at call time (tests override them).

The names are meant for profiler_site/settings/base.py (see the campaigns report);
until they are added there the defaults below apply.
"""

from __future__ import annotations

from django.conf import settings

from profiler_site.core.shop import shop_profile


def max_per_second() -> int:
    """Default sending rate for one run; 0 means no limit."""
    return int(getattr(settings, "CAMPAIGN_MAX_PER_SECOND", 50))


def track_opens() -> bool:
    return bool(getattr(settings, "CAMPAIGN_TRACK_OPENS", False))


def batch_size() -> int:
    """Rows claimed, marked `sending` and confirmed together (see services/sending.py).

    Also the most rows a killed worker can leave `unknown`; a run caps it at one
    second of sending at its rate limit.
    """
    return int(getattr(settings, "CAMPAIGN_BATCH_SIZE", 100))


def retry_delays() -> tuple[float, ...]:
    """Waits before each retry of a 4xx answer or a dropped connection (bounded)."""
    return tuple(getattr(settings, "CAMPAIGN_RETRY_DELAYS", (1.0, 4.0, 15.0)))


def public_base_url() -> str:
    return str(getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def shop_name() -> str:
    return shop_profile().name


def weekly_cap() -> int:
    """Marketing emails per customer in any 7 days (Settings, else the environment); 0: none."""
    return shop_profile().marketing_emails_per_week
