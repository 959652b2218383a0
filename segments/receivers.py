"""Signal receivers: segments refresh after every finished import."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from ingest.signals import import_finished, import_undone

logger = logging.getLogger(__name__)


@receiver(import_finished, dispatch_uid="segments.refresh_after_import")
def schedule_refresh_after_import(sender, job_id: int, kind: str, **kwargs) -> None:
    # Only orders change segments; events do not feed the analysis (yet).
    if kind != "orders":
        return
    from segments.services.placement import placement_start
    from segments.services.runs import segmentation_run_start

    # Placement first: same queue as the full run, so the new customers get a
    # (classifier) segment within seconds and the full run replaces it afterwards.
    placement_start(import_job_id=job_id)
    run, created = segmentation_run_start(trigger="import")
    logger.info("import %s finished: segmentation run %s (%s)", job_id, run.pk,
                "queued" if created else "already queued")


@receiver(import_undone, dispatch_uid="segments.refresh_after_undo")
def schedule_refresh_after_undo(sender, job_id: int, **kwargs) -> None:
    # The undone import's customers and orders are gone: the whole analysis runs again.
    from segments.models import RunTrigger
    from segments.services.runs import segmentation_run_start

    run, created = segmentation_run_start(trigger=RunTrigger.IMPORT)
    logger.info("import %s undone: segmentation run %s (%s)", job_id, run.pk,
                "queued" if created else "already queued")
