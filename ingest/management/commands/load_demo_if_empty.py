from django.core.management.base import BaseCommand

from ingest.services.demo import demo_import_if_empty


class Command(BaseCommand):
    help = "Import the bundled demo shop when the database has no orders yet."

    def handle(self, *args, **options):
        job = demo_import_if_empty()
        if job is None:
            self.stdout.write("Orders already present; demo data not loaded.")
        else:
            self.stdout.write(f"Demo shop imported: {job.message}")
