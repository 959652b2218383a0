from django.apps import AppConfig


class FlowsConfig(AppConfig):
    """Automated emails: a trigger enrols customers, a wait, one email through the outbox."""

    name = "flows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ingest.signals import customer_archive_requested, customer_erasing

        from . import receivers  # noqa: F401  (evaluates triggers after every segmentation run)
        from .privacy import customer_flows_archive, customer_flows_forget

        customer_erasing.connect(customer_flows_forget, dispatch_uid="flows-forget")
        customer_archive_requested.connect(customer_flows_archive, dispatch_uid="flows-archive")
