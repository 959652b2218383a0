"""A big import loads without two page indexes and always ends with them built again."""

import psycopg2
import pytest
from django.db import connection

from ingest.models import Order, OrderLine
from ingest.services.bulk_indexes import (
    BULK_LOAD_LOCK,
    SET_ASIDE,
    indexes_set_aside,
    missing_indexes,
    restore_indexes,
    worth_setting_aside,
)
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import import_bytes, orphan_rows

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = (
    b"order_id,email,ordered_at,sku,quantity,unit_price\n"
    + b"".join(b"O%d,c%d@example.com,2024-01-%02d,S%d,1,%d.50\n" % (i, i % 7, i % 28 + 1, i % 5, i)
               for i in range(60))
)

# The loader's first statement of each chunk.
CHUNK_STATEMENT = "WITH upserted AS ( INSERT INTO ingest_customer"


def _statements():
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(" ".join(sql.split()) + (f" -- {params}" if params else ""))
        return execute(sql, params, many, context)

    return seen, record


def test_the_indexes_set_aside_are_the_ones_the_migrations_made():
    with connection.cursor() as cursor:
        for index in SET_ASIDE:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index.name])
            assert cursor.fetchone()[0] == (f"CREATE INDEX {index.name} ON public.{index.table} "
                                            f"USING btree ({', '.join(index.columns)})")


def test_a_big_import_drops_them_loads_and_builds_them_again(settings):
    settings.IMPORT_BULK_LINES = 10
    settings.IMPORT_CHUNK_ROWS = 20
    statements, record = _statements()

    with connection.execute_wrapper(record):
        job = import_bytes(ORDERS)

    assert job.status == JobStatus.SUCCEEDED and job.orders_created == 60
    dropped = next(i for i, sql in enumerate(statements) if sql.startswith("DROP INDEX"))
    chunks = [i for i, sql in enumerate(statements) if CHUNK_STATEMENT in sql]
    built = [i for i, sql in enumerate(statements) if sql.startswith("CREATE INDEX")]
    assert len(chunks) > 1 and dropped < chunks[0] and len(built) == 2 and chunks[-1] < built[0]
    phase = max(i for i, sql in enumerate(statements[:built[0]]) if "ingest_importjob" in sql)
    assert "Building indexes" in statements[phase]  # what the progress bar says meanwhile
    assert missing_indexes() == []
    assert OrderLine.objects.count() == 60 and orphan_rows() == (0, 0)


def test_a_small_import_keeps_them(settings):
    settings.IMPORT_BULK_LINES = 1000
    statements, record = _statements()

    with connection.execute_wrapper(record):
        import_bytes(ORDERS)

    assert not any(sql.startswith(("DROP INDEX", "CREATE INDEX")) for sql in statements)


def test_an_import_that_fails_midway_builds_them_again(settings):
    settings.IMPORT_BULK_LINES = 10
    settings.IMPORT_CHUNK_ROWS = 20
    chunks = []

    def fail_second_chunk(execute, sql, params, many, context):
        if CHUNK_STATEMENT in " ".join(sql.split()):
            chunks.append(sql)
            if len(chunks) == 2:
                raise psycopg2.OperationalError("connection to the database lost")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_second_chunk):
        job = import_bytes(ORDERS)

    assert job.status == JobStatus.FAILED and job.chunks_done == 1
    assert missing_indexes() == []
    assert Order.objects.count() == 20  # the first chunk's commit stands


def test_worth_it_only_for_a_big_import_that_brings_as_many_lines_as_are_stored(settings):
    settings.IMPORT_BULK_LINES = 50
    assert not worth_setting_aside(49)
    assert worth_setting_aside(50)  # nothing stored yet

    settings.IMPORT_BULK_LINES = 1000  # a small import, with its indexes
    import_bytes(ORDERS)
    with connection.cursor() as cursor:  # publish this session's table statistics now
        cursor.execute("SELECT pg_stat_force_next_flush()")
    settings.IMPORT_BULK_LINES = 50
    assert OrderLine.objects.count() == 60
    assert not worth_setting_aside(59)  # fewer lines than are stored
    assert worth_setting_aside(60)


def test_restore_builds_what_a_killed_import_left_missing_but_not_while_one_holds_them():
    names = [index.name for index in SET_ASIDE]
    with connection.cursor() as cursor:  # as a killed import leaves them
        cursor.execute(f"DROP INDEX {', '.join(names)}")
    live_import = psycopg2.connect(**connection.get_connection_params())
    try:
        with live_import.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [BULK_LOAD_LOCK])
        # Another import is loading without them: neither restore nor a second big
        # import touches them.
        assert restore_indexes() == []
        with indexes_set_aside(True) as dropped:
            assert dropped is False
        assert missing_indexes() == list(SET_ASIDE)
    finally:
        live_import.close()  # its session, and with it the lock, is gone

    assert restore_indexes() == names
    assert missing_indexes() == []
