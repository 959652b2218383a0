"""The owner's choices around an import: identical rows, header-only files, a file seen before."""

import html
import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation

from ingest.models import ImportJob, Order, OrderLine
from ingest.selectors import import_report
from ingest.services.imports import ImportRejected, import_upload_create
from profiler_site.core.models import JobStatus
from tests.ingest.helpers_db import import_bytes

pytestmark = pytest.mark.django_db(transaction=True)

DATA = Path(__file__).resolve().parent.parent / "data"
CDNOW_COLUMNS = {"customer_id": "customer_id", "ordered_at": "date",
                 "quantity": "number_of_cds", "line_total": "dollar_value"}


def cdnow_csv(name: str, *, products: bool = False) -> tuple[bytes, int, Decimal, Decimal]:
    """A CDNOW file as CSV; its identical rows, their money and the file's whole money,
    counted here from the text, apart from the import's own reading.

    `products` adds a product column naming each row's own cells: identical rows name the
    same product, and no two other rows of an order share a line. (Lines of one product
    in one order split across chunks do not add up today: see the report on file shapes.)
    """
    lines = [line.split() for line in (DATA / name).read_text().splitlines() if line.strip()]
    if lines[0][0] != "customer_id":  # the sample: master id, sample id, date, CDs, dollars
        lines = [["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"]] + lines
    seen: Counter[tuple[str, ...]] = Counter()
    repeats, repeated_money, total = 0, Decimal(0), Decimal(0)
    for cells in lines[1:]:
        total += Decimal(cells[-1])
        if seen[tuple(cells)]:
            repeats += 1
            repeated_money += Decimal(cells[-1])
        seen[tuple(cells)] += 1
    if products:
        lines = [lines[0] + ["product"]] + [cells + ["-".join(cells)] for cells in lines[1:]]
    text = "".join(",".join(cells) + "\n" for cells in lines)
    return text.encode(), repeats, repeated_money, total


def stored_money() -> Decimal:
    return Order.objects.aggregate(total=Sum("gross_total"))["total"] or Decimal(0)


def upload(client, name: str, content: bytes):
    return client.post(reverse("uploads"), {"file": SimpleUploadedFile(name, content),
                                            "kind": "orders"})


def confirm_form(job: ImportJob, **extra: str) -> dict[str, str]:
    form = {f"field_{k}": v for k, v in job.mapping.items()}
    form.update({"preset": "generic", "date_order": "", "remember": "on", **extra})
    return form


