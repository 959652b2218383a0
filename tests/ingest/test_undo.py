"""Undoing an import: the database becomes what it would be without that import."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.signals import post_save

from ingest.models import (
    Customer,
    CustomerBefore,
    ImportJob,
    ImportUndo,
    OrderBefore,
    OrderLineBefore,
)
from ingest.services.undo import UNDO_STEPS, UndoRefused, import_undo_run, import_undo_start
from profiler_site.core.jobs import execute_job
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import import_bytes, orphan_rows

pytestmark = pytest.mark.django_db

HEADER = b"order_id,email,first_name,city,ordered_at,sku,product_name,quantity,unit_price,status\n"

FILE_A = HEADER + (
    b"1001,ann@example.com,Ann,Leeds,2024-01-05,S1,Beans,2,10.00,\n"
    b"1001,ann@example.com,Ann,Leeds,2024-01-05,S2,Mug,1,8.50,\n"
    b"1002,bob@example.com,,York,2024-02-01,S1,Beans,1,10.00,\n"
    b"1003,cy@example.com,Cy,Bath,2024-03-01,S3,Tea,3,4.00,\n"
    b"1003,cy@example.com,Cy,Bath,2024-03-01,S1,Beans,-1,10.00,\n"   # a return
    b"1004,ann@example.com,Ann,Leeds,2024-03-10,S2,Mug,1,8.50,\n"
    b"1007,eve@example.com,Eve,Hull,2024-03-11,S3,Tea,1,4.00,\n"
)

# B overlaps A: re-imports some of A's orders with changed lines, cancels one,
# fills in a customer's name, moves one, and adds customers, orders and a product.
FILE_B = HEADER + (
    b"1001,ann@example.com,Ann,Leeds,2024-01-05,S1,Beans,3,10.00,\n"   # quantity 2 -> 3
    b"1001,ann@example.com,Ann,Leeds,2024-01-05,S4,Filter,1,5.00,\n"   # a line added
    b"1002,bob@example.com,Bob,York,2024-02-01,S1,Beans,1,10.00,\n"    # name filled in
    b"1003,cy@example.com,Cy,Bristol,2024-03-01,S3,Tea,3,4.00,cancelled\n"
    b"1005,dee@example.com,Dee,Derby,2024-04-01,S3,Tea,1,4.00,\n"      # new customer
    b"1005,dee@example.com,Dee,Derby,2024-04-01,S5,Kettle,1,30.00,\n"  # and product
    b"1006,cy@example.com,Cy,Bristol,2024-04-02,S1,Beans,1,10.00,\n"   # new order, known customer
    b"1008,fay@example.com,Fay,Ely,2024-04-03,S2,Mug,2,8.50,\n"
)


def database() -> dict:
    """Everything an import writes, by the file's keys (ids differ between databases)."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT key, email, shop_customer_id, first_name, last_name, country, city,
                                 gender, birth_year, accepts_marketing FROM ingest_customer""")
        customers = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute("""SELECT o.order_key, c.key, o.ordered_at, o.is_cancelled, o.gross_total,
                                 o.returned_total, o.refunded_total, o.net_total
                          FROM ingest_order o JOIN ingest_customer c ON c.id = o.customer_id""")
        orders = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute("""SELECT o.order_key, p.sku, l.is_return, l.quantity, l.unit_price,
                                 l.line_total
                          FROM ingest_orderline l JOIN ingest_order o ON o.id = l.order_id
                          JOIN ingest_product p ON p.id = l.product_id""")
        lines = {row[:3]: row[3:] for row in cursor.fetchall()}
        cursor.execute("SELECT sku, name, category FROM ingest_product")
        products = set(cursor.fetchall())
    return {"customers": customers, "orders": orders, "lines": lines, "products": products}


def undo(job: ImportJob) -> ImportUndo:
    started = import_undo_start(job=job)
    execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id, work=import_undo_run)
    started.refresh_from_db()
    return started


@pytest.mark.parametrize("chunk_rows", [2, 50_000], ids=["small chunks", "one chunk"])
def test_import_a_then_b_then_undo_b_equals_import_a_alone(settings, chunk_rows):
    settings.IMPORT_CHUNK_ROWS = chunk_rows
    a = import_bytes(FILE_A)
    a_alone = database()
    b = import_bytes(FILE_B)
    assert a.status == b.status == JobStatus.SUCCEEDED
    assert database() != a_alone and b.orders_existing == 3

    undone = undo(b)

    assert undone.status == JobStatus.SUCCEEDED, undone.error
    assert database() == a_alone
    assert orphan_rows() == (0, 0)
    b.refresh_from_db()
    assert b.undone_at is not None
    assert (undone.orders_removed, undone.customers_removed) == (3, 2)
    assert (undone.orders_restored, undone.customers_restored) == (2, 2)  # 1002: name only
    # Nothing of B's bookkeeping is left behind.
    assert not OrderBefore.objects.exists() and not OrderLineBefore.objects.exists()
    assert not CustomerBefore.objects.exists()


NO_PRODUCTS = b"order_id,email,ordered_at,quantity,line_total\n"


def unlisted_parts() -> dict:
    """Orders' parts from files that named no products (kept on the order, not as lines)."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT order_key, unlisted_quantity, unlisted_gross, unlisted_returned,
                                 gross_total, net_total FROM ingest_order""")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def test_undoing_a_reimport_of_a_file_without_products_restores_its_quantities_and_money():
    a = import_bytes(NO_PRODUCTS + b"2001,ann@example.com,2024-01-05,2,20.00\n"
                                   b"2002,bob@example.com,2024-01-06,3,30.00\n")
    a_alone, parts_a = database(), unlisted_parts()
    b = import_bytes(NO_PRODUCTS + b"2001,ann@example.com,2024-01-05,5,55.00\n"
                                   b"2003,cy@example.com,2024-01-07,1,9.00\n")
    assert unlisted_parts()["2001"][:2] == (5, 55) and a.status == b.status == JobStatus.SUCCEEDED

    undo(b)

    assert unlisted_parts() == parts_a and parts_a["2001"][:2] == (2, 20)
    assert database() == a_alone


ORDER_TOTALS = b"order_id,email,ordered_at,sku,quantity,order_total\n"


@pytest.mark.parametrize("chunk_rows", [1, 50_000], ids=["small chunks", "one chunk"])
def test_undoing_a_reimport_of_order_totals_restores_the_unpriced_lines_and_each_total_once(
    settings, chunk_rows
):
    settings.IMPORT_CHUNK_ROWS = chunk_rows
    a = import_bytes(ORDER_TOTALS + b"3001,ann@example.com,2024-01-05,S1,2,30.00\n"
                                    b"3001,ann@example.com,2024-01-05,S2,1,30.00\n"
                                    b"3002,bob@example.com,2024-01-06,S1,1,12.00\n")
    a_alone = database()
    # The newer export: a third product and a new total for 3001, and a new order.
    b = import_bytes(ORDER_TOTALS + b"3001,ann@example.com,2024-01-05,S1,2,41.00\n"
                                    b"3001,ann@example.com,2024-01-05,S2,1,41.00\n"
                                    b"3001,ann@example.com,2024-01-05,S3,1,41.00\n"
                                    b"3003,cy@example.com,2024-01-07,S2,1,9.00\n")
    assert a.status == b.status == JobStatus.SUCCEEDED
    orders = database()["orders"]
    assert [orders[k][3] for k in ("3001", "3002", "3003")] == [41, 12, 9]  # gross, once each
    assert {v[2] for v in database()["lines"].values()} == {None}  # no line was given a price

    undo(b)

    assert database() == a_alone
    assert a_alone["orders"]["3001"][3] == 30 and len(a_alone["lines"]) == 3


SHOPIFY = (b"Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem price,"
           b"Lineitem sku,Total,Refunded Amount\n")


@pytest.mark.parametrize("chunk_rows", [1, 50_000], ids=["small chunks", "one chunk"])
def test_undoing_the_export_that_brought_refunds_restores_the_orders_as_they_were_paid(
    settings, chunk_rows
):
    settings.IMPORT_CHUNK_ROWS = chunk_rows
    paid = import_bytes(SHOPIFY + b"#1,ann@example.com,paid,2024-01-05,2,10.00,S1,29.90,0.00\n"
                                  b"#1,,,,1,5.00,S2,,\n"
                                  b"#2,bob@example.com,paid,2024-01-06,1,12.00,S1,16.90,0.00\n")
    paid_alone = database()
    # The later export: #1 refunded in full (shipping too), #2 refunded more than its goods.
    refunded = import_bytes(
        SHOPIFY + b"#1,ann@example.com,refunded,2024-01-05,2,10.00,S1,29.90,29.90\n"
                  b"#1,,,,1,5.00,S2,,\n"
                  b"#2,bob@example.com,partially_refunded,2024-01-06,1,12.00,S1,16.90,14.40\n")
    assert paid.status == refunded.status == JobStatus.SUCCEEDED
    orders = database()["orders"]
    # (cancelled, gross, returned, refunded, net): the amounts refunded are kept as given.
    assert orders["#1"][2:] == (True, 25, 0, Decimal("29.90"), 0)
    assert orders["#2"][2:] == (False, 12, 0, Decimal("14.40"), 0)

    undo(refunded)

    assert database() == paid_alone
    assert paid_alone["orders"]["#1"][-1] == 25 and paid_alone["orders"]["#2"][-1] == 12


def test_a_first_import_and_an_unchanged_reimport_keep_no_lines_or_customers_before():
    import_bytes(FILE_A)
    assert not (CustomerBefore.objects.exists() or OrderLineBefore.objects.exists()
                or OrderBefore.objects.exists())

    again = import_bytes(FILE_A)

    # Nothing changed, so nothing is kept for its undo.
    assert again.orders_existing == 5
    assert not (CustomerBefore.objects.exists() or OrderLineBefore.objects.exists()
                or OrderBefore.objects.exists())


def test_undoing_the_middle_of_three_imports_keeps_the_later_ones_values_then_undoing_that_too_gives_a():
    import_bytes(FILE_A)
    a_alone = database()
    b = import_bytes(FILE_B)
    # C re-imports an order B created and one B changed, with its own values.
    c = import_bytes(HEADER + (
        b"1005,dee@example.com,Dee,Derby,2024-04-01,S3,Tea,2,4.00,\n"
        b"1001,ann@example.com,Ann,Leeds,2024-01-05,S2,Mug,4,8.50,\n"
    ))
    after_c = database()

    undo(b)

    now = database()
    # The later import's values stay: Dee's order (now C's) and C's Mug line.
    assert now["orders"]["1005"] == after_c["orders"]["1005"]
    assert now["lines"][("1001", "S2", False)] == after_c["lines"][("1001", "S2", False)]
    assert "1006" not in now["orders"] and "fay@example.com" not in now["customers"]

    undo(c)

    assert database() == a_alone
    assert orphan_rows() == (0, 0)


def test_an_import_cancelled_mid_way_is_undone_to_the_state_before_it(settings):
    settings.IMPORT_CHUNK_ROWS = 2
    import_bytes(FILE_A)
    a_alone = database()

    def cancel_after_two_chunks(sender, instance, **kwargs):
        if instance.original_name == "b.csv" and instance.chunks_done == 2:
            ImportJob.objects.filter(pk=instance.pk).update(cancel_requested=True)

    post_save.connect(cancel_after_two_chunks, sender=ImportJob)
    try:
        b = import_bytes(FILE_B, name="b.csv")
    finally:
        post_save.disconnect(cancel_after_two_chunks, sender=ImportJob)
    assert b.status == JobStatus.CANCELLED and b.chunks_done == 2
    assert database() != a_alone

    undo(b)

    assert database() == a_alone


def test_an_undo_stopped_after_any_step_ends_like_one_run_and_a_second_run_changes_nothing(settings):
    settings.IMPORT_CHUNK_ROWS = 2
    import_bytes(FILE_A)
    a_alone = database()
    for stopped_after in range(1, len(UNDO_STEPS)):
        b = import_bytes(FILE_B)
        started = import_undo_start(job=b)
        for step in UNDO_STEPS[:stopped_after]:  # the worker died after this step
            step(started)
        ImportUndo.objects.filter(pk=started.pk).update(status=JobStatus.RUNNING)

        execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id,
                    work=import_undo_run)  # the same message, delivered again

        assert database() == a_alone, f"stopped after step {stopped_after}"
    # The task delivered once more after it finished: skipped; a new undo: refused.
    assert execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id,
                       work=import_undo_run) == "skipped"
    with pytest.raises(UndoRefused):
        import_undo_start(job=b)
    assert database() == a_alone


def test_an_undo_run_for_an_import_already_undone_changes_nothing():
    import_bytes(FILE_A)
    b = import_bytes(FILE_B)
    first = import_undo_start(job=b)
    second = ImportUndo.objects.create(target=b, status=JobStatus.QUEUED, task_id="again")
    execute_job(model=ImportUndo, job_id=first.pk, task_id=first.task_id, work=import_undo_run)
    after_first = database()

    execute_job(model=ImportUndo, job_id=second.pk, task_id="again", work=import_undo_run)

    second.refresh_from_db()
    assert second.status == JobStatus.SUCCEEDED and "already" in second.message
    assert database() == after_first


def test_an_undo_is_refused_while_another_import_runs_and_for_drafts_and_event_imports():
    import_bytes(FILE_A)
    b = import_bytes(FILE_B)
    running = ImportJob.objects.create(original_name="big.csv", status=JobStatus.RUNNING)

    with pytest.raises(UndoRefused) as refused:
        import_undo_start(job=b)
    assert "running" in refused.value.reason
    # Queued before the other import started: the worker refuses too, and changes nothing.
    ImportJob.objects.filter(pk=running.pk).update(status=JobStatus.SUCCEEDED)
    queued = import_undo_start(job=b)
    ImportJob.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
    before = database()
    with pytest.raises(UndoRefused):
        execute_job(model=ImportUndo, job_id=queued.pk, task_id=queued.task_id,
                    work=import_undo_run)
    queued.refresh_from_db()
    assert queued.status == JobStatus.FAILED and "running" in queued.error
    assert database() == before

    draft = ImportJob.objects.create(original_name="d.csv", status=JobStatus.DRAFT)
    events = ImportJob.objects.create(original_name="e.csv", kind="events",
                                      status=JobStatus.SUCCEEDED)
    for job in (draft, events):
        with pytest.raises(UndoRefused):
            import_undo_start(job=job)


def test_customers_an_events_file_created_are_not_the_order_imports_to_remove():
    import_bytes(FILE_A)
    from ingest.services.event_imports import customers_ensure

    customers_ensure(keys={"zed@example.com": {"email": "zed@example.com"}})
    b = import_bytes(FILE_B)

    undo(b)

    assert Customer.objects.filter(key="zed@example.com").exists()


REAL_SHOP = (b"order_id,email,first_name,ordered_at,sku,quantity,unit_price\n"
             b"R1,rita@shop.example,Rita,2024-05-01,BEAN-1,1,12.00\n"
             b"R2,sam@shop.example,Sam,2024-05-02,BEAN-1,2,12.00\n")


def test_removing_the_demo_shop_leaves_the_real_shop_and_no_demo_customer_in_any_audience(
    settings, tmp_path
):
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus
    from campaigns.selectors import audience_summary, campaign_report
    from ingest.services.demo import demo_import_if_empty
    from ingest.services.undo import demo_remove_start
    from tests.campaigns.conftest import make_campaign

    settings.VAR_DIR = tmp_path
    demo = demo_import_if_empty(customers=120)
    demo_ids = set(Customer.objects.values_list("id", flat=True))
    assert demo.status == JobStatus.SUCCEEDED and len(demo_ids) == 120
    import_bytes(REAL_SHOP)
    real_ids = set(Customer.objects.exclude(id__in=demo_ids).values_list("id", flat=True))
    # A campaign the owner tried on the demo shop: two emails went out, one is waiting.
    tried = make_campaign()
    Campaign.objects.filter(pk=tried.pk).update(status=CampaignStatus.SENDING,
                                                send_started_at=timezone.now() - timedelta(days=1))
    demo_people = list(Customer.objects.filter(id__in=demo_ids).order_by("id")[:3])
    for person, status, group in zip(demo_people, ["sent", "held_out", "pending"],
                                     ["treatment", "holdout", "treatment"]):
        Recipient.objects.create(campaign=tried, customer=person, group=group, email=person.email,
                                 status=status, sent_at=timezone.now() if status == "sent" else None)

    started = demo_remove_start()
    execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id, work=import_undo_run)

    started.refresh_from_db()
    assert started.status == JobStatus.SUCCEEDED, started.error
    assert set(Customer.objects.values_list("id", flat=True)) == real_ids
    assert orphan_rows() == (0, 0)
    audience = audience_summary(kind="all", key="all")
    assert set(audience.eligible_ids) == real_ids and not demo_ids & set(audience.eligible_ids)
    # The tried campaign's history keeps what was sent (to which address); the
    # waiting email to a demo customer is gone and will never be sent.
    kept = Recipient.objects.filter(campaign=tried).order_by("id")
    assert [(r.customer_id, r.email, r.status) for r in kept] == [
        (None, demo_people[0].email, RecipientStatus.SENT),
        (None, demo_people[1].email, RecipientStatus.HELD_OUT)]
    assert campaign_report(Campaign.objects.get(pk=tried.pk)).audience == 2
    # Nothing left to remove, and an empty shop does not get the demo back.
    assert demo_remove_start() is None
    Customer.objects.all().delete()
    assert demo_import_if_empty(customers=120) is None


def test_the_report_page_offers_the_undo_and_its_confirm_page_says_what_goes(owner_client):
    import_bytes(FILE_A)
    b = import_bytes(FILE_B)

    detail = owner_client.get(f"/uploads/{b.pk}/").content.decode()
    confirm = owner_client.get(f"/uploads/{b.pk}/undo/").content.decode()

    assert f'href="/uploads/{b.pk}/undo/"' in detail
    assert "3 orders it added are removed" in confirm
    assert "2 customers it added are removed" in confirm
    assert "2 earlier orders it imported again get back" in confirm
    assert "2 earlier customers it changed get back" in confirm

    response = owner_client.post(f"/uploads/{b.pk}/undo/")

    assert response.status_code == 302 and response.url == f"/uploads/{b.pk}/"
    undo = ImportUndo.objects.get(target=b)
    assert undo.status == JobStatus.QUEUED  # the worker takes it from here
    assert "Undo" in owner_client.get(f"/uploads/{b.pk}/").content.decode()
    # Pressing the button again does not queue a second undo.
    owner_client.post(f"/uploads/{b.pk}/undo/")
    assert ImportUndo.objects.filter(target=b).count() == 1


def test_the_uploads_and_overview_pages_offer_to_remove_the_demo_shop_while_it_is_there(
    owner_client, settings, tmp_path
):
    from ingest.services.demo import demo_import_if_empty

    settings.VAR_DIR = tmp_path
    demo = demo_import_if_empty(customers=30)
    for page in ("/uploads/", "/"):
        assert 'href="/uploads/demo/remove/"' in owner_client.get(page).content.decode()
    assert "example customers" in owner_client.get("/uploads/demo/remove/").content.decode()

    owner_client.post("/uploads/demo/remove/")
    started = ImportUndo.objects.get(target=demo)
    execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id, work=import_undo_run)

    for page in ("/uploads/", "/"):
        assert "/uploads/demo/remove/" not in owner_client.get(page).content.decode()
    assert not Customer.objects.exists()


def test_the_undo_pages_speak_chinese_to_a_chinese_speaking_owner(owner, owner_client, settings,
                                                                  tmp_path):
    from ingest.services.demo import demo_import_if_empty
    from profiler_site.core.services import user_language_set

    settings.VAR_DIR = tmp_path
    demo = demo_import_if_empty(customers=30)
    user_language_set(user=owner, language="zh-hans")

    confirm = owner_client.get("/uploads/demo/remove/").content.decode()
    uploads = owner_client.get("/uploads/").content.decode()
    detail = owner_client.get(f"/uploads/{demo.pk}/").content.decode()

    assert "删除演示商店" in confirm and "它添加的" in confirm and "保留" in confirm
    assert "示例咖啡店供您浏览" in uploads and "撤销此导入" in detail
    for english in ("orders it added", "Keep it", "Remove the demo shop", "Undo this import"):
        assert english not in confirm + uploads + detail


def test_a_demo_shop_imported_before_customers_recorded_their_import_is_removed_whole(
    settings, tmp_path
):
    import importlib

    from ingest.services.demo import demo_import_if_empty
    from ingest.services.undo import demo_remove_start

    settings.VAR_DIR = tmp_path
    demo = demo_import_if_empty(customers=40)
    # As an older version left it: orders knew their import, customers did not.
    Customer.objects.update(import_job=None)
    ImportJob.objects.filter(pk=demo.pk).update(options={})
    backfill = importlib.import_module("ingest.migrations.0010_import_undo").Migration.operations[-1]
    with connection.cursor() as cursor:
        cursor.execute(backfill.sql)

    started = demo_remove_start()
    execute_job(model=ImportUndo, job_id=started.pk, task_id=started.task_id, work=import_undo_run)

    assert database() == {"customers": {}, "orders": {}, "lines": {}, "products": set()}
