from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    """Analysis results and the pages that show them."""

    name = "segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (listens to ingest's import_finished)
