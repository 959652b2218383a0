"""Small helpers shared by tests: polling with a deadline, a real Celery worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def wait_until(predicate: Callable[[], object], *, timeout: float = 30, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`.

    This waits for a real process to reach a state; it is not a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def database_url_for(name: str) -> str:
    """The session's DATABASE_URL pointed at another database (the test database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}", query=urlencode(parse_qsl(parts.query))))


class WorkerProcess:
    """A real `celery worker` process on the test database and the session's Redis."""

    def __init__(self, database_name: str, *, queues: str = "default,analysis", extra_env=None):
        env = dict(os.environ)
        env["DATABASE_URL"] = database_url_for(database_name)
        env["DJANGO_SETTINGS_MODULE"] = "profiler_site.settings.test"
        env.update(extra_env or {})
        self.log_path = Path(os.environ.get("PROFILER_VAR_DIR", "/tmp")) / f"worker-{time.time_ns()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "profiler_site", "worker", "-Q", queues,
             "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO",
             "--without-mingle", "--without-gossip",
             "-n", f"test-{time.time_ns()}@%h"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log()}")
            return b"ready." in self.log_path.read_bytes()

        wait_until(ready, timeout=timeout, what="the Celery worker to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children, like a power cut."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self._log.close()
