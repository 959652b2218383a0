"""pytest plugin: real PostgreSQL and Redis, started once per test session.

Loaded with `-p` (see pyproject) so it runs before pytest-django reads the
settings. When DATABASE_URL / REDIS_URL are already set (CI with services,
docker), those servers are used instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_started: dict[str, object] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "profiler_site.settings.test")
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    from profiler_site import local_services

    # A short path: unix socket paths are limited to ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="prof-"))
    root.chmod(0o755)
    _started["root"] = root
    if not os.environ.get("DATABASE_URL"):
        postgres = local_services.start_postgres(root / "pg")
        _started["postgres"] = postgres
        os.environ["DATABASE_URL"] = postgres.url()
    if not os.environ.get("REDIS_URL"):
        redis_server = local_services.start_redis(root / "redis")
        _started["redis"] = redis_server
        os.environ["REDIS_URL"] = redis_server.url()
    os.environ.setdefault("PROFILER_VAR_DIR", str(root / "var"))


def pytest_unconfigure(config):
    redis_server = _started.pop("redis", None)
    if redis_server is not None:
        redis_server.stop()
    postgres = _started.pop("postgres", None)
    if postgres is not None:
        postgres.stop()
    root = _started.pop("root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)
