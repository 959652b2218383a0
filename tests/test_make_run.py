"""`make run`'s runner, for real: embedded PostgreSQL and Redis, worker, beat, inbox, web."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import psutil
import pytest

from tests.support import BASE_DIR, wait_until

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, b""


def static_headers(port: int, var_dir, name: str) -> dict[str, str]:
    manifest = json.loads((var_dir / "staticfiles" / "staticfiles.json").read_text())
    request = urllib.request.Request(f"http://127.0.0.1:{port}/static/{manifest['paths'][name]}",
                                     headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers)


def max_age(cache_control: str) -> int:
    return int(dict(part.strip().partition("=")[::2] for part in cache_control.split(","))["max-age"])


def test_the_runner_serves_a_healthy_stack_and_stops_it_all_on_ctrl_c(tmp_path):
    port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL"}}
    env.update({"PROFILER_VAR_DIR": str(tmp_path / "var"), "PROFILER_PORT": str(port),
                "PROFILER_SMTP_PORT": str(smtp_port), "HEALTH_CHECK_TOKEN": "runner-test"})
    runner = subprocess.Popen([sys.executable, "-m", "profiler_site.runner"], cwd=BASE_DIR,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def healthy():
            status, body = get(f"http://127.0.0.1:{port}/health/",
                               {"X-Health-Token": "runner-test"})  # the deep report
            return status == 200 and json.loads(body)

        body = wait_until(healthy, timeout=120, what="the stack to answer /health/ with 200")
        assert body["checks"]["worker"]["ok"] and body["checks"]["database"]["ok"]
        status, _ = get(f"http://127.0.0.1:{port}/")
        assert status == 200  # urllib follows the redirect to "create your account"
        static = static_headers(port, tmp_path / "var", "vendor/plotly/plotly.min.js")
        assert static["Content-Encoding"] == "gzip"
        assert max_age(static["Cache-Control"]) >= 365 * 24 * 3600
        assert static_headers(port, tmp_path / "var", "favicon.svg")["Content-Type"].startswith(
            "image/svg")
        status, body = get(f"http://127.0.0.1:{port}/t/c/cut-short/by-a-mail-client")
        assert status == 404 and b"This link is not valid" in body and b"URLconf" not in body
        children = psutil.Process(runner.pid).children(recursive=True)
        assert len(children) >= 4
        assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
    finally:
        runner.send_signal(signal.SIGINT)
        output = runner.communicate(timeout=90)[0].decode()

    assert runner.returncode == 0, output
    assert "Profiler is running at" in output and "Stopped." in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_the_runner_refuses_a_non_loopback_host_while_debug_is_on(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"}}
    env.update({"PROFILER_VAR_DIR": str(tmp_path / "var"), "PROFILER_HOST": "0.0.0.0"})

    result = subprocess.run([sys.executable, "-m", "profiler_site.runner"], cwd=BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Refusing to listen on 0.0.0.0 with DEBUG on" in result.stdout
    assert not (tmp_path / "var" / "pgdata").exists()  # refused before starting anything
