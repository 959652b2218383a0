from django.core.management.base import BaseCommand, CommandError

from ingest.models import Customer
from ingest.services.privacy import customer_erase, customer_find
from profiler_site.core.audit import MANAGE_PY, Actor


class Command(BaseCommand):
    help = ("Erase one customer (id, email or key): personal data gone, orders kept anonymous, "
            "their rows skipped by every later import, their address suppressed.")

    def add_arguments(self, parser):
        parser.add_argument("customer", help="the customer's id, email address or key")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, customer: str, yes: bool, **options):
        try:
            found = customer_find(customer)
        except Customer.DoesNotExist as exc:
            raise CommandError(f"No customer {customer!r}.") from exc
        if not yes:
            answer = input(f"Erase customer #{found.pk} ({found.display_name})? This cannot be undone. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Not erased.")
        erasure = customer_erase(customer_id=found.pk, actor=Actor(name=MANAGE_PY))
        if erasure.already_erased:
            self.stdout.write(f"Customer #{found.pk} was already erased.")
        else:
            self.stdout.write(f"Customer #{found.pk} erased; {erasure.orders_kept:,} orders kept "
                              f"anonymous, {erasure.events_cleared:,} events cleared.")
