"""Shared set-up for benchmarks: real PostgreSQL and Redis, a fresh database, a real worker.

Benchmarks are scripts, not tests. Each prints its figure against a baseline
measured in the same run and ends with one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / "benchmarks" / "data"
ORDERS_1M = DATA_DIR / "orders_1m.csv"


def ensure_orders_file(lines: int = 1_000_000, customers: int = 100_000) -> Path:
    """The generated orders file of this size and shape (made once, then reused)."""
    if (lines, customers) == (1_000_000, 100_000):
        path = ORDERS_1M
    elif customers == max(lines // 10, 100):  # the 1M file's shape, ten lines a customer
        path = DATA_DIR / f"orders_{lines // 1000}k.csv"
    else:  # another shape, e.g. a few thousand grocery households with hundreds of lines each
        path = DATA_DIR / f"orders_{lines // 1000}k_{customers}c.csv"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(BASE_DIR / "benchmarks" / "generate_orders.py"),
                        str(path), "--lines", str(lines), "--customers", str(customers)], check=True)
    return path


def setup_django(database: str = "profiler_bench") -> None:
    """Start embedded services unless URLs are given, point Django at a fresh database, migrate."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "profiler_site.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from profiler_site import local_services

    root = Path(os.environ.get("PROFILER_BENCH_DIR", tempfile.gettempdir())) / "profiler-bench"
    if not os.environ.get("DATABASE_URL"):
        postgres = local_services.start_postgres(root / "pg", database="postgres")
        os.environ["DATABASE_URL"] = postgres.url("postgres")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = local_services.start_redis(root / "redis").url()
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    _recreate_database(admin_url, database)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
    os.environ.setdefault("PROFILER_VAR_DIR", str(root / "var"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _recreate_database(admin_url: str, database: str) -> None:
    import psycopg2
    from environ import Env

    cfg = Env.db_url_config(admin_url)
    conn = psycopg2.connect(dbname="postgres", user=cfg["USER"] or None,
                            password=cfg["PASSWORD"] or None,
                            host=cfg.get("OPTIONS", {}).get("host") or cfg["HOST"] or None,
                            port=cfg["PORT"] or None)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{database}"')
    conn.close()


class Worker:
    """A real Celery worker for the benchmark database, with its peak memory sampled."""

    def __init__(self, queues: str = "default,analysis", env: dict | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "profiler_site", "worker", "-Q", queues,
             "--concurrency", "1", "--loglevel", "WARNING", "--without-mingle",
             "--without-gossip", "-n", f"bench-{time.time_ns()}@%h"],
            cwd=BASE_DIR, env={**os.environ, **(env or {})}, start_new_session=True,
        )
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                parent = psutil.Process(self.process.pid)
                procs = [parent, *parent.children(recursive=True)]
                # The biggest single process: the pool child doing the work.
                self.peak_rss = max(self.peak_rss, *(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.1)

    def wait_ready(self, timeout: float = 60) -> None:
        from profiler_site.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError("worker did not start")

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def machine() -> str:
    return (f"{platform.node()} · {platform.processor() or platform.machine()} · "
            f"{psutil.cpu_count()} cores · {psutil.virtual_memory().total / 2**30:.0f} GiB · "
            f"Python {platform.python_version()}")


def report(name: str, seconds: float, baseline_seconds: float, *, throughput: bool = False,
           **extra) -> None:
    """Print the closing JSON line; for throughput, ratio is ours over the baseline's."""
    ratio = (baseline_seconds / seconds) if throughput else (seconds / baseline_seconds)
    print(json.dumps({"benchmark": name, "seconds": round(seconds, 3),
                      "baseline_seconds": round(baseline_seconds, 3), "ratio": round(ratio, 3),
                      **extra}), flush=True)
