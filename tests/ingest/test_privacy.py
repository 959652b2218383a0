"""Giving a customer their data, and forgetting them for good."""

from __future__ import annotations

import csv
import io
import json
import threading
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.urls import reverse

from campaigns.models import Recipient, RecipientGroup, RecipientStatus, Suppression
from campaigns.selectors import audience_summary
from campaigns.services.tracking import suppression_add
from ingest.models import (
    Customer,
    CustomerBefore,
    ErasedCustomer,
    Event,
    ImportJob,
    ImportRejection,
    Order,
)
from ingest.services.event_imports import api_events_store
from ingest.services.events import event_record
from ingest.services.imports import ERASED_NOTE
from ingest.services.privacy import (
    customer_archive_stream,
    customer_erase,
    erase_lock_shared_in_transaction,
)
from profiler_site.core.api_keys import api_key_create
from profiler_site.core.audit import Actor
from profiler_site.core.models import AuditAction, AuditEntry, JobStatus
from segments.models import SegmentationRun, SegmentMembership
from tests.campaigns.conftest import make_campaign
from tests.ingest.helpers_db import import_bytes, orphan_rows
from tests.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = Actor(name="owner")

ORDERS = (
    b"order_id,email,first_name,last_name,city,birth_year,gender,ordered_at,sku,product_name,"
    b"quantity,unit_price\n"
    b"A1,ann@example.com,Ann,Lee,Leeds,1980,f,2024-01-05,S1,Mug,2,5.00\n"
    b"A1,ann@example.com,Ann,Lee,Leeds,1980,f,2024-01-05,S2,Tea,1,4.50\n"
    b"B1,bob@example.com,Bob,Ray,York,1975,m,2024-01-06,S1,Mug,1,5.00\n"
    b"A2,ann@example.com,Ann,Lee,Leeds,1980,f,2024-02-01,S2,Tea,3,4.50\n"
    b",ann@example.com,Ann,Lee,Leeds,1980,f,2024-03-01,S1,Mug,1,5.00\n"
)


def shop_totals() -> tuple[int, int, Decimal]:
    return (Order.objects.count(), Order.objects.values("customer_id").distinct().count(),
            Order.objects.aggregate(total=Sum("net_total"))["total"])


def archive_of(customer_id: int) -> zipfile.ZipFile:
    data = b"".join(customer_archive_stream(customer_id=customer_id, actor=OWNER))
    return zipfile.ZipFile(io.BytesIO(data))


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_the_archive_holds_identity_orders_lines_events_segments_and_campaign_emails():
    # given: ann with orders, an event, a segment history and a campaign email
    import_bytes(ORDERS)
    ann = Customer.objects.get(key="ann@example.com")
    event_record(customer_id=ann.pk, type="page_view", occurred_at=datetime(2024, 1, 4, tzinfo=UTC),
                 properties={"url": "/mugs"})
    run = SegmentationRun.objects.create()
    SegmentMembership.objects.create(run=run, customer=ann, rfm_key="champions", cluster_key="c1")
    campaign = make_campaign()
    Recipient.objects.create(campaign=campaign, customer=ann, group=RecipientGroup.TREATMENT,
                             email="ann@example.com", status=RecipientStatus.SENT, opens=1,
                             clicks=2)
    suppression_add(email="ann@example.com")

    # when
    archive = archive_of(ann.pk)

    # then: every part is there, with ann's rows and nobody else's
    identity = json.loads(archive.read("customer.json"))
    assert (identity["email"], identity["first_name"], identity["city"], identity["birth_year"]) == \
        ("ann@example.com", "Ann", "Leeds", 1980)
    orders = csv_rows(archive, "orders.csv")
    assert len(orders) == 3 and {o["order_key"] for o in orders} >= {"A1", "A2"}
    assert sum(Decimal(o["net_total"]) for o in orders) == Decimal("33.00")
    lines = csv_rows(archive, "order_lines.csv")
    assert {(line["order_key"], line["sku"], line["quantity"]) for line in lines} >= \
        {("A1", "S1", "2"), ("A1", "S2", "1"), ("A2", "S2", "3")}
    assert [e["type"] for e in csv_rows(archive, "events.csv")] == ["page_view"]
    assert "/mugs" in csv_rows(archive, "events.csv")[0]["properties"]
    assert [(m["rfm_key"], m["cluster_key"]) for m in csv_rows(archive, "segment_history.csv")] == \
        [("champions", "c1")]
    emails = csv_rows(archive, "emails.csv")
    assert [(e["campaign_name"], e["status"], e["opens"], e["clicks"]) for e in emails] == \
        [(campaign.name, "sent", "1", "2")]
    assert [s["reason"] for s in csv_rows(archive, "suppression.csv")] == ["manual"]
    assert "scores.csv" in archive.namelist() and "README.txt" in archive.namelist()
    assert AuditEntry.objects.filter(action=AuditAction.CUSTOMER_EXPORTED,
                                     target=f"customer #{ann.pk}").count() == 1


