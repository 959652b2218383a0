import csv
import html
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from ingest.models import ImportJob, ImportKind, ImportRejection
from ingest.pipeline.errors import HEADER_ONLY, SENTENCES, RowError, fill
from ingest.pipeline.rows import Rejection
from ingest.reason_words import reason_text
from ingest.services.imports import import_confirm, import_run, import_upload_create
from ingest.services.loading import rejection_row
from profiler_site.core.jobs import execute_job
from profiler_site.core.models import JobStatus
from profiler_site.core.services import user_language_set
from tests.ingest.helpers_db import import_bytes

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = (
    b"order_id,email,ordered_at,quantity,unit_price\n"
    b"A1,ann@example.com,2024-01-05,2,5.00\n"
    b"B2,bob@example.com,2023-02-30,1,5.00\n"
    b"C3,cy@example.com,2024-02-01,1,-4.50\n"
    b"D4,dee@example.com,2024-02-02,1\n"
    b"E5,,2024-02-03,1,3.00\n"
)
ENGLISH = {
    3: "order date '2023-02-30' is not a real date",
    4: "unit price '-4.50' is negative",
    5: "4 fields where the header has 5: the line may be cut short or have a stray line break",
    6: "no customer: both the email and the customer id are empty",
}
CHINESE = {
    3: "下单日期：'2023-02-30' 不是真实存在的日期",
    4: "单价：'-4.50' 是负数",
    5: "有 4 个字段，但表头有 5 个：这一行可能被截断了，或夹了多余的换行",
    6: "没有客户：邮箱和客户编号都是空的",
}


def _page(client, name: str, *args) -> str:
    return html.unescape(client.get(reverse(name, args=args)).content.decode())


def _csv_reasons(client, job: ImportJob) -> dict[int, str]:
    response = client.get(reverse("import-rejects", args=[job.pk]))
    text = b"".join(response.streaming_content).decode()
    return {int(row["line"]): row["reason"] for row in csv.DictReader(io.StringIO(text))}


def test_refused_rows_are_stored_as_data_beside_their_english_sentence():
    job = import_bytes(ROWS)

    stored = {r.line_no: r for r in ImportRejection.objects.filter(job=job)}
    assert {line: r.reason for line, r in stored.items()} == ENGLISH
    assert (stored[3].reason_template, stored[3].reason_params) == (
        "%(field)s %(value)s is not a real date", {"field": "order date", "value": "'2023-02-30'"})
    assert all(fill(r.reason_template, r.reason_params) == r.reason for r in stored.values())


@pytest.mark.parametrize(("language", "reasons", "line_words"), [
    ("zh-hans", CHINESE, "第 {line} 行：{words}"),
    ("en", ENGLISH, "line {line}: {words}"),  # exactly as stored
])
def test_refused_rows_read_in_the_readers_language_on_the_report_and_in_the_download(
    owner, owner_client, language, reasons, line_words,
):
    job = import_bytes(ROWS)
    user_language_set(user=owner, language=language)

    page = _page(owner_client, "import-detail", job.pk)
    for line, words in reasons.items():
        assert line_words.format(line=line, words=words) in page
    assert _csv_reasons(owner_client, job) == reasons


def _refused_by_the_worker() -> ImportJob:
    """An import whose file lost its rows between upload and import: the worker refuses it."""
    job = import_upload_create(file=io.BytesIO(ROWS), name="later-empty.csv", size=len(ROWS))
    import_confirm(job=job)
    Path(job.stored_path).write_bytes(ROWS.split(b"\n")[0] + b"\n")
    with pytest.raises(Exception, match="header row but no data rows"):
        execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()
    return job


def test_a_file_refused_by_the_worker_reads_in_chinese_on_its_page(owner, owner_client):
    job = _refused_by_the_worker()
    assert job.status == JobStatus.FAILED
    assert (job.error, job.error_template, job.error_params) == (
        "The file has a header row but no data rows.", HEADER_ONLY, {})

    user_language_set(user=owner, language="zh-hans")
    page = _page(owner_client, "import-detail", job.pk)
    assert '<p class="msg msg-error">文件只有表头，没有数据行。</p>' in page
    assert "header row" not in page


def test_an_upload_refused_at_the_form_reads_in_chinese(owner, owner_client):
    user_language_set(user=owner, language="zh-hans")

    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    for name, content, words in [
        ("photo.csv", picture, "这个文件是 PNG 图片，不是 CSV。请把数据导出为 CSV（逗号分隔值）再上传。"),
        ("header.csv", ROWS.split(b"\n")[0] + b"\n", "文件只有表头，没有数据行。"),
        ("orders.xlsx", b"a,b\n1,2\n",
         "文件名 'orders.xlsx' 的扩展名是 '.xlsx'；只接受 .csv、.tsv、.txt、.csv.gz 和 .zip 文件。"),
    ]:
        response = owner_client.post(reverse("uploads"), {
            "file": SimpleUploadedFile(name, content), "kind": "orders"})
        page = html.unescape(response.content.decode())
        assert f'<ul class="errorlist"><li>{words}</li></ul>' in page
    assert not ImportJob.objects.exists()


