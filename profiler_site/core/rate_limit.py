"""Request budgets per minute in Redis, shared by every gunicorn worker.

One fixed one-minute window per (scope, who): the public tracking and
unsubscribe links per client address, and the API per user (`ApiThrottle`, the
DRF throttle in REST_FRAMEWORK). The client address is REMOTE_ADDR as
TrustedProxyMiddleware set it, so a proxy in front does not pool every client.
"""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from .health import redis_client

_KEY_PREFIX = "profiler:rate:"
WINDOW_SECONDS = 60

clock = time.time  # the world's clock; tests replace it


def allow(*, scope: str, who: str, per_minute: int) -> bool:
    """Count one request; False once `who` spent `per_minute` in this minute."""
    window = int(clock() // WINDOW_SECONDS)
    key = f"{_KEY_PREFIX}{scope}:{who}:{window}"
    pipe = redis_client().pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    count, _ok = pipe.execute()
    return count <= per_minute


def forget_all() -> None:
    client = redis_client()
    for key in client.scan_iter(f"{_KEY_PREFIX}*"):
        client.delete(key)


def tracking_rate_limited(view):
    """429 once one address has used TRACKING_REQUESTS_PER_MINUTE on /t/ and /u/ together."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not allow(scope="public", who=request.META.get("REMOTE_ADDR", ""),
                     per_minute=settings.TRACKING_REQUESTS_PER_MINUTE):
            response = HttpResponse(_("Too many requests. Try again in a minute."),
                                    status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return view(request, *args, **kwargs)

    return wrapped


class ApiThrottle(BaseThrottle):
    """API_REQUESTS_PER_MINUTE per signed-in user (per address before authentication)."""

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        who = f"user:{user.pk}" if user is not None and user.is_authenticated else (
            f"addr:{request.META.get('REMOTE_ADDR', '')}")
        return allow(scope="api", who=who, per_minute=settings.API_REQUESTS_PER_MINUTE)

    def wait(self) -> float:
        return WINDOW_SECONDS - clock() % WINDOW_SECONDS
