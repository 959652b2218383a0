from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Email campaigns to segments, tracking, and measured conversion."""

    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"
