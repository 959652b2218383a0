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
