"""Signal receivers: every finished segmentation run evaluates the flows' triggers."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from segments.models import SegmentationRun


@receiver(post_save, sender=SegmentationRun, dispatch_uid="flows.evaluate_after_run")
def evaluate_after_run(sender, instance: SegmentationRun, update_fields=None, **kwargs) -> None:
    # segments must not import flows, so flows listens for the save that makes a
    # run current (the end of every successful run) rather than a signal of its own.
    if not instance.is_current or (update_fields is not None and "is_current" not in update_fields):
        return
    from profiler_site.celery import app

    transaction.on_commit(lambda: app.send_task("flows.tasks.evaluate_flows_task"))
