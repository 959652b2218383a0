"""Health of the three parts the product needs: database, Redis, a worker.

Two depths. `liveness()` is what anyone may ask (the compose healthcheck, an
uptime monitor): two cheap round trips, an answer of yes or no each, nothing an
attacker could read versions or paths from. `deep_report()` is for the owner or
a monitor holding `HEALTH_CHECK_TOKEN`: versions, timings, error text and a
canary task through a worker. The canary goes on the queue imports use and
waits up to 5 s, so the deep report is computed at most once per
`DEEP_REPORT_SECONDS` per process; a flood of requests cannot flood the queue.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

DEEP_REPORT_SECONDS = 15.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckResult:
    ok: bool
    detail: str
    ms: float


def _timed(check) -> CheckResult:
    start = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a health check reports every failure, whatever it is
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return CheckResult(ok=ok, detail=detail, ms=round((time.perf_counter() - start) * 1000, 1))


def _database() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        return cur.fetchone()[0].split(" on ")[0]


def redis_client() -> redis.Redis:
    url = settings.REDIS_URL
    if url.startswith("redis+socket://"):
        path = url[len("redis+socket://") :].split("?", 1)[0]
        return redis.Redis(unix_socket_path=path, socket_timeout=2, socket_connect_timeout=2)
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _redis() -> str:
    info = redis_client().info("server")
    return f"redis {info['redis_version']}"


def _worker() -> str:
    from .tasks import canary_task

    result = canary_task.apply_async(expires=10, retry=False)
    answer = result.get(timeout=5)
    return f"worker answered {answer}"


def _database_alive() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return ""


def _redis_alive() -> str:
    redis_client().ping()
    return ""


def liveness() -> dict[str, bool]:
    """Database and Redis reachable: yes or no each, and nothing else."""
    return {"database": _timed(_database_alive).ok, "redis": _timed(_redis_alive).ok}


def _deep_report_now() -> dict[str, CheckResult]:
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    if checks["redis"].ok:
        checks["worker"] = _timed(_worker)
    else:
        checks["worker"] = CheckResult(ok=False, detail="skipped: Redis is down", ms=0.0)
    return checks


class _DeepCache:
    """The last deep report of this process and when it was made (by `clock`)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.report: dict[str, CheckResult] | None = None
        self.made_at = 0.0

    def get(self) -> dict[str, CheckResult]:
        # One thread computes; the others of a burst wait for it and share its answer.
        with self.lock:
            now = self.clock()
            if self.report is None or now - self.made_at >= DEEP_REPORT_SECONDS:
                self.report = _deep_report_now()
                self.made_at = now
            return self.report


_deep_cache = _DeepCache(time.monotonic)


def deep_cache_clear(*, clock: Callable[[], float] | None = None) -> None:
    """Forget the cached report (and, for tests, measure time with `clock`)."""
    global _deep_cache
    _deep_cache = _DeepCache(clock or time.monotonic)


def deep_report() -> dict[str, CheckResult]:
    return _deep_cache.get()


def health_token_matches(presented: str) -> bool:
    """True when the request carries the configured shared secret (never when none is set)."""
    expected = settings.HEALTH_CHECK_TOKEN
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())
