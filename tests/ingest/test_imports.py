import csv
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse

from ingest.demo.generate import generate_demo_orders
from ingest.models import Customer, ImportJob, Order, OrderLine, SavedMapping
from ingest.services.imports import ImportRejected, import_upload_create
from profiler_site.core.models import JobStatus
from tests.conftest import api_key_header
from tests.ingest.helpers_db import DATA, import_bytes, import_file, orphan_rows

pytestmark = pytest.mark.django_db(transaction=True)

GENERIC = (
    "order_id,email,first_name,ordered_at,sku,product_name,quantity,unit_price\n"
    "A1,ann@example.com,Ann,2024-01-05,S1,Mug,2,5.00\n"
    "A1,ann@example.com,Ann,2024-01-05,S2,Tea,1,4.50\n"
    "B2,bob@example.com,Bob,2023-02-30,S1,Mug,1,5.00\n"
    "C3,cy@example.com,=HYPERLINK(\"http://x\"),2024-02-01,S2,Tea,3,4.50\n"
)


def test_the_demo_shop_imports_cleanly_and_a_second_import_adds_nothing(tmp_path):
    path = tmp_path / "demo.csv"
    generate_demo_orders(path, customers=600)

    first = import_file(path)
    counts = (Customer.objects.count(), Order.objects.count(), OrderLine.objects.count())
    second = import_file(path)

    assert first.status == JobStatus.SUCCEEDED and first.rows_rejected == 0
    assert first.customers_created == counts[0] == 600
    assert first.orders_created == counts[1] and first.lines_created == counts[2]
    assert (Customer.objects.count(), Order.objects.count(), OrderLine.objects.count()) == counts
    assert (second.customers_created, second.orders_created, second.lines_created) == (0, 0, 0)
    assert second.orders_existing == counts[1]
    assert orphan_rows() == (0, 0)


def test_demo_money_in_the_database_equals_the_file(tmp_path):
    path = tmp_path / "demo.csv"
    generate_demo_orders(path, customers=300)
    frame = pd.read_csv(path).drop_duplicates()
    expected = (frame["quantity"] * frame["unit_price"]).sum()

    import_file(path)

    stored = sum(o.net_total for o in Order.objects.all())
    assert abs(float(stored) - expected) < 0.05


def test_a_bad_row_is_rejected_with_its_line_and_reason_and_the_good_rows_import():
    job = import_bytes(GENERIC.encode())

    assert job.status == JobStatus.SUCCEEDED
    assert job.rows_read == 4 and job.rows_rejected == 1
    rejection = job.rejections.get()
    assert rejection.line_no == 4 and "2023-02-30" in rejection.reason and "not a real date" in rejection.reason
    assert Order.objects.filter(order_key="A1").get().net_total == Decimal("14.50")
    assert not Order.objects.filter(order_key="B2").exists()