def test_the_archive_of_a_customer_with_10000_orders_streams_in_many_pieces():
    customer = Customer.objects.create(key="big@example.com", email="big@example.com")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    Order.objects.bulk_create([
        Order(order_key=f"O{i}", customer=customer, ordered_at=start + timedelta(hours=i),
              gross_total=Decimal("1.10"), net_total=Decimal("1.10"))
        for i in range(10_000)
    ], batch_size=5000)

    def peak_memory(work) -> int:
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    pieces: list[bytes] = []
    streaming = peak_memory(lambda: pieces.extend(
        customer_archive_stream(customer_id=customer.pk, actor=OWNER)))
    whole = peak_memory(lambda: list(Order.objects.filter(customer=customer).values_list()))

    # the orders are read and handed on in pieces, never held all at once
    assert len([p for p in pieces if p]) >= 10
    assert streaming < whole / 2
    orders = csv_rows(zipfile.ZipFile(io.BytesIO(b"".join(pieces))), "orders.csv")
    assert len(orders) == 10_000
    assert sum(Decimal(o["net_total"]) for o in orders) == Decimal("11000.00")


def test_archive_cells_that_look_like_formulas_are_neutralised():
    customer = Customer.objects.create(key="x@example.com", email="x@example.com")
    event_record(customer_id=customer.pk, type='=HYPERLINK("http://evil")',
                 occurred_at=datetime(2024, 1, 1, tzinfo=UTC))

    events = csv_rows(archive_of(customer.pk), "events.csv")

    assert events[0]["type"].startswith("'=")


def test_erasing_removes_the_person_keeps_the_orders_and_suppresses_the_address_by_hash_only():
    import_bytes(ORDERS)
    ann = Customer.objects.get(key="ann@example.com")
    event_record(customer_id=ann.pk, type="page_view", occurred_at=datetime(2024, 1, 4, tzinfo=UTC),
                 properties={"email": "ann@example.com"})
    campaign = make_campaign()
    Recipient.objects.create(campaign=campaign, customer=ann, group=RecipientGroup.HOLDOUT,
                             email="ann@example.com", first_name="Ann",
                             status=RecipientStatus.HELD_OUT)
    suppression_add(email="ann@example.com")
    before = shop_totals()

    erasure = customer_erase(customer_id=ann.pk, actor=OWNER)

    ann.refresh_from_db()
    assert erasure.orders_kept == 3 and not erasure.already_erased
    assert (ann.key, ann.email, ann.first_name, ann.last_name, ann.city, ann.birth_year,
            ann.gender) == (f"erased:{ann.pk}", "", "", "", "", None, "")
    assert shop_totals() == before
    # the order without a shop order id was keyed by her address: not any more
    assert not Order.objects.filter(order_key__contains="ann@").exists()
    assert list(Event.objects.filter(customer=ann).values_list("properties", flat=True)) == [{}]
    holdout = Recipient.objects.get(campaign=campaign, customer=ann)
    assert (holdout.email, holdout.first_name, holdout.status) == ("", "", RecipientStatus.HELD_OUT)
    assert not Suppression.objects.filter(email__icontains="ann").exists()
    assert Suppression.objects.filter(email=None).exclude(email_hash=None).count() == 1
    assert ErasedCustomer.objects.count() == 1
    assert "ann@example.com" not in ErasedCustomer.objects.get().key_hash
    entry = AuditEntry.objects.get(action=AuditAction.CUSTOMER_ERASED)
    assert (entry.actor, entry.target, entry.details["orders_kept"]) == \
        ("owner", f"customer #{ann.pk}", 3)
    # a second erasure changes nothing
    assert customer_erase(customer_id=ann.pk, actor=OWNER).already_erased
    assert orphan_rows() == (0, 0)


def test_erasing_forgets_the_details_an_import_undo_kept_about_the_person():
    import_bytes(ORDERS)
    # a later file renames her: the import keeps "Ann Lee, Leeds" for its undo
    import_bytes(ORDERS.replace(b"Ann,Lee,Leeds", b"Annie,Lee,Hull"))
    ann = Customer.objects.get(key="ann@example.com")
    kept = CustomerBefore.objects.filter(customer_id=ann.pk)
    assert list(kept.values_list("first_name", "city")) == [("Ann", "Leeds")]

    customer_erase(customer_id=ann.pk, actor=OWNER)

    assert not kept.exists()
    assert not CustomerBefore.objects.filter(email__icontains="ann@").exists()