def test_the_mapping_page_counts_cdnows_identical_rows_and_their_money_before_the_import(
    owner_client,
):
    content, repeats, money, _ = cdnow_csv("CDNOW_master.txt")
    assert (repeats, money) == (255, Decimal("4332.88"))  # what the issue saw in this file

    upload(owner_client, "cdnow.csv", content)
    job = ImportJob.objects.get()
    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()

    assert job.mapping == CDNOW_COLUMNS and not Order.objects.exists()
    assert "255 rows repeat an earlier row exactly" in page
    assert "they carry $4,332.88" in page
    assert "Counted over the whole file." in page
    assert 'name="identical_rows" value="keep"' in page
    with translation.override("zh-hans"):
        chinese = owner_client.get(reverse("import-map", args=[job.pk]),
                                   HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "255 行与前面某一行完全相同（每个单元格都一样），合计金额 US$4,332.88" in chinese


def test_keeping_cdnows_identical_rows_counts_all_their_money_and_the_report_says_so(owner_client):
    content, repeats, money, total = cdnow_csv("CDNOW_master.txt")
    upload(owner_client, "cdnow.csv", content)
    job = ImportJob.objects.get()
    owner_client.post(reverse("import-map", args=[job.pk]), confirm_form(job, identical_rows="keep"))
    job.refresh_from_db()
    from ingest.services.imports import import_run
    from profiler_site.core.jobs import execute_job

    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()

    assert job.status == JobStatus.SUCCEEDED
    assert stored_money() == total
    assert (job.identical_rows_kept, job.duplicates_dropped) == (repeats, 0)
    assert job.identical_rows_money == money
    assert import_report(job)["identical_rows"] == "keep"
    assert import_report(job)["identical_rows_money"] == "4332.88"
    detail = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert ("255 identical rows were kept as separate purchases, as you chose: $4,332.88 counted"
            in detail)


def test_dropping_identical_rows_leaves_out_exactly_their_money_and_the_report_names_it(
    owner_client,
):
    content, repeats, money, total = cdnow_csv("CDNOW_sample.txt")
    job = import_bytes(content, name="sample.csv", identical_rows="drop")

    assert (repeats, job.duplicates_dropped, job.identical_rows_money) == (21, 21, money)
    assert stored_money() == total - money
    detail = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert (f"21 identical rows were dropped as the same line exported twice, as you chose: "
            f"${money:,} not counted") in detail
    with translation.override("zh-hans"):
        chinese = owner_client.get(reverse("import-detail", args=[job.pk]),
                                   HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"21 行相同的行按您的选择视为同一行导出两次并已丢弃：未计入 US${money:,}" in chinese


def test_importing_a_file_twice_with_identical_rows_kept_adds_no_money():
    content, repeats, money, total = cdnow_csv("CDNOW_sample.txt", products=True)

    first = import_bytes(content, name="sample.csv", identical_rows="keep")
    orders = Order.objects.count()
    again = import_bytes(content, name="sample.csv", identical_rows="keep")

    assert first.identical_rows_kept == again.identical_rows_kept == repeats == 21
    assert stored_money() == total
    assert Order.objects.count() == orders
    assert (again.orders_created, again.orders_existing) == (0, orders)


ONE_ITEM_ON_TWO_LINES = (b"order_id,email,ordered_at,sku,quantity,unit_price\n"
                         b"A1,ann@example.com,2024-01-05,S1,2,5.00\n"
                         b"A1,ann@example.com,2024-01-05,S2,1,3.00\n"
                         b"A1,ann@example.com,2024-01-05,S1,2,5.00\n")


def test_identical_rows_of_a_file_with_an_order_id_are_dropped_by_default_and_the_report_says_so(
        owner_client):
    job = import_bytes(ONE_ITEM_ON_TWO_LINES)

    assert (job.duplicates_dropped, job.identical_rows_kept) == (1, 0)
    assert stored_money() == Decimal("13.00") == job.revenue_change
    assert import_report(job)["identical_rows"] == "order_id"
    detail = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert ("1 exact duplicate row was dropped: this file has an order id, so a repeated row is "
            "the same line exported twice.") in detail


def test_identical_rows_of_a_file_with_an_order_id_kept_add_up_in_their_line_and_only_once(
        owner_client):
    job = import_bytes(ONE_ITEM_ON_TWO_LINES, identical_rows="keep")
    again = import_bytes(ONE_ITEM_ON_TWO_LINES, identical_rows="keep")

    assert (job.duplicates_dropped, job.identical_rows_kept) == (0, 1)
    assert stored_money() == Decimal("23.00") == job.revenue_change
    assert again.revenue_change == 0 and Order.objects.count() == 1
    assert sorted(OrderLine.objects.values_list("quantity", flat=True)) == [1, 4]
    assert import_report(job)["identical_rows"] == "order_id_kept"
    detail = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "1 identical row was kept as more of its order's line, as you chose: $10.00 counted." \
        in html.unescape(detail)


def test_the_mapping_page_offers_to_keep_identical_rows_of_a_file_with_an_order_id(owner_client):
    upload(owner_client, "lines.csv", ONE_ITEM_ON_TWO_LINES)
    job = ImportJob.objects.latest("pk")

    page = html.unescape(owner_client.get(reverse("import-map", args=[job.pk])).content.decode())

    assert "1 row repeats an earlier row exactly (every cell the same); it carries $10.00." in page
    assert "If your file lists one item on two lines of an order, keep them" in page
    assert "Lines of the same order: keep every one (their quantities add up)" in page


HEADER_ONLY = b"email,ordered_at,line_total\n"


def test_a_header_only_file_is_refused_at_upload_and_nothing_is_queued(owner_client):
    response = upload(owner_client, "orders.csv", HEADER_ONLY)

    assert response.status_code == 200
    assert "The file has a header row but no data rows." in response.content.decode()
    assert not ImportJob.objects.exists()
    with pytest.raises(ImportRejected):
        import_upload_create(file=io.BytesIO(HEADER_ONLY + b"\n\n"), name="o.csv",
                             size=len(HEADER_ONLY) + 2)


def test_a_header_only_file_is_refused_by_the_api_and_nothing_is_queued(client, owner):
    from profiler_site.core.api_keys import api_key_create

    token = api_key_create(user=owner, name="tests", scope="full")
    response = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", HEADER_ONLY)},
                           HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 400
    assert response.json()["error"] == {"code": "file_rejected", "details": None,
                                        "message": "The file has a header row but no data rows."}
    assert not ImportJob.objects.exists()


def test_an_upload_with_the_bytes_of_an_earlier_import_says_so_and_can_still_be_imported(
    owner_client,
):
    content = b"email,ordered_at,line_total\nann@example.com,2024-01-05,9.90\n"
    earlier = import_bytes(content, name="first.csv")
    upload(owner_client, "again.csv", content)
    job = ImportJob.objects.exclude(pk=earlier.pk).get()

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    day = earlier.finished_at.strftime("%-d %b %Y")
    assert f"This exact file (the same bytes) was imported on {day} as “first.csv”" in page
    assert reverse("import-detail", args=[earlier.pk]) in page

    response = owner_client.post(reverse("import-map", args=[job.pk]), confirm_form(job))
    job.refresh_from_db()
    assert response["Location"] == reverse("import-detail", args=[job.pk])
    assert job.status == JobStatus.QUEUED


def test_an_upload_with_other_bytes_gets_no_same_file_warning(owner_client):
    import_bytes(b"email,ordered_at,line_total\nann@example.com,2024-01-05,9.90\n")
    upload(owner_client, "other.csv", b"email,ordered_at,line_total\nann@example.com,2024-01-05,9.91\n")
    job = ImportJob.objects.order_by("-pk").first()

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()

    assert "This exact file" not in page and 'id="same-file"' not in page


def test_a_scripted_upload_may_keep_identical_rows_and_reads_the_choice_back(client, owner):
    from ingest.services.imports import import_run
    from profiler_site.core.api_keys import api_key_create
    from profiler_site.core.jobs import execute_job

    token = api_key_create(user=owner, name="tests", scope="full")
    content = (b"email,ordered_at,line_total\n" + b"ann@example.com,2024-01-05,9.90\n" * 3)
    response = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", content),
                                             "identical_rows": "keep"},
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    job = ImportJob.objects.get(pk=response.json()["id"])
    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    report = client.get(f"/api/imports/{job.pk}/",
                        HTTP_AUTHORIZATION=f"Token {token.key}").json()["report"]

    assert stored_money() == Decimal("29.70") and Order.objects.count() == 3
    assert (report["identical_rows"], report["identical_rows_kept"],
            report["identical_rows_money"]) == ("keep", 2, "19.80")


def test_checking_the_chosen_columns_shows_the_money_of_identical_rows_without_importing(
    owner_client,
):
    content = (b"who,day,paid\n" + b"ann@example.com,2024-01-05,9.90\n" * 3
               + b"bob@example.com,2024-01-06,1.00\n")
    upload(owner_client, "o.csv", content)
    job = ImportJob.objects.get()
    before = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert "2 rows repeat an earlier row exactly (every cell the same). Choose the money" in before

    form = {"field_customer_email": "who", "field_ordered_at": "day", "field_line_total": "paid",
            "preset": "generic", "date_order": "", "identical_rows": "keep", "check": "1"}
    response = owner_client.post(reverse("import-map", args=[job.pk]), form)
    after = owner_client.get(response["Location"]).content.decode()

    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT and not Order.objects.exists()
    assert "they carry $19.80" in after
    assert re.search(r'value="keep"[^>]*checked', after)


def test_a_scripted_upload_of_the_bytes_of_an_earlier_import_names_that_import(client, owner):
    from profiler_site.core.api_keys import api_key_create

    token = api_key_create(user=owner, name="tests", scope="full")
    content = b"email,ordered_at,line_total\nann@example.com,2024-01-05,9.90\n"
    earlier = import_bytes(content, name="first.csv")

    again = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", content)},
                        HTTP_AUTHORIZATION=f"Token {token.key}").json()
    other = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", content + b"\n")},
                        HTTP_AUTHORIZATION=f"Token {token.key}").json()

    assert (again["same_file_as"], other["same_file_as"]) == (earlier.pk, None)
    assert again["status"] == JobStatus.QUEUED


