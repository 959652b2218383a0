from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Email campaigns to segments, tracking, and measured conversion."""

    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from profiler_site.core.extensions import register_customer_profile_section

        from . import receivers  # noqa: F401  (listens to ingest's customers_removing)
        from .profile_section import customer_campaign_section

        register_customer_profile_section(customer_campaign_section)

        from ingest.signals import customer_archive_requested, customer_erasing

        from .privacy import customer_campaigns_archive, customer_campaigns_forget

        customer_erasing.connect(customer_campaigns_forget, dispatch_uid="campaigns-forget")
        customer_archive_requested.connect(customer_campaigns_archive,
                                           dispatch_uid="campaigns-archive")

