from django.urls import reverse

from ingest.models import ImportJob
from tests.ingest.test_import_choices import upload


def test_one_repeated_row_reads_as_one_row(owner_client):
    content = b"who,day,paid\n" + b"ann@example.com,2024-01-05,9.90\n" * 2
    upload(owner_client, "o.csv", content)
    job = ImportJob.objects.get()

    page = owner_client.get(reverse("import-map", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1 row repeats an earlier row exactly (every cell the same)." in page
