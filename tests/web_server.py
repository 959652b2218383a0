"""The web server as `make run` starts it, on a given database: for browser tests and benchmarks.

`make run` collects the static files (hashed, compressed copies) and serves them
through whitenoise under gunicorn with the local settings. Django's live server
serves static files itself, from the finders, uncompressed and uncached, so it
cannot tell whether an owner's browser gets plotly.js compressed and cached.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import BASE_DIR, wait_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def make_run_web(*, database_url: str, redis_url: str, var_dir: Path) -> Iterator[str]:
    """Collect static files into `var_dir` and serve the site with gunicorn; yields its URL."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "profiler_site.settings.local",
           "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "PROFILER_VAR_DIR": str(var_dir), "DJANGO_DEBUG": "false",
           "PROFILER_LOOPBACK_RUN": "true", "LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_ALLOWED_HOSTS", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                   cwd=BASE_DIR, env=env, check=True)
    port = _free_port()
    log = open(var_dir / f"web-{time.time_ns()}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "profiler_site.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited early: {Path(log.name).read_text()}")
            return _answers(url + "/accounts/login/")

        wait_until(ready, timeout=60, what="gunicorn to serve the login page")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