@pytest.mark.worker
def test_a_worker_killed_while_keeping_identical_rows_resumes_to_the_files_money(start_worker):
    from ingest.services.imports import import_confirm
    from profiler_site.core import jobs
    from tests.support import wait_until

    # Products, so that every order keeps its lines (see the report on file shapes).
    content, repeats, money, total = cdnow_csv("CDNOW_master.txt", products=True)
    env = {"IMPORT_CHUNK_ROWS": "2000"}
    worker = start_worker(extra_env=env)
    created = import_upload_create(file=io.BytesIO(content), name="cdnow.csv", size=len(content))
    import_confirm(job=created, identical_rows="keep")

    def job() -> ImportJob:
        return ImportJob.objects.get(pk=created.pk)

    wait_until(lambda: job().chunks_done >= 3, what="some chunks to commit")
    worker.kill()
    checkpoint = job().chunks_done
    wait_until(lambda: jobs.reap_stale_jobs().requeued, what="the reaper to requeue the import")
    start_worker(extra_env=env)
    wait_until(lambda: job().status == JobStatus.SUCCEEDED, timeout=120,
               what="the resumed import to finish")

    final = job()
    assert final.attempts == 2 and checkpoint < final.chunks_done
    assert (final.identical_rows_kept, final.identical_rows_money) == (repeats, money)
    assert stored_money() == total


