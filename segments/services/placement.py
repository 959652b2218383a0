"""Placing customers from new imports between full runs, with the current run's classifier.

A full run clusters everyone and trains the segment classifier; its fitted forest, the
training medians and the RFM quintile edges are kept (``PlacementModel``). When an
import finishes, customers with orders but no membership in the current run get one
straight away: RFM scores on the run's quintile edges, the cluster the forest finds
most probable (with that probability), marked ``placed_by = classifier``. The full
re-clustering still follows on the usual schedule and replaces these placements.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import connection, transaction
from django.utils.crypto import salted_hmac

from segments.analysis.classifier import UntrustedModel, model_from_bytes, place_customers
from segments.analysis.rfm import assign_rfm_segments, scores_from_edges
from segments.models import PlacedBy, PlacementModel, SegmentationRun
from segments.services import db

logger = logging.getLogger(__name__)


def model_signing_key() -> bytes:
    """The key stored classifiers are signed with, derived from this install's SECRET_KEY."""
    return salted_hmac("profiler.segments.placement-model", b"", algorithm="sha256").digest()

# Shared with the full run's save (refresh._SAVE_LOCK): a placement never interleaves
# with a run replacing the scores, and two placements never place the same customer.
SAVE_LOCK = 0x5E6_0002

PLACED_SCORE_COLUMNS = [
    "customer_id", "run_id", "first_order_at", "last_order_at", "recency_days", "frequency",
    "monetary", "avg_order_value", "tenure_days", "mean_days_between_orders", "return_rate",
    "r_score", "f_score", "m_score", "rfm_key", "cluster_key", "placed_by",
    "placement_probability", "interests", "plot_x", "plot_y",
]
PLACED_MEMBERSHIP_COLUMNS = ["run_id", "customer_id", "rfm_key", "cluster_key", "placed_by",
                             "placement_probability"]


def placement_start(*, import_job_id: int) -> bool:
    """Queue a placement after an import when the current run has a model; True if queued."""
    from segments.tasks import place_new_customers_task

    if not PlacementModel.objects.filter(run__is_current=True).exists():
        return False
    transaction.on_commit(lambda: place_new_customers_task.delay(import_job_id))
    return True


def new_customers_place() -> int:
    """Give customers the current run has not seen a membership placed by its classifier.

    Returns how many were placed; 0 without a current run, without its placement
    model, or when everyone already has a membership. Runs in one transaction under
    the save lock, so a full run saving meanwhile either comes first (and its
    customers are no longer new) or after (and replaces these placements).
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SAVE_LOCK])
        run = SegmentationRun.objects.filter(is_current=True).first()
        if run is None:
            return 0
        stored = PlacementModel.objects.filter(run=run).first()
        if stored is None:
            return 0
        as_of = db.newest_order_at()
        if as_of is None:
            return 0
        features = db.features_frame(as_of=as_of, without_membership_in=run.pk)
        if features.empty:
            return 0
        try:
            forest = model_from_bytes(stored.model, key=model_signing_key())
        except UntrustedModel as exc:
            # Placement waits for the next full run, which saves a model signed afresh.
            logger.error("not placing new customers with run %s's model: %s", run.pk, exc)
            return 0
        scores = scores_from_edges(features, stored.rfm_edges)
        placed = place_customers(forest, features, columns=stored.columns, fill=stored.fill)
        frame = features.reset_index()
        frame["run_id"] = run.pk
        for column in ("r_score", "f_score", "m_score"):
            frame[column] = scores[column].to_numpy()
        frame["rfm_key"] = assign_rfm_segments(scores).to_numpy()
        frame["cluster_key"] = placed["segment"].to_numpy()
        frame["placement_probability"] = placed["probability"].to_numpy()
        frame["placed_by"] = PlacedBy.CLASSIFIER.value
        frame["interests"] = "[]"
        frame["plot_x"] = np.log1p(features["recency_days"].clip(lower=0)).to_numpy()
        frame["plot_y"] = np.log1p(features["monetary"].clip(lower=0)).to_numpy()
        # Every score row belongs to a member of the current run (a run replaces them all),
        # so customers without a membership have none yet: plain COPY, no conflicts.
        db.copy_rows("segments_customerscore", PLACED_SCORE_COLUMNS, frame)
        db.copy_rows("segments_segmentmembership", PLACED_MEMBERSHIP_COLUMNS, frame)
    logger.info("placed %s new customers in run %s by its classifier", len(frame), run.pk)
    return len(frame)

