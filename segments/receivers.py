"""Signal receivers: segments refresh after every finished import."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from ingest.signals import import_finished

logger = logging.getLogger(__name__)


@receiver(import_finished, dispatch_uid="segments.refresh_after_import")
def schedule_refresh_after_import(sender, job_id: int, kind: str, **kwargs) -> None:
    # Only orders change segments; events do not feed the analysis (yet).
    if kind != "orders":
        return
    from segments.services.runs import segmentation_run_start

    run, created = segmentation_run_start(trigger="import")
    logger.info("import %s finished: segmentation run %s (%s)", job_id, run.pk,
                "queued" if created else "already queued")
