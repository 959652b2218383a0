from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Import the bundled demo shop when the database has no orders yet."

    def handle(self, *args, **options):
        self.stdout.write("Demo data: not available yet in this version.")
