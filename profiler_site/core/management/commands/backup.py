from django.core.management.base import BaseCommand, CommandError

from profiler_site.core.audit import MANAGE_PY, Actor
from profiler_site.core.backups import BackupError, backup_create


class Command(BaseCommand):
    help = ("Write a backup (database, uploads, local key) into BACKUP_DIR (var/backups/) "
            "and keep the newest BACKUP_KEEP.")

    def handle(self, *args, **options):
        try:
            written = backup_create(actor=Actor(name=MANAGE_PY))
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Backup written: {written.path} ({written.size_bytes / 1e6:.1f} MB)")
        for path in written.removed:
            self.stdout.write(f"Rotated out: {path.name}")
