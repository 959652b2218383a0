from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingest.models import Customer
from ingest.services.privacy import customer_archive_stream, customer_find
from profiler_site.core.audit import MANAGE_PY, Actor


class Command(BaseCommand):
    help = "Write everything kept about one customer (id, email or key) into a zip file."

    def add_arguments(self, parser):
        parser.add_argument("customer", help="the customer's id, email address or key")
        parser.add_argument("--output", "-o", help="the zip file to write (default: customer-<id>-data.zip)")

    def handle(self, *args, customer: str, output: str | None, **options):
        try:
            found = customer_find(customer)
        except Customer.DoesNotExist as exc:
            raise CommandError(f"No customer {customer!r}.") from exc
        target = Path(output or f"customer-{found.pk}-data.zip")
        with target.open("wb") as out:
            for block in customer_archive_stream(customer_id=found.pk, actor=Actor(name=MANAGE_PY)):
                out.write(block)
        self.stdout.write(f"Customer #{found.pk}: {target} ({target.stat().st_size:,} bytes)")
