"""Signal receivers: segments refresh after every finished import."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from ingest.signals import customer_archive_requested, import_finished, import_undone

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


@receiver(customer_archive_requested, dispatch_uid="segments.customer_archive")
def customer_segments_archive(sender, customer_id: int, **kwargs) -> list:
    """The customer's scores, segment history and recommendations for their data archive."""
    from ingest.services.privacy import ArchivePart
    from segments.models import CustomerScore, Recommendation, SegmentMembership

    score_fields = [f.attname for f in CustomerScore._meta.concrete_fields
                    if f.attname not in ("customer_id", "plot_x", "plot_y")]
    history_fields = ("run_id", "run__finished_at", "rfm_key", "cluster_key", "placed_by",
                      "placement_probability")
    recommendation_fields = ("product__sku", "product__name", "score")
    return [
        ArchivePart(name="scores.csv", header=score_fields,
                    rows=CustomerScore.objects.filter(customer_id=customer_id)
                    .values_list(*score_fields),
                    note="what the latest analysis computed about you (RFM, value, churn risk)"),
        ArchivePart(name="segment_history.csv",
                    header=[f.replace("run__", "run_") for f in history_fields],
                    rows=SegmentMembership.objects.filter(customer_id=customer_id)
                    .order_by("run_id").values_list(*history_fields).iterator(chunk_size=1000),
                    note="which segment each analysis run put you in"),
        ArchivePart(name="recommendations.csv",
                    header=[f.replace("product__", "product_") for f in recommendation_fields],
                    rows=Recommendation.objects.filter(customer_id=customer_id)
                    .values_list(*recommendation_fields),
                    note="products the shop would suggest to you"),
    ]
