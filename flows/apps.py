from django.apps import AppConfig


class FlowsConfig(AppConfig):
    """Automated emails: a trigger enrols customers, a wait, one email through the outbox."""

    name = "flows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (evaluates triggers after every segmentation run)
