"""Imports in a real worker: API round trip, and a worker killed mid-import."""

import pandas as pd
import pytest

from ingest.demo.generate import generate_demo_orders
from ingest.models import ImportJob, Order, OrderLine
from ingest.services.bulk_indexes import SET_ASIDE, missing_indexes
from ingest.services.imports import import_confirm, import_upload_create
from profiler_site.core import jobs
from profiler_site.core.models import JobStatus
from tests.conftest import api_key_header
from tests.ingest.helpers_db import orphan_rows
from tests.support import wait_until

pytestmark = pytest.mark.worker


def job(pk):
    return ImportJob.objects.get(pk=pk)


def test_the_api_takes_a_file_and_reports_progress_and_counts(client, owner, start_worker):
    start_worker()
    auth = api_key_header(owner)
    content = (b"order_id,email,ordered_at,sku,quantity,unit_price\n"
               b"1,a@example.com,2024-01-01,S1,1,10\n2,b@example.com,2024-13-01,S1,1,10\n")
    from django.core.files.uploadedfile import SimpleUploadedFile

    created = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", content)}, **auth)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    wait_until(lambda: job(pk).status == JobStatus.SUCCEEDED, what="the import to finish")

    body = client.get(f"/api/imports/{pk}/", **auth).json()
    assert body["status"] == "succeeded" and body["progress"] == 100
    assert {k: body[k] for k in ("rows_read", "customers_created", "orders_created",
                                 "orders_existing", "lines_created", "rows_rejected")} == {
        "rows_read": 2, "customers_created": 1, "orders_created": 1, "orders_existing": 0,
        "lines_created": 1, "rows_rejected": 1}


def test_the_api_names_the_required_fields_a_file_is_missing(client, owner):
    auth = api_key_header(owner)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/api/imports/", {"file": SimpleUploadedFile(
        "o.csv", b"when,amount\n2024-01-01,10\n")}, **auth)

    assert response.status_code == 400
    assert "customer" in response.json()["error"]["message"].lower()


def test_a_worker_killed_mid_import_resumes_at_its_checkpoint_and_ends_like_a_clean_run(
    start_worker, tmp_path
):
    path = tmp_path / "demo.csv"
    generate_demo_orders(path, customers=2500)
    frame = pd.read_csv(path).drop_duplicates()
    expected_orders = frame["order_id"].nunique()
    expected_lines = len(frame.assign(ret=frame["quantity"] < 0)
                         .groupby(["order_id", "sku", "ret"]))
    # A "big" import: it loads with two page indexes set aside (see bulk_indexes).
    env = {"IMPORT_CHUNK_ROWS": "500", "IMPORT_BULK_LINES": "1"}
    worker = start_worker(extra_env=env)
    with open(path, "rb") as f:
        created = import_upload_create(file=f, name="demo.csv", size=path.stat().st_size)
    import_confirm(job=created)

    wait_until(lambda: job(created.pk).chunks_done >= 3, what="some chunks to commit")
    worker.kill()
    assert job(created.pk).status == JobStatus.RUNNING
    checkpoint = job(created.pk).chunks_done
    assert missing_indexes() == list(SET_ASIDE)  # the killed import had set them aside

    wait_until(lambda: jobs.reap_stale_jobs().requeued, what="the reaper to requeue the import")
    start_worker(extra_env=env)
    wait_until(lambda: job(created.pk).status == JobStatus.SUCCEEDED, timeout=90,
               what="the resumed import to finish")

    final = job(created.pk)
    assert final.attempts == 2 and checkpoint < final.chunks_done
    assert Order.objects.count() == expected_orders == final.orders_created
    assert OrderLine.objects.count() == expected_lines == final.lines_created
    assert final.rows_rejected == 0
    assert orphan_rows() == (0, 0)
    assert missing_indexes() == []  # built again by the resumed run


def test_the_cancel_button_stops_an_import_between_chunks_and_keeps_what_was_committed(
    start_worker, owner_client, tmp_path
):
    path = tmp_path / "demo.csv"
    generate_demo_orders(path, customers=2500)
    start_worker(extra_env={"IMPORT_CHUNK_ROWS": "300", "IMPORT_BULK_LINES": "1"})
    with open(path, "rb") as f:
        created = import_upload_create(file=f, name="demo.csv", size=path.stat().st_size)
    import_confirm(job=created)
    wait_until(lambda: job(created.pk).chunks_done >= 2, what="some chunks to commit")

    response = owner_client.post(f"/jobs/ingest.importjob/{created.pk}/cancel/",
                                 HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    wait_until(lambda: job(created.pk).status == JobStatus.CANCELLED, what="the import to stop")
    stopped = job(created.pk)
    assert 2 <= stopped.chunks_done and stopped.processed < stopped.total
    assert Order.objects.count() == stopped.orders_created > 0
    assert missing_indexes() == []  # the indexes it had set aside are back