def test_an_erased_address_that_comes_back_under_another_key_is_still_suppressed():
    Customer.objects.create(key="ann@example.com", email="ann@example.com", accepts_marketing=True)
    customer_erase(customer_id=Customer.objects.get().pk, actor=OWNER)
    Customer.objects.create(key="id:77", email="Ann@Example.com ", accepts_marketing=True)

    summary = audience_summary(kind="all", key="all")

    assert (summary.suppressed, summary.eligible) == (1, 0)


def test_reimporting_an_old_file_after_an_erasure_brings_nobody_back(settings):
    settings.IMPORT_CHUNK_ROWS = 2  # across chunks, through both loading routes
    import_bytes(ORDERS)
    ann = Customer.objects.get(key="ann@example.com")
    before = shop_totals()
    customer_erase(customer_id=ann.pk, actor=OWNER)

    again = import_bytes(ORDERS)

    assert again.status == JobStatus.SUCCEEDED
    assert again.cleaning_notes[ERASED_NOTE] == 4
    assert not Customer.objects.filter(key="ann@example.com").exists()
    assert not Customer.objects.filter(email="ann@example.com").exists()
    assert shop_totals() == before
    assert (again.customers_created, again.orders_created) == (0, 0)


def test_a_new_file_with_an_erased_customer_imports_everyone_else(settings):
    settings.IMPORT_CHUNK_ROWS = 3
    import_bytes(ORDERS)
    customer_erase(customer_id=Customer.objects.get(key="ann@example.com").pk, actor=OWNER)
    orders_before = Order.objects.count()

    job = import_bytes(
        b"order_id,email,ordered_at,sku,quantity,unit_price\n"
        b"N1,ann@example.com,2024-05-01,S1,1,5.00\n"
        b"N2,cy@example.com,2024-05-01,S1,2,5.00\n"
        b"N3,ann@example.com,2024-05-02,S2,1,4.50\n"
        b"N4,cy@example.com,2024-05-03,S2,1,4.50\n"
    )

    assert job.cleaning_notes[ERASED_NOTE] == 2
    assert (job.customers_created, job.orders_created) == (1, 2)
    assert Order.objects.count() == orders_before + 2
    assert not Customer.objects.filter(key="ann@example.com").exists()
    assert orphan_rows() == (0, 0)


def test_events_posted_for_an_erased_customer_are_dropped():
    Customer.objects.create(key="ann@example.com", email="ann@example.com")
    customer_erase(customer_id=Customer.objects.get().pk, actor=OWNER)

    stored = api_events_store(events=[
        {"customer": "ann@example.com", "type": "page_view", "time": datetime(2024, 1, 1, tzinfo=UTC)},
        {"customer": "cy@example.com", "type": "page_view", "time": datetime(2024, 1, 1, tzinfo=UTC)},
    ])

    assert stored == 1
    assert not Customer.objects.filter(key="ann@example.com").exists()


def test_erasing_removes_rejected_rows_that_name_the_person_and_only_them():
    job = import_bytes(ORDERS + b"A9,ann@example.com,Ann,Lee,Leeds,1980,f,2024-02-30,S1,Mug,1,5.00\n"
                                b"J9,joann@example.com,Jo,Ann,Leeds,1980,f,2024-02-30,S1,Mug,1,5.00\n")
    assert ImportRejection.objects.filter(job=job).count() == 2

    customer_erase(customer_id=Customer.objects.get(key="ann@example.com").pk, actor=OWNER)

    assert [r.raw["email"] for r in ImportRejection.objects.filter(job=job)] == ["joann@example.com"]
    assert ImportJob.objects.get(pk=job.pk).rows_rejected == 2  # the report's count stays


def _waiting_for_a_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def test_an_erasure_waits_for_an_import_chunk_in_flight():
    customer = Customer.objects.create(key="ann@example.com", email="ann@example.com")
    chunk_holds = threading.Event()
    release = threading.Event()
    pids: dict[str, int] = {}
    erased = threading.Event()

    def chunk() -> None:
        try:
            with transaction.atomic():
                erase_lock_shared_in_transaction()
                chunk_holds.set()
                release.wait(30)
        finally:
            connection.close()

    def erase() -> None:
        try:
            connection.ensure_connection()
            pids["erase"] = connection.connection.info.backend_pid
            customer_erase(customer_id=customer.pk, actor=OWNER)
            erased.set()
        finally:
            connection.close()

    holder = threading.Thread(target=chunk)
    holder.start()
    chunk_holds.wait(10)
    eraser = threading.Thread(target=erase)
    eraser.start()
    wait_until(lambda: "erase" in pids and _waiting_for_a_lock(pids["erase"]),
               what="the erasure to wait for the chunk")
    assert not erased.is_set()
    release.set()
    holder.join(10)
    eraser.join(10)
    assert erased.is_set()
    assert Customer.objects.get(pk=customer.pk).email == ""


