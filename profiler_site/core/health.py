"""Health of the three parts the product needs: database, Redis, a worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection


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


def health_report() -> dict[str, CheckResult]:
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    if checks["redis"].ok:
        checks["worker"] = _timed(_worker)
    else:
        checks["worker"] = CheckResult(ok=False, detail="skipped: Redis is down", ms=0.0)
    return checks
