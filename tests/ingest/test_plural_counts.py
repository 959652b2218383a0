import pytest
from django.urls import reverse
from django.utils import translation

from ingest.models import ImportJob, ImportKind
from profiler_site.core.models import JobStatus
from tests.ingest.test_import_choices import upload


def test_one_repeated_row_reads_as_one_row(owner_client):
    content = b"who,day,paid\n" + b"ann@example.com,2024-01-05,9.90\n" * 2
    upload(owner_client, "o.csv", content)
    job = ImportJob.objects.get()

    page = owner_client.get(reverse("import-map", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1 row repeats an earlier row exactly (every cell the same)." in page


@pytest.mark.parametrize(("language", "counts", "text"), [
    ("en", (1, 1, 1), "Imported 1 new order of 1 new customer; 1 row rejected."),
    ("en", (1_200, 0, 2), "Imported 1,200 new orders of 0 new customers; 2 rows rejected."),
    ("zh-hans", (1, 1, 0), "已导入 1 个新订单，新增 1 位客户；0 行被拒绝。"),
])
def test_a_finished_imports_summary_counts_in_the_right_number(language, counts, text):
    orders, customers, rejected = counts
    job = ImportJob(status=JobStatus.SUCCEEDED, kind=ImportKind.ORDERS, orders_created=orders,
                    customers_created=customers, rows_rejected=rejected)

    with translation.override(language):
        assert job.result_text == text
