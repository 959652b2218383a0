"""`make run`: the whole stack in one terminal, stopped cleanly by Ctrl-C.

Starts (or reuses after a crash) the embedded PostgreSQL and Redis unless
DATABASE_URL / REDIS_URL are set, migrates, loads the demo shop on an empty
database, then runs a Celery worker, Celery beat, the local SMTP inbox and the
web server as children. Children die with the runner (PR_SET_PDEATHSIG), so a
killed runner leaves no orphan worker behind; a second `make run` reuses the
database and Redis servers that a crash left running.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from profiler_site import local_services

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PROFILER_VAR_DIR", BASE_DIR / "var"))
HOST = os.environ.get("PROFILER_HOST", "127.0.0.1")
PORT = int(os.environ.get("PROFILER_PORT", "8000"))
SMTP_PORT = int(os.environ.get("PROFILER_SMTP_PORT", "8025"))
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    log_dir = VAR_DIR / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"  starting {name}: logs in {log_dir / (name + '.log')}", flush=True)
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the child)
    # Own process group: the terminal's Ctrl-C reaches only the runner, which then
    # stops the children in order and can kill a child's whole group if it hangs.
    return subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        start_new_session=True,
    )


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def debug_is_on(env: dict[str, str]) -> bool:
    # As the settings read it: DJANGO_DEBUG, whose default is on only in local settings.
    default = "true" if env["DJANGO_SETTINGS_MODULE"].endswith(".local") else "false"
    return env.get("DJANGO_DEBUG", default).strip().lower() in {"1", "true", "yes", "on", "y"}


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "profiler_site.settings.local")
    if debug_is_on(env) and not is_loopback(HOST):
        # DEBUG pages show settings, paths and code to whoever triggers an error.
        print(f"Refusing to listen on {HOST} with DEBUG on: anyone who can reach it would see "
              "debug pages. Use PROFILER_HOST=127.0.0.1, or set DJANGO_DEBUG=false.", flush=True)
        return 2
    env.setdefault("PROFILER_VAR_DIR", str(VAR_DIR))
    # Only a server no one else can reach may skip the first-run setup token.
    env["PROFILER_LOOPBACK_RUN"] = "1" if is_loopback(HOST) else "0"
    postgres = redis_server = None
    if not env.get("DATABASE_URL"):
        print("Starting embedded PostgreSQL (data in var/pgdata)…", flush=True)
        postgres = local_services.start_postgres(VAR_DIR / "pgdata")
        env["DATABASE_URL"] = postgres.url()
    if not env.get("REDIS_URL"):
        print("Starting embedded Redis (data in var/redis)…", flush=True)
        redis_server = local_services.start_redis(VAR_DIR / "redis")
        env["REDIS_URL"] = redis_server.url()
    env.setdefault("EMAIL_URL", f"smtp://127.0.0.1:{SMTP_PORT}")
    env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{PORT}")

    children: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nStopping Profiler…", flush=True)
        for _name, proc in reversed(children):
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # A worker in the middle of a long task: its job is requeued by the
                # reaper on the next start (acks_late), so killing it loses nothing.
                print(f"  {name} did not stop in 20 s; killing it", flush=True)
            _signal_group(proc, signal.SIGKILL)
        if redis_server is not None:
            redis_server.stop()
        if postgres is not None:
            postgres.stop()
        print("Stopped.", flush=True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        print("Migrating the database…", flush=True)
        _manage("migrate", "--noinput", env=env)
        _manage("load_demo_if_empty", env=env)
        # Hashed, gzip-compressed copies that whitenoise serves with a year's max-age;
        # unchanged files are skipped, so a restart costs a few seconds.
        _manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        python = sys.executable
        if env["EMAIL_URL"].startswith(f"smtp://127.0.0.1:{SMTP_PORT}"):
            children.append(
                ("inbox", _spawn("inbox", [python, "-m", "campaigns.local_inbox",
                                           "--port", str(SMTP_PORT)], env))
            )
        children.append(
            ("worker", _spawn("worker", [python, "-m", "celery", "-A", "profiler_site", "worker",
                                         "-Q", "default,analysis", "--concurrency", "2",
                                         "--loglevel", "INFO"], env))
        )
        children.append(
            ("beat", _spawn("beat", [python, "-m", "celery", "-A", "profiler_site", "beat",
                                     "--schedule", str(VAR_DIR / "celerybeat-schedule"),
                                     "--loglevel", "INFO"], env))
        )
        children.append(
            ("web", _spawn("web", [python, "-m", "gunicorn", "profiler_site.wsgi:application",
                                   "--bind", f"{HOST}:{PORT}", "--workers", "2", "--threads", "4",
                                   "--timeout", "120", "--graceful-timeout", "10", "--env",
                                   f"DJANGO_SETTINGS_MODULE={env['DJANGO_SETTINGS_MODULE']}"],
                           env))
        )
        print(f"\nProfiler is running at http://{HOST}:{PORT}/  (Ctrl-C stops everything)\n",
              flush=True)
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None and not stopping:
                    print(f"{name} exited with {proc.returncode}; see var/log/{name}.log",
                          flush=True)
                    stop()
                    return 1
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        print(f"Start-up failed: {exc}", flush=True)
        stop()
        return 1
    finally:
        if not stopping:
            stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
