"""Login throttling: a growing delay per username and per client address, never a lock.

A hard lock-out keyed on (username, address) behind a proxy keyed on the proxy,
so five wrong passwords from anyone locked the owner out for everyone. Instead,
after `LOGIN_FREE_FAILURES` wrong passwords, the next attempt for that username
(or from that address) must wait 1 s, then 2 s, 4 s … up to `MAX_DELAY_SECONDS`
after the latest failure. Guessing becomes hopeless (a few hundred tries a day)
while the owner, who knows the password, waits at most a few minutes. An
attempt during the delay is refused without looking at the password, so the
delay is no oracle. The client address is REMOTE_ADDR as the trusted-proxy
middleware set it. Counts live in Redis, shared by every gunicorn worker.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from . import rate_limit
from .health import redis_client

MAX_DELAY_SECONDS = 300
_KEY_PREFIX = "profiler:login-failures:"
_FORGET_AFTER_SECONDS = 24 * 60 * 60


def _keys(*, username: str, address: str) -> list[str]:
    # Hashed: the Redis dump should not list every username someone tried.
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return [f"{_KEY_PREFIX}user:{user}", f"{_KEY_PREFIX}addr:{address}"]


def _delay(failures: int) -> int:
    over = failures - settings.LOGIN_FREE_FAILURES
    if over < 0:
        return 0
    return min(MAX_DELAY_SECONDS, 2 ** min(over, 20))


def seconds_to_wait(*, username: str, address: str) -> int:
    """Whole seconds before the next attempt for this username from this address is heard."""
    now = rate_limit.clock()
    wait = 0.0
    pipe = redis_client().pipeline()
    for key in _keys(username=username, address=address):
        pipe.hmget(key, "failures", "last")
    for failures, last in pipe.execute():
        if failures is not None:
            wait = max(wait, float(last) + _delay(int(failures)) - now)
    return max(0, int(-(-wait // 1)))  # rounded up


def failure_record(*, username: str, address: str) -> None:
    pipe = redis_client().pipeline()
    for key in _keys(username=username, address=address):
        pipe.hincrby(key, "failures", 1)
        pipe.hset(key, "last", repr(rate_limit.clock()))
        pipe.expire(key, _FORGET_AFTER_SECONDS)
    pipe.execute()


def success_record(*, username: str, address: str) -> None:
    redis_client().delete(*_keys(username=username, address=address))


def forget_all() -> None:
    client = redis_client()
    for key in client.scan_iter(f"{_KEY_PREFIX}*"):
        client.delete(key)
