"""docker-compose.yml proven without Docker: each service's command as written, then its healthcheck.

The processes get what a container gets: the Dockerfile's ENV, the env_file, the
service's `environment` (interpolated as compose does), HOSTNAME, and the `/data`
volume (a temporary folder). Only the two service addresses point at this test
session's PostgreSQL and Redis, since there are no `postgres` and `redis` hosts here.
The web server binds port 8000 as in the image, so it runs in a network namespace
of its own (`unshare`), which also holds its healthcheck, as a container would.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest
import yaml

from profiler_site import local_services
from tests.support import BASE_DIR, database_url_for, wait_until

APP_SERVICES = ["migrate", "web", "worker", "beat"]
DOTENV = {  # .env.example with its placeholders filled in, as an owner would
    "DJANGO_SECRET_KEY": "compose-test-" + "Zx9!q" * 12,
    "DJANGO_ALLOWED_HOSTS": "profiler.example.com",
    "POSTGRES_PASSWORD": "compose-test-password",
}


def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` (a literal $)."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = variables.get(name, "")
        if op == ":?" and not current:
            raise AssertionError(f"compose would refuse: {arg}")
        return current or (arg if op == ":-" else "")

    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def dockerfile_env() -> dict[str, str]:
    text = (BASE_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def dockerfile_cmd() -> list[str]:
    import json

    line = next(line for line in (BASE_DIR / "Dockerfile").read_text().splitlines()
                if line.startswith("CMD "))
    return json.loads(line[4:])


def container_path(value: str, data_dir: Path) -> str:
    # The `appdata:/data` volume: /data inside the container is a folder here.
    return re.sub(r"(?<![\w/])/data(?=/|$|\b)", str(data_dir), value)


@pytest.fixture
def compose_db():
    name = f"compose_{time.time_ns()}"
    local_services.ensure_database(database_url_for("postgres"), name)
    yield name
    conn = psycopg2.connect(database_url_for("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


@pytest.fixture
def netns():
    """A private network namespace (loopback only) kept open by a holder process."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("unshare/nsenter are needed to bind port 8000 without colliding")
    # As root, a network namespace alone; otherwise inside a user namespace (whose
    # "root" cannot open the database's socket, owned by an unmapped user).
    as_root = os.geteuid() == 0
    user_ns = [] if as_root else ["--user", "--map-root-user"]
    holder = subprocess.Popen(
        ["unshare", *user_ns, "--net", "sh", "-c", "ip link set lo up && echo ready && exec cat"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if holder.stdout.readline().strip() != "ready":
        holder.kill()
        pytest.skip("user and network namespaces are not available here")
    enter_user = [] if as_root else ["--preserve-credentials", "--user"]
    yield ["nsenter", *enter_user, "--net", "-t", str(holder.pid)]
    holder.stdin.close()
    holder.wait(timeout=10)


class Services:
    def __init__(self, tmp_path: Path, database: str):
        self.tmp = tmp_path
        self.data = tmp_path / "data"
        self.data.mkdir()
        self.spec = compose()
        self.database = database
        self.processes: dict[str, subprocess.Popen] = {}
        self.last_check: dict[str, subprocess.CompletedProcess] = {}

    def environment(self, name: str) -> dict[str, str]:
        service = self.spec["services"][name]
        env = {"PATH": f"{BASE_DIR / '.venv' / 'bin'}:{os.environ['PATH']}",
               "HOME": str(self.tmp), "HOSTNAME": socket.gethostname()}
        env.update(dockerfile_env())
        assert service.get("env_file") == ".env"
        env.update(DOTENV)
        for key, value in (service.get("environment") or {}).items():
            env[key] = interpolate(str(value), DOTENV)
        assert env["DATABASE_URL"].startswith("postgres://profiler:")  # as written, then:
        env["DATABASE_URL"] = database_url_for(self.database)
        env["REDIS_URL"] = os.environ["REDIS_URL"]
        return {key: container_path(value, self.data) for key, value in env.items()}

    def command(self, name: str) -> list[str]:
        argv = self.spec["services"][name].get("command") or dockerfile_cmd()
        return [container_path(interpolate(str(arg), {}), self.data) for arg in argv]

    def start(self, name: str, prefix: list[str] = ()) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([*prefix, *self.command(name)], cwd=BASE_DIR,
                                env=self.environment(name), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def healthcheck(self, name: str, prefix: list[str] = ()) -> subprocess.CompletedProcess:
        check = self.spec["services"][name]["healthcheck"]
        kind, *rest = check["test"]
        argv = {"CMD": rest, "CMD-SHELL": ["/bin/sh", "-c", *rest]}[kind]
        argv = [interpolate(arg, {}) for arg in argv]
        timeout = float(check.get("timeout", "30s").rstrip("s"))
        return subprocess.run([*prefix, *argv], check=False, cwd=BASE_DIR,
                              env=self.environment(name),
                              capture_output=True, text=True, timeout=timeout + 10)

    def passes_healthcheck(self, name: str, prefix: list[str] = ()) -> bool:
        proc = self.processes[name]
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
        self.last_check[name] = self.healthcheck(name, prefix)
        return self.last_check[name].returncode == 0

    def wait_healthy(self, name: str, prefix: list[str] = ()) -> None:
        try:
            wait_until(lambda: self.passes_healthcheck(name, prefix), timeout=90,
                       what=f"the {name} healthcheck to pass")
        except AssertionError as exc:
            check = self.last_check.get(name)
            raise AssertionError(f"{exc}\nlast check: {check}\n{name} log:\n"
                                 f"{self.log(name)[-3000:]}") from None

    def stop_all(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=10)


@pytest.mark.worker
def test_every_compose_service_starts_as_written_and_passes_its_healthcheck(
        tmp_path, compose_db, netns):
    services = Services(tmp_path, compose_db)
    assert set(APP_SERVICES) <= set(services.spec["services"])
    try:
        migrate = services.start("migrate")
        assert migrate.wait(timeout=300) == 0, services.log("migrate")

        services.start("web", prefix=netns)
        services.start("worker")
        services.start("beat")

        services.wait_healthy("web", prefix=netns)
        services.wait_healthy("worker")
        beat_schedule = services.data / "celerybeat-schedule"
        wait_until(lambda: any(services.data.glob("celerybeat-schedule*")), timeout=60,
                   what=f"beat to write {beat_schedule}")
        assert services.processes["beat"].poll() is None, services.log("beat")
    finally:
        services.stop_all()


def test_the_web_port_is_published_on_loopback_unless_the_owner_says_otherwise():
    ports = compose()["services"]["web"]["ports"]

    assert [interpolate(port, {}) for port in ports] == ["127.0.0.1:8000:8000"]
