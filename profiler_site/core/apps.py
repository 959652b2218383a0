from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: jobs, progress, accounts, health. Imports no app of ours."""

    name = "profiler_site.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bind @shared_task to our Celery app in every Django process (web, tests),
        # not only in `celery -A profiler_site` workers.
        from profiler_site.celery import app  # noqa: F401
