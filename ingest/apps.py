from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Raw shop data in: customers, products, orders, lines, events, imports."""

    name = "ingest"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from profiler_site.core.extensions import register_customer_profile_section

        from .profile_section import customer_privacy_section

        register_customer_profile_section(customer_privacy_section)

        from profiler_site.core.backups import backup_restored

        from .receivers import import_paths_move

        backup_restored.connect(import_paths_move, dispatch_uid="ingest-import-paths-move")