def test_the_mapping_page_names_the_recognised_format_in_the_owners_words(owner, owner_client):
    from profiler_site.core.services import user_language_set

    upload(owner_client, "EtsySoldOrderItems2021.csv",
           (DATA / "ingest" / "etsy_sold_order_items.csv").read_bytes())
    job = ImportJob.objects.get()
    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert job.preset == "etsy_sold_order_items"
    assert "Recognised format: <strong>Etsy (Sold Order Items)</strong>" in page
    assert '<option value="etsy_sold_order_items" selected>Etsy (Sold Order Items)</option>' in page

    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert "Etsy（已售订单商品）" in page and "电子表格（任意列）" in page
    assert "etsy_sold_order_items</strong>" not in page


def test_a_title_above_the_column_names_is_skipped_and_said_on_the_mapping_page(owner_client):
    titled = (b"Orders report,,,\nGenerated 2024-02-01,,,\n,,,\n"
              b"Order ID,Email,Order Date,Line Total\n1,a@example.com,2024-01-01,10.00\n")
    upload(owner_client, "report.csv", titled)
    upload(owner_client, "orders.csv", titled.split(b"\n", 3)[3])
    with_title, plain = ImportJob.objects.order_by("pk")

    page = owner_client.get(reverse("import-map", args=[with_title.pk])).content.decode()
    assert with_title.headers == ["Order ID", "Email", "Order Date", "Line Total"]
    assert "The 2 lines above the column names were skipped" in page
    page = owner_client.get(reverse("import-map", args=[plain.pk])).content.decode()
    assert 'id="title-lines"' not in page


GROUPED_AMOUNTS = (b"Order ID,Email,Order Date,Amount\n"
                   b"1,ann@example.com,2024-03-05,12\n"
                   b"2,ann@example.com,2024-03-06,1.200\n"
                   b"3,bob@example.com,2024-03-07,2.450\n")


def test_the_mapping_page_shows_how_an_amount_that_depends_on_the_decimal_mark_reads(
    owner, owner_client,
):
    from profiler_site.core.services import user_language_set

    upload(owner_client, "orders.csv", GROUPED_AMOUNTS)
    job = ImportJob.objects.get()

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    # "12" reads the same either way; line 3's "1.200" is the first that does not.
    assert "“1.200” on line 3 is read as $1.20." in page
    user_language_set(user=owner, language="zh-hans")
    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert "第 3 行的“1.200”读作 US$1.20。" in page


def test_the_owners_decimal_mark_decides_how_amounts_are_read_and_is_remembered(owner_client):
    upload(owner_client, "orders.csv", GROUPED_AMOUNTS)
    job = ImportJob.objects.get()
    owner_client.post(reverse("import-map", args=[job.pk]),
                      confirm_form(job, decimal_mark="comma", check="1"))
    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert "“1.200” on line 3 is read as $1,200.00." in page

    owner_client.post(reverse("import-map", args=[job.pk]), confirm_form(job, decimal_mark="comma"))
    job.refresh_from_db()
    from ingest.services.imports import import_run
    from profiler_site.core.jobs import execute_job

    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert stored_money() == Decimal("3662")  # 12 + 1,200 + 2,450

    # The next file with these columns opens with the same choice.
    upload(owner_client, "orders-2.csv", GROUPED_AMOUNTS.replace(b"2024-03", b"2024-04"))
    second = ImportJob.objects.latest("pk")
    page = owner_client.get(reverse("import-map", args=[second.pk])).content.decode()
    assert '<option value="comma" selected>' in page
    assert "“1.200” on line 3 is read as $1,200.00." in page


def test_a_point_chosen_for_a_semicolon_file_reads_grouped_amounts_as_decimals():
    content = b"Order ID;Email;Order Date;Amount\n1;ann@example.com;2024-03-05;1.250\n"

    import_bytes(content, decimal_comma=False)

    assert stored_money() == Decimal("1.250")


