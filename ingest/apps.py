from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Raw shop data in: customers, products, orders, lines, events, imports."""

    name = "ingest"
    default_auto_field = "django.db.models.BigAutoField"