def test_the_rejected_rows_download_is_safe_against_formula_injection(owner_client):
    content = GENERIC.replace("2024-02-01", "not a date").encode()
    job = import_bytes(content)

    response = owner_client.get(reverse("import-rejects", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0][:2] == ["line", "reason"]
    hostile = [r for r in rows[1:] if r[0] == "5"][0]
    assert any(cell.startswith("'=HYPERLINK") for cell in hostile)
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_the_shopify_export_fills_order_fields_and_nets_cancellations_and_refunds(settings):
    settings.SHOP_CURRENCY = "EUR"  # the export's: a shop in another refuses its orders
    job = import_file(DATA / "shopify_orders.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.preset == "shopify"
    jane = Customer.objects.get(key="jane@example.com")
    first = Order.objects.get(order_key="#1001")
    assert first.customer == jane and first.lines.count() == 2
    assert first.net_total == Decimal("37.00")
    assert Order.objects.get(order_key="#1002").is_cancelled
    assert Order.objects.get(order_key="#1002").net_total == 0
    assert Order.objects.get(order_key="#1003").customer == jane  # " JANE@Example.com " cleaned
    assert jane.accepts_marketing is True


def test_the_advanced_order_export_for_woocommerce_imports_customers_net_totals_and_cancellations():
    job = import_file(DATA / "woocommerce_advanced_order_export.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.preset == "woocommerce_advanced_order_export"
    assert job.rows_rejected == 0
    assert (Customer.objects.count(), Order.objects.count()) == (3, 5)
    jonas = Customer.objects.get(key="jonas.weber@example.de")  # both spellings of the email
    assert sorted(jonas.orders.values_list("order_key", flat=True)) == ["4821", "4830"]
    sam = Customer.objects.get(key="sam.okafor@example.com")
    assert (sam.first_name, sam.last_name, sam.city, sam.country) == (
        "Sam",
        "Okafor, Jr.",
        "Zürich",
        "CH",
    )
    totals = {o.order_key: (o.net_total, o.is_cancelled) for o in Order.objects.all()}
    # Goods after refunds, without shipping and tax (the order totals are 47.48, 29.63...).
    assert totals == {
        "4821": (Decimal("35.00"), False),
        "4822": (Decimal("0.00"), False),  # "Refunded": bought, then all money returned
        "4823": (Decimal("0.00"), True),  # "Cancelled"
        "4830": (Decimal("10.00"), False),  # one of two bags refunded
        "4836": (Decimal("15.00"), False),
    }
    assert Order.objects.get(order_key="4821").lines.count() == 2
    assert Order.objects.get(order_key="4830").refunded_total == 0  # not taken off twice
    assert orphan_rows() == (0, 0)


def _net_by_customer() -> dict[str, Decimal]:
    return {c.key: sum((o.net_total for o in c.orders.all()), Decimal(0))
            for c in Customer.objects.all()}


def test_an_etsy_export_imports_buyers_items_and_us_dates():
    job = import_file(DATA / "etsy_sold_order_items.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.preset, job.rows_rejected) == ("etsy_sold_order_items", 0)
    # The goods: shipping, tax and the order's discount are not in them.
    assert _net_by_customer() == {"id:mara_makes": Decimal("66.50"),
                                  "id:oak_and_ivy": Decimal("64.00")}
    mara = Customer.objects.get(key="id:mara_makes")
    assert (mara.first_name, mara.last_name, mara.city) == ("Mara", "Lind", "Portland")
    board = Order.objects.get(order_key="2329104")
    assert (board.ordered_at.month, board.ordered_at.day) == (1, 3)  # 01/03/22: 3 January
    assert Order.objects.get(order_key="2328983").lines.count() == 2  # one line has no SKU
    assert orphan_rows() == (0, 0)


def test_a_stripe_export_nets_refunds_and_counts_a_failed_payment_as_nothing():
    job = import_file(DATA / "stripe_payments.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.preset, job.rows_rejected) == ("stripe_payments", 0)
    assert _net_by_customer() == {"ann@example.com": Decimal("135.00"),  # 120 + (25 - 10)
                                  "bo@example.com": Decimal("0.00"),  # refunded, failed
                                  "id:cus_Nc3": Decimal("80.00")}  # no email on file
    assert Order.objects.get(order_key="ch_3KfD4").is_cancelled  # "Failed"
    # "Refunded" in full: it stays in the history and counts 0, as a cancelled payment.
    assert Order.objects.get(order_key="ch_3KfC3").is_cancelled
    assert not OrderLine.objects.exists()  # payments name no products


def test_a_square_export_takes_net_sales_and_refuses_a_sale_without_a_customer():
    job = import_file(DATA / "square_item_details.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.preset, job.rows_rejected) == ("square_item_details", 1)  # the walk-in
    # After the discount, before tax; the refund is a row of its own ("$1,250.00" read).
    assert _net_by_customer() == {"id:CUST9ZX": Decimal("8.25"), "id:CUSTQ42": Decimal("1250.00")}
    assert Order.objects.get(order_key="Tx7aQ1").lines.count() == 2
    assert orphan_rows() == (0, 0)


def test_the_uci_layout_treats_c_invoices_as_returns_and_drops_the_duplicate_row():
    job = import_file(DATA / "uci_online_retail.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.preset == "uci_online_retail"
    assert job.duplicates_dropped == 1
    credit = Order.objects.get(order_key="C536383")
    assert credit.net_total == Decimal("-4.65") and credit.lines.get().is_return
    assert Order.objects.get(order_key="536365").ordered_at.month == 12  # 12/1/2010 is 1 December
    assert job.outliers and job.outliers[0]["quantity"] == 80995


def test_an_order_id_already_owned_by_another_customer_is_rejected_not_moved():
    import_bytes(b"order_id,email,ordered_at,line_total\nX9,first@example.com,2024-01-01,10\n")

    job = import_bytes(b"order_id,email,ordered_at,line_total\nX9,other@example.com,2024-01-02,99\n")

    assert Order.objects.get(order_key="X9").customer.key == "first@example.com"
    assert job.rows_rejected == 1 and "another customer" in job.rejections.get().reason


def test_a_refused_order_does_not_take_the_cancellation_of_the_refused_rows():
    import_bytes(b"order_id,email,ordered_at,line_total\nX9,first@example.com,2024-01-01,10\n")

    import_bytes(b"order_id,email,ordered_at,line_total,status\n"
                 b"X9,other@example.com,2024-01-02,10,cancelled\n")

    assert not Order.objects.get(order_key="X9").is_cancelled


def test_a_cancellation_in_a_later_file_cancels_the_stored_order_and_nets_it_out():
    import_bytes(b"order_id,email,ordered_at,line_total\nX9,ann@example.com,2024-01-01,10\n")

    job = import_bytes(b"order_id,email,ordered_at,line_total,status\n"
                       b"X9,ann@example.com,2024-01-01,10,cancelled\n")

    order = Order.objects.get(order_key="X9")
    assert job.orders_existing == 1 and order.is_cancelled and order.net_total == 0


def test_a_regular_across_chunks_is_created_once_and_updated_only_when_their_details_change(settings):
    settings.IMPORT_CHUNK_ROWS = 2
    job = import_bytes(
        b"order_id,email,first_name,city,ordered_at,line_total\n"
        b"A1,ann@example.com,Ann,Leeds,2024-01-01,10\n"
        b"B1,bob@example.com,Bob,York,2024-01-01,10\n"
        b"A2,ann@example.com,Ann,Leeds,2024-01-02,10\n"   # same details: nothing to update
        b"B2,bob@example.com,Bob,York,2024-01-02,10\n"
        b"A3,ann@example.com,Ann,Bath,2024-01-03,10\n"    # moved: updated
        b"B3,bob@example.com,,York,2024-01-03,10\n"       # no name given: the name stays
    )

    assert job.chunks_done == 3 and job.orders_created == 6
    assert (job.customers_created, job.customers_updated) == (2, 1)
    ann, bob = Customer.objects.get(key="ann@example.com"), Customer.objects.get(key="bob@example.com")
    assert (ann.city, bob.first_name) == ("Bath", "Bob")
    assert ann.orders.count() == bob.orders.count() == 3
    assert orphan_rows() == (0, 0)


def test_a_file_without_a_customer_column_cannot_be_confirmed_and_names_what_is_missing():
    content = b"order_id,ordered_at,line_total\n1,2024-01-01,10\n"
    job = import_upload_create(file=io.BytesIO(content), name="x.csv", size=len(content))

    from ingest.services.imports import import_confirm

    with pytest.raises(ImportRejected) as error:
        import_confirm(job=job)
    assert "customer" in error.value.reason.lower()


@pytest.mark.parametrize("name,content,words", [
    ("x.csv.php", b"a,b\n1,2\n", "file"),
    ("x%00.csv", b"a,b\n1,2\n", "name"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image"),
    ("empty.csv", b"", "empty"),
])
def test_hostile_uploads_are_refused_with_a_clear_message(name, content, words):
    with pytest.raises(ImportRejected) as error:
        import_upload_create(file=io.BytesIO(content), name=name, size=len(content))

    assert words in error.value.reason.lower()


def test_a_file_one_byte_over_the_limit_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 100

    with pytest.raises(ImportRejected) as error:
        import_upload_create(file=io.BytesIO(b"x" * 101), name="big.csv", size=101)

    assert "limit" in error.value.reason


def test_the_confirmed_mapping_is_remembered_for_files_with_the_same_header():
    content = b"Kunde,Datum,Summe,Bestellnummer\nann@example.com,2024-01-01,10,1\n"
    first = import_upload_create(file=io.BytesIO(content), name="a.csv", size=len(content))
    from ingest.services.imports import import_confirm

    mapping = {"customer_email": "Kunde", "ordered_at": "Datum", "order_total": "Summe",
               "order_id": "Bestellnummer"}
    import_confirm(job=first, fields=mapping, preset="generic")

    second = import_upload_create(file=io.BytesIO(content), name="b.csv", size=len(content))

    assert SavedMapping.objects.count() == 1
    assert second.mapping == mapping


def test_the_upload_pages_take_a_file_from_upload_to_report(owner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = owner_client.post(reverse("uploads"), {
        "file": SimpleUploadedFile("orders.csv", GENERIC.encode()), "kind": "orders"})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import-map", args=[job.pk])

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert "ann@example.com" in page and "Order date" in page

    form = {f"field_{k}": v for k, v in job.mapping.items()}
    form.update({"preset": "generic", "date_order": "", "remember": "on"})
    response = owner_client.post(reverse("import-map", args=[job.pk]), form)
    assert response["Location"] == reverse("import-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED

    detail = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Queued" in detail and "rows read" in detail


def test_an_events_file_stores_each_event_once_even_when_uploaded_twice():
    from ingest.models import Event

    content = (b"customer,type,time,path\n"
               b"ann@example.com,page_view,2024-05-01 10:00:00,/tea\n"
               b"C-7,add_to_cart,2024-05-01 10:01:00,/mugs\n")

    job = import_upload_create(file=io.BytesIO(content), name="events.csv", size=len(content),
                               kind="events")
    from ingest.services.imports import import_confirm, import_run
    from profiler_site.core.jobs import execute_job

    import_confirm(job=job)
    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    again = import_upload_create(file=io.BytesIO(content), name="events.csv", size=len(content),
                                 kind="events")
    import_confirm(job=again)
    execute_job(model=ImportJob, job_id=again.pk, task_id=again.task_id, work=import_run)

    job.refresh_from_db()
    again.refresh_from_db()
    assert (job.events_created, again.events_created) == (2, 0)
    assert Event.objects.filter(type="page_view", properties__path="/tea").count() == 1


def test_a_discarded_upload_stays_in_the_history_as_cancelled_and_imports_nothing(owner_client):
    job = import_upload_create(file=io.BytesIO(GENERIC.encode()), name="o.csv", size=len(GENERIC))

    response = owner_client.post(reverse("import-discard", args=[job.pk]))

    job.refresh_from_db()
    assert response["Location"] == reverse("uploads")
    assert job.status == JobStatus.CANCELLED and not Order.objects.exists()


def test_a_scripted_upload_that_cannot_be_mapped_ends_failed_with_the_reason(client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    auth = api_key_header(owner)
    client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", b"when,amount\n2024-01-01,1\n")},
                **auth)

    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and "customer" in job.error.lower()


def test_a_large_upload_is_moved_from_its_temporary_file_whole_and_hashed(client, owner, settings):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django spools bigger uploads to a temporary file
    content = GENERIC.encode() * 200
    auth = api_key_header(owner)

    client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", content)},
                **auth)

    job = ImportJob.objects.get()
    with open(job.stored_path, "rb") as stored:
        assert stored.read() == content
    assert job.size_bytes == len(content) and job.sha256 == hashlib.sha256(content).hexdigest()


def test_a_spreadsheets_customer_column_of_names_becomes_the_customers_name(owner_client):
    job = import_bytes("Datum;Kunde;E-Mail;Bestellnr.;Artikel;Menge;Einzelpreis\n"
                       "08.01.2025;Zoë Faßbender;zoe@example.de;1001;Tasse;1;9,00\n"
                       "30.01.2025;Anna Müller;anna@example.de;1003;Tasse;2;9,00\n"
                       .encode(), name="bestellungen.csv")

    assert job.status == "succeeded", job.error
    anna = Order.objects.get(customer__email="anna@example.de").customer
    assert (anna.first_name, anna.last_name, anna.shop_customer_id) == ("Anna", "Müller", "")
    assert "<h1>Anna Müller</h1>" in owner_client.get(f"/customers/{anna.pk}/").content.decode()
