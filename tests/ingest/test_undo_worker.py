"""The undo in a real worker: progress, the database of import A alone, a new analysis run."""

import pytest

from ingest.models import ImportUndo
from ingest.services.undo import import_undo_start
from profiler_site.core.models import JobStatus
from segments.models import RunTrigger, SegmentationRun
from tests.ingest.helpers_db import import_bytes, orphan_rows
from tests.ingest.test_undo import FILE_A, FILE_B, database
from tests.support import wait_until

pytestmark = pytest.mark.worker


def test_an_undo_runs_in_the_worker_and_starts_a_new_analysis_run(start_worker):
    # Only the default queue: the analysis runs stay queued, where the test sees them.
    start_worker(queues="default")
    import_bytes(FILE_A)
    a_alone = database()
    b = import_bytes(FILE_B)
    # The runs the imports asked for have happened.
    SegmentationRun.objects.update(status=JobStatus.SUCCEEDED)

    undo = import_undo_start(job=b)

    wait_until(lambda: ImportUndo.objects.get(pk=undo.pk).status == JobStatus.SUCCEEDED,
               what="the undo to finish")
    done = ImportUndo.objects.get(pk=undo.pk)
    assert done.percent == 100 and done.attempts == 1
    assert done.processed == done.total == 3 + 2  # B's orders, then B's customers
    assert database() == a_alone
    assert orphan_rows() == (0, 0)
    wait_until(lambda: SegmentationRun.objects.filter(status=JobStatus.QUEUED,
                                                      trigger=RunTrigger.IMPORT).exists(),
               what="a new analysis run to be queued")


def test_an_import_started_during_an_undo_waits_for_it_before_its_first_chunk(start_worker):
    from django.db import connection

    from ingest.models import ImportJob
    from ingest.services.imports import import_confirm, import_upload_create
    from ingest.services.loading import IMPORT_LOCK

    start_worker(queues="default")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])  # as a running undo does
    try:
        import io

        job = import_upload_create(file=io.BytesIO(FILE_A), name="a.csv", size=len(FILE_A))
        import_confirm(job=job)

        def waiting_for_the_lock() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                               "AND NOT granted AND objid = %s", [IMPORT_LOCK])
                return cursor.fetchone()[0] == 1

        wait_until(waiting_for_the_lock, what="the import to wait for the undo")
        waiting = ImportJob.objects.get(pk=job.pk)
        assert waiting.status == JobStatus.RUNNING and waiting.chunks_done == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])

    wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED,
               what="the import to run once the undo is done")
