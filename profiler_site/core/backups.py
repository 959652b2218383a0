"""Backups that restore: one file with the database, the uploads and the local key.

A backup is a plain tar file:

    manifest.json    format, time, the schema's migrations, a SHA-256 of every other member
    database.dump    `pg_dump --format=custom` (one consistent snapshot of the database)
    uploads/...      the uploaded files (MEDIA_ROOT)
    var/...          the small files at the top of the data folder (the local key)

`pg_dump` and `pg_restore` are the embedded server's own binaries
(`local_services.postgres_tool`), so their version is the server's.

Restoring checks the whole file first (tar structure, manifest, every checksum,
`pg_restore --list` on the dump) and only then touches anything; it refuses a
database that already holds tables; the dump is restored in one transaction, so
a failure leaves the database empty; then `migrate` brings an older backup's
schema forward.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.dispatch import Signal
from django.utils import timezone

from profiler_site.local_services import postgres_tool

from .audit import Actor, audit_record
from .models import AuditAction

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
UPLOADS = "uploads"
VAR = "var"
PREFIX = "profiler-"
SUFFIX = ".tar"
# Top-level files of the data folder worth keeping: small ones (the local key).
_VAR_FILE_MAX_BYTES = 64 * 1024
_VAR_FILE_SKIPPED_SUFFIXES = (".log", ".pid", ".sock", ".partial")

# Sent after a restore, so apps can move paths that named the old data folder.
# Arguments: old_media_root (str), new_media_root (str).
backup_restored = Signal()


class BackupError(Exception):
    """A backup that cannot be written or restored; `message` says why, for the owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, kw_only=True, slots=True)
class BackupWritten:
    path: Path
    size_bytes: int
    removed: tuple[Path, ...]  # older backups rotated out


@dataclass(frozen=True, kw_only=True, slots=True)
class BackupRestored:
    created_at: str
    files: int
    migrated: bool  # the backup's schema was older and was brought forward


