from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from profiler_site.core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = ("Restore a backup into an empty database and data folder, then migrate it forward. "
            "A damaged file, or a database that already holds data, is refused untouched.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup file (profiler-....tar)")

    def handle(self, *args, file: str, **options):
        try:
            restored = backup_restore(Path(file))
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Restored the backup of {restored.created_at} ({restored.files} files)"
                          + ("; its database was migrated forward." if restored.migrated else "."))