def test_a_scripted_upload_may_say_the_files_decimal_mark(client, owner):
    from ingest.services.imports import import_run
    from profiler_site.core.api_keys import api_key_create
    from profiler_site.core.jobs import execute_job

    token = api_key_create(user=owner, name="tests", scope="full")
    response = client.post("/api/imports/", {"file": SimpleUploadedFile("o.csv", GROUPED_AMOUNTS),
                                             "decimal_comma": "true"},
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    job = ImportJob.objects.get(pk=response.json()["id"])
    execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)

    assert stored_money() == Decimal("3662")


def test_the_mapping_page_warns_that_rows_in_another_currency_will_be_refused(
    owner, owner_client, settings,
):
    from profiler_site.core.services import user_language_set

    settings.SHOP_CURRENCY = "EUR"
    upload(owner_client, "orders.csv", b"Order ID,Email,Order Date,Currency,Amount\n"
                                       b"1,ann@example.com,2024-03-01,EUR,30.00\n"
                                       b"2,ann@example.com,2024-03-02,GBP,20.00\n"
                                       b"3,bob@example.com,2024-03-03,usd,9.00\n"
                                       b"4,bob@example.com,2024-03-04,GBP,9.00\n")
    job = ImportJob.objects.get()
    assert job.mapping["currency"] == "Currency"

    page = html.unescape(owner_client.get(reverse("import-map", args=[job.pk])).content.decode())
    assert ("Some rows are in GBP, USD, not in your shop's currency (EUR): they will be "
            "refused, because amounts in two currencies cannot be added up.") in page
    user_language_set(user=owner, language="zh-hans")
    page = html.unescape(owner_client.get(reverse("import-map", args=[job.pk])).content.decode())
    assert "有些行的货币是 GBP、USD，不是你店铺的货币（EUR）" in page


def test_the_mapping_page_says_nothing_of_currency_when_every_row_is_the_shops(owner_client):
    upload(owner_client, "orders.csv", b"Order ID,Email,Order Date,Currency,Amount\n"
                                       b"1,ann@example.com,2024-03-01,usd,30.00\n")
    job = ImportJob.objects.get()

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()
    assert 'id="other-currencies"' not in page


def test_the_mapping_page_warns_of_amounts_written_in_another_currency(owner_client, settings):
    settings.SHOP_CURRENCY = "EUR"
    upload(owner_client, "orders.csv", "Order ID,Email,Order Date,Amount\n"
                                       "1,ann@example.com,2024-03-01,12.50 €\n"
                                       "2,ann@example.com,2024-03-02,£20.00\n".encode())
    job = ImportJob.objects.get()

    page = html.unescape(owner_client.get(reverse("import-map", args=[job.pk])).content.decode())
    assert "Some rows are in GBP, not in your shop's currency (EUR)" in page


def test_the_report_counts_rejected_rows_by_reason_before_listing_them(owner_client, settings):
    settings.SHOP_CURRENCY = "EUR"
    lines = "".join(f"{n},c{n}@example.com,2024-03-01,GBP,10.00\n" for n in range(1, 61))
    job = import_bytes(("Order ID,Email,Order Date,Currency,Amount\n" + lines
                        + "61,z@example.com,2024-02-30,EUR,5.00\n"
                        + "62,z@example.com,2024-03-02,EUR,5.00\n").encode())

    page = html.unescape(owner_client.get(reverse("import-detail", args=[job.pk])).content.decode())

    # 61 rejected, more than the 50 listed: the reason of line 63 would be hidden below them.
    summary = page.split('id="rejection-kinds"')[1].split("</table>")[0]
    assert re.search(r"the order is in GBP, but the shop counts money in EUR.*?</td>\s*"
                     r"<td[^>]*>line 2</td>\s*<td[^>]*>60</td>", summary, re.S)
    assert re.search(r"order date '2024-02-30' is not a real date.*?</td>\s*"
                     r"<td[^>]*>line 62</td>\s*<td[^>]*>1</td>", summary, re.S)


def test_the_currency_warning_keeps_its_link_and_chinese_sentences_have_no_space_between(
    owner, owner_client, settings,
):
    from profiler_site.core.services import user_language_set

    settings.SHOP_CURRENCY = "EUR"
    upload(owner_client, "orders.csv", b"Order ID,Email,Order Date,Currency,Amount\n"
                                       b"1,ann@example.com,2024-03-01,GBP,30.00\n")
    job = ImportJob.objects.get()
    user_language_set(user=owner, language="zh-hans")

    page = owner_client.get(reverse("import-map", args=[job.pk])).content.decode()

    assert "不能相加。如果整个文件" in page
    assert '<a href="/settings/">设置</a>' in page
