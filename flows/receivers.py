"""Signal receivers: every finished segmentation run evaluates the flows' triggers."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from ingest.signals import import_finished
from segments.models import SegmentationRun


@receiver(post_save, sender=SegmentationRun, dispatch_uid="flows.evaluate_after_run")
def evaluate_after_run(sender, instance: SegmentationRun, update_fields=None, **kwargs) -> None:
    # segments must not import flows, so flows listens for the save that makes a
    # run current (the end of every successful run) rather than a signal of its own.
    if not instance.is_current or (update_fields is not None and "is_current" not in update_fields):
        return
    from profiler_site.celery import app

    transaction.on_commit(lambda: app.send_task("flows.tasks.evaluate_flows_task"))


@receiver(import_finished, dispatch_uid="flows.withdraw_after_orders")
def withdraw_after_orders(sender, job_id: int, kind: str, **kwargs) -> None:
    # An import can bring orders of people whose flow email is in the outbox, unsent.
    if kind != "orders":
        return
    from flows import clock
    from flows.services.sending import outbox_withdraw_ordered

    outbox_withdraw_ordered(now=clock.now())