def _connection_args() -> tuple[list[str], dict[str, str]]:
    """libpq options for the pg_* programs, from Django's own connection settings."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    host = (db.get("OPTIONS") or {}).get("host") or db.get("HOST")
    if host:
        args += ["--host", str(host)]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")
    return result


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    while block := stream.read(1024 * 1024):
        digest.update(block)
    return digest.hexdigest()


def _var_files(var_dir: Path) -> list[Path]:
    if not var_dir.is_dir():
        return []
    return sorted(p for p in var_dir.iterdir()
                  if p.is_file() and not p.is_symlink() and p.stat().st_size <= _VAR_FILE_MAX_BYTES
                  and not p.name.endswith(_VAR_FILE_SKIPPED_SUFFIXES)
                  and not p.name.startswith("celerybeat"))


def _schema_state() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def backup_directory() -> Path:
    return Path(settings.BACKUP_DIR)


def backup_create(*, actor: Actor, directory: Path | None = None,
                  keep: int | None = None) -> BackupWritten:
    """Write a backup into `directory` (BACKUP_DIR) and keep the newest `keep` (BACKUP_KEEP)."""
    directory = directory or backup_directory()
    directory.mkdir(parents=True, exist_ok=True)
    keep = settings.BACKUP_KEEP if keep is None else keep
    media_root = Path(settings.MEDIA_ROOT)
    var_dir = Path(settings.VAR_DIR)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    target = directory / f"{PREFIX}{stamp}{SUFFIX}"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".work-") as work:
        dump = Path(work) / DUMP
        args, env = _connection_args()
        _run([postgres_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(dump), *args], env, "pg_dump")
        members: dict[str, Path] = {DUMP: dump}
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    members[f"{UPLOADS}/{path.relative_to(media_root).as_posix()}"] = path
        for path in _var_files(var_dir):
            members[f"{VAR}/{path.name}"] = path
        checksums = {}
        for name, path in members.items():
            with path.open("rb") as handle:
                checksums[name] = _sha256(handle)
        manifest = {
            "format": FORMAT, "created_at": timezone.now().isoformat(),
            "migrations": _schema_state(), "media_root": str(media_root), "files": checksums,
        }
        manifest_path = Path(work) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(manifest_path, arcname=MANIFEST)
            for name, path in members.items():
                archive.add(path, arcname=name, recursive=False)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)  # a half-written backup never has a backup's name
    removed = backup_rotate(directory=directory, keep=keep)
    size = target.stat().st_size
    audit_record(actor=actor, action=AuditAction.BACKUP_WRITTEN, target=target.name,
                 details={"megabytes": round(size / 1e6, 1), "rotated_out": len(removed)})
    return BackupWritten(path=target, size_bytes=size, removed=removed)


def backup_rotate(*, directory: Path, keep: int) -> tuple[Path, ...]:
    """Delete all but the newest `keep` backups (names sort by time)."""
    backups = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))
    old = tuple(backups[:-keep]) if keep > 0 else ()
    for path in old:
        path.unlink(missing_ok=True)
    return old


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not a usable Profiler backup ({why}). Nothing was changed.")


def backup_check(path: Path, *, into: Path) -> dict:
    """Read the whole backup, extract it into `into`, and verify it; returns its manifest.

    Raises BackupError, before anything else is touched, for a file that is not a
    tar, lacks its manifest, fails a checksum, holds a dump pg_restore cannot read,
    or comes from a newer Profiler than this one.
    """
    if not path.is_file():
        raise BackupError(f"{path} does not exist. Nothing was changed.")
    try:
        with tarfile.open(path, "r:") as archive:
            names = archive.getnames()
            if MANIFEST not in names:
                raise _damaged(path, "no manifest")
            manifest = json.loads(archive.extractfile(MANIFEST).read())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _damaged(path, "unknown format")
            expected = manifest.get("files") or {}
            if DUMP not in expected or set(expected) - set(names):
                raise _damaged(path, "files missing")
            for name, checksum in expected.items():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise _damaged(path, f"unsafe name {name!r}")
                member = archive.getmember(name)
                if not member.isfile():
                    raise _damaged(path, f"{name} is not a file")
                with archive.extractfile(member) as stream:
                    if _sha256(stream) != checksum:
                        raise _damaged(path, f"{name} fails its checksum")
                archive.extract(member, into, filter="data")
    except BackupError:
        raise
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError) as exc:
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from exc
    _, env = _connection_args()
    try:
        _run([postgres_tool("pg_restore"), "--list", str(into / DUMP)], env, "reading the dump")
    except BackupError as exc:
        raise _damaged(path, exc.message) from exc
    newer = _unknown_migrations(manifest.get("migrations") or {})
    if newer:
        raise BackupError(f"{path} was made by a newer Profiler (migrations this one does not "
                          f"know: {', '.join(newer[:5])}). Update Profiler first. Nothing was changed.")
    return manifest


def _unknown_migrations(saved: dict[str, list[str]]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, names in saved.items() for name in names
            if (app, name) not in known and app in {a for a, _ in known}]


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return cursor.fetchone()[0] == 0


def backup_restore(path: Path) -> BackupRestored:
    """Bring a backup back into an empty database and data folder, then migrate forward."""
    with tempfile.TemporaryDirectory(prefix="profiler-restore-") as work:
        into = Path(work)
        manifest = backup_check(path, into=into)
        if not _database_is_empty():
            raise BackupError("The database already holds data, so the backup was not restored "
                              "over it. Restore into an empty data folder (move var/ aside, or "
                              "point DATABASE_URL at an empty database). Nothing was changed.")
        args, env = _connection_args()
        _run([postgres_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", *args, str(into / DUMP)], env, "pg_restore")
        media_root, var_dir = Path(settings.MEDIA_ROOT), Path(settings.VAR_DIR)
        files = 0
        for name in manifest["files"]:
            top, _, rest = name.partition("/")
            if top == UPLOADS:
                destination = media_root / rest
            elif top == VAR:
                destination = var_dir / rest  # the backup's key replaces a fresh one
            else:
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(into / name, destination)
            files += 1
    before = _schema_state()
    call_command("migrate", interactive=False, verbosity=0)
    backup_restored.send(sender=BackupRestored, old_media_root=manifest.get("media_root", ""),
                         new_media_root=str(media_root))
    return BackupRestored(created_at=manifest["created_at"], files=files,
                          migrated=_schema_state() != before)