@pytest.mark.worker
def test_erasing_a_customer_while_an_import_of_them_runs_does_not_bring_them_back(start_worker):
    # given: a worker importing one row per chunk, ann on every other row
    start_worker(extra_env={"IMPORT_CHUNK_ROWS": "1"})
    rows = ["order_id,email,ordered_at,line_total"]
    for i in range(400):
        who = "ann@example.com" if i % 2 == 0 else f"c{i}@example.com"
        rows.append(f"O{i},{who},2024-01-01,1.00")
    from ingest.services.imports import import_confirm, import_upload_create

    content = ("\n".join(rows) + "\n").encode()
    job = import_upload_create(file=io.BytesIO(content), name="orders.csv", size=len(content))
    import_confirm(job=job)
    wait_until(lambda: Customer.objects.filter(key="ann@example.com").exists(),
               what="ann's first chunk to commit")

    # when: the import is held between two chunks (its job row locked), and ann is erased
    blocker = connections.create_connection("default")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM ingest_importjob WHERE id = %s FOR UPDATE", [job.pk])
            ann = Customer.objects.get(key="ann@example.com")
            customer_erase(customer_id=ann.pk, actor=OWNER)
            cursor.execute("COMMIT")
    finally:
        blocker.close()
    wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED,
               timeout=120, what="the import to finish")

    # then: ann stays erased; her rows after the erasure were skipped and counted
    job.refresh_from_db()
    kept = Order.objects.filter(customer=ann).count()
    skipped = job.cleaning_notes.get(ERASED_NOTE, 0)
    assert not Customer.objects.filter(key="ann@example.com").exists()
    assert kept >= 1 and skipped >= 1 and kept + skipped == 200
    assert Order.objects.count() == 400 - skipped


def test_the_profile_page_offers_both_and_settings_shows_the_audit_log(owner_client):
    import_bytes(ORDERS)
    ann = Customer.objects.get(key="ann@example.com")

    profile = owner_client.get(reverse("customer-detail", args=[ann.pk])).content.decode()
    download = owner_client.get(reverse("customer-archive", args=[ann.pk]))
    confirm = owner_client.get(reverse("customer-erase", args=[ann.pk]))
    erased = owner_client.post(reverse("customer-erase", args=[ann.pk]), follow=True)
    settings_page = owner_client.get(reverse("settings")).content.decode()

    assert reverse("customer-archive", args=[ann.pk]) in profile
    assert reverse("customer-erase", args=[ann.pk]) in profile
    assert download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert "orders.csv" in names
    assert confirm.status_code == 200 and b"cannot be undone" in confirm.content
    assert erased.status_code == 200 and b"ann@example.com" not in erased.content
    assert Customer.objects.get(pk=ann.pk).email == ""
    assert "Customer erased" in settings_page and "Customer&#x27;s data downloaded" in settings_page
    assert f"customer #{ann.pk}" in settings_page and "owner" in settings_page


def test_the_api_exports_and_erases_with_a_token(client, owner):
    import_bytes(ORDERS)
    ann = Customer.objects.get(key="ann@example.com")
    token = api_key_create(user=owner, name="tests", scope="full")
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    exported = client.get(f"/api/customers/{ann.pk}/export/", **auth)
    erased = client.post(f"/api/customers/{ann.pk}/erase/", **auth)
    missing = client.post("/api/customers/999999/erase/", **auth)

    archive = zipfile.ZipFile(io.BytesIO(b"".join(exported.streaming_content)))
    assert json.loads(archive.read("customer.json"))["email"] == "ann@example.com"
    assert erased.status_code == 200 and erased.json()["orders_kept"] == 3
    assert missing.status_code == 404
    assert Customer.objects.get(pk=ann.pk).email == ""
    assert AuditEntry.objects.get(action=AuditAction.CUSTOMER_ERASED).actor == "owner"


def test_manage_py_exports_and_erases_by_email(tmp_path):
    import_bytes(ORDERS)
    target = tmp_path / "ann.zip"

    call_command("customer_export", "ann@example.com", "--output", str(target))
    call_command("customer_erase", "ann@example.com", "--yes")

    assert len(csv_rows(zipfile.ZipFile(target), "orders.csv")) == 3
    assert not Customer.objects.filter(email="ann@example.com").exists()
    assert list(AuditEntry.objects.values_list("actor", flat=True)) == ["manage.py", "manage.py"]