def test_a_mapping_that_misses_fields_is_refused_in_chinese_sentence_by_sentence(owner, owner_client):
    owner_client.post(reverse("uploads"), {
        "file": SimpleUploadedFile("orders.csv", b"note,other\nx,y\n"), "kind": "orders"})
    job = ImportJob.objects.get()
    user_language_set(user=owner, language="zh-hans")

    response = owner_client.post(reverse("import-map", args=[job.pk]), {
        "preset": "generic", "date_order": "", "remember": "on", "identical_rows": "drop"})
    page = html.unescape(response.content.decode())
    assert ("请选择识别客户的列：customer_email 或 customer_id。请选择下单日期所在的列（ordered_at）。"
            "请选择金额列：line_total，或 unit_price 加 quantity，或 order_total。") in page
    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT


def test_reasons_stored_before_they_were_data_show_as_stored(owner, owner_client):
    job = import_bytes(ROWS)
    ImportRejection.objects.filter(job=job, line_no=3).update(reason_template="", reason_params={})
    failed = _refused_by_the_worker()
    ImportJob.objects.filter(pk=failed.pk).update(error_template="", error_params={})
    user_language_set(user=owner, language="zh-hans")

    page = _page(owner_client, "import-detail", job.pk)
    assert "第 3 行：order date '2023-02-30' is not a real date" in page
    assert f"第 4 行：{CHINESE[4]}" in page
    assert _csv_reasons(owner_client, job)[3] == ENGLISH[3]
    page = _page(owner_client, "import-detail", failed.pk)
    assert '<p class="msg msg-error">The file has a header row but no data rows.</p>' in page


def test_a_failed_import_shows_its_own_error_when_the_template_says_another():
    job = ImportJob(error="OperationalError: the database went away", error_template=HEADER_ONLY)
    with translation.override("zh-hans"):
        assert job.error_text == "OperationalError: the database went away"
        job.error = "The file has a header row but no data rows."
        assert job.error_text == "文件只有表头，没有数据行。"


def test_the_words_fill_labels_lists_and_sentences_and_keep_values_exactly():
    with translation.override("zh-hans"):
        assert reason_text("%(field)s %(value)s is out of range",
                           {"field": "quantity", "value": "'9e99'"}, "stored") == "数量：'9e99' 超出范围"
        assert reason_text(
            "An events file needs columns for the customer, the event type and its time; "
            "could not find: %(roles)s.", {"roles": ["type", "time"]}, "stored",
        ) == "事件文件需要客户、事件类型和事件时间三列；找不到：类型、时间。"
        assert reason_text(SENTENCES, {"sentences": [
            ["Choose the column with the order date (ordered_at).", {}],
            ["%(preset)s is not a known file format.", {"preset": "'nope'"}],
        ]}, "stored") == "请选择下单日期所在的列（ordered_at）。'nope' 不是已知的文件格式。"
        # Values that do not fit the template: the stored sentence, as it is.
        assert reason_text("%(field)s %(value)s is negative", {"field": "unit price"}, "as stored") \
            == "as stored"
        assert reason_text("", {}, "as stored") == "as stored"
    with translation.override("en"):
        assert reason_text("%(field)s %(value)s is negative",
                           {"field": "unit price", "value": "'-1'"}, "x") == "unit price '-1' is negative"


def test_an_events_file_without_a_time_column_is_refused_in_chinese():
    content = b"email,type\nann@example.com,viewed\n"
    job = import_upload_create(file=io.BytesIO(content), name="events.csv", size=len(content),
                               kind=ImportKind.EVENTS)
    import_confirm(job=job)
    with pytest.raises(Exception, match="could not find: time"):
        execute_job(model=ImportJob, job_id=job.pk, task_id=job.task_id, work=import_run)
    job.refresh_from_db()

    assert job.error_params == {"roles": ["time"]}
    with translation.override("zh-hans"):
        assert job.error_text == "事件文件需要客户、事件类型和事件时间三列；找不到：时间。"


def test_a_reason_too_long_to_keep_whole_is_kept_as_text_only():
    long = Rejection.of(7, RowError("%(field)s %(value)s is negative", field="unit price",
                                    value="'" + "9" * 3000 + "'"), {})
    row = rejection_row(1, long)
    assert (len(row.reason), row.reason_template, row.reason_params) == (2000, "", {})
    short = rejection_row(1, Rejection.of(7, RowError("quantity is zero"), {}))
    assert (short.reason, short.reason_template) == ("quantity is zero", "quantity is zero")
