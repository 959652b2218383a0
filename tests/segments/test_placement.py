from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ingest.demo.generate import generate_demo_orders
from ingest.models import Customer
from ingest.signals import import_finished
from segments.analysis.classifier import model_from_bytes
from segments.analysis.rfm import assign_rfm_segments, scores_from_edges
from segments.models import (
    CustomerScore,
    PlacedBy,
    PlacementModel,
    SegmentationRun,
    SegmentMembership,
)
from segments.services import db
from segments.services.placement import model_signing_key, new_customers_place
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import run_refresh
from tests.support import wait_until


@pytest.fixture(scope="module")
def demo_lines(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small demo shop split by customer: most arrive first, a fifth in a later import."""
    path = tmp_path_factory.mktemp("placement") / "demo.csv"
    generate_demo_orders(path, customers=400, seed=11)
    lines = pd.read_csv(path, dtype=str, keep_default_na=False)
    keys = lines["email"].str.strip().str.lower()  # the import's customer key
    later = set(keys.drop_duplicates().iloc[::5])
    is_later = keys.isin(later)
    return lines[~is_later], lines[is_later]


@pytest.fixture
def analysed_shop(db, demo_lines):
    first, later = demo_lines
    load_order_lines(first)
    run = run_refresh()
    return {"run": run, "later": later}


def _newcomer_ids(later: pd.DataFrame) -> set[int]:
    # Customers of the later import with a purchase (only cancelled orders: no features).
    keys = set(later["email"].str.strip().str.lower())
    return set(Customer.objects.filter(key__in=keys, orders__is_cancelled=False)
               .values_list("pk", flat=True))


def test_customers_imported_after_a_run_are_placed_by_its_classifier(analysed_shop):
    run = analysed_shop["run"]
    members_before = SegmentMembership.objects.filter(run=run).count()
    load_order_lines(analysed_shop["later"])
    newcomers = _newcomer_ids(analysed_shop["later"])

    placed = new_customers_place()

    assert placed == len(newcomers) > 50
    memberships = SegmentMembership.objects.filter(run=run, placed_by=PlacedBy.CLASSIFIER)
    assert set(memberships.values_list("customer_id", flat=True)) == newcomers
    assert SegmentMembership.objects.filter(run=run).count() == members_before + len(newcomers)
    cluster_keys = set(run.segments.filter(kind="cluster").values_list("key", flat=True))
    assert {m.cluster_key for m in memberships} <= cluster_keys
    assert all(0 < m.placement_probability <= 1 for m in memberships)
    scores = CustomerScore.objects.filter(customer_id__in=newcomers)
    assert scores.count() == len(newcomers)
    assert set(scores.values_list("placed_by", flat=True)) == {PlacedBy.CLASSIFIER}
    assert not SegmentMembership.objects.filter(run=run, placed_by=PlacedBy.RUN,
                                                customer_id__in=newcomers).exists()


def test_placements_are_the_saved_models_predictions_on_the_run_scales(analysed_shop):
    run = analysed_shop["run"]
    load_order_lines(analysed_shop["later"])
    newcomers = _newcomer_ids(analysed_shop["later"])

    new_customers_place()

    stored = PlacementModel.objects.get(run=run)
    features = db.features_frame(as_of=db.newest_order_at()).loc[sorted(newcomers)]
    forest = model_from_bytes(stored.model, key=model_signing_key())
    probabilities = forest.predict_proba(features[stored.columns].to_numpy(dtype=float))
    expected_cluster = forest.classes_[probabilities.argmax(axis=1)]
    expected_rfm = assign_rfm_segments(scores_from_edges(features, stored.rfm_edges))
    placed = {m.customer_id: m for m in SegmentMembership.objects.filter(run=run,
                                                                         customer_id__in=newcomers)}
    assert [placed[c].cluster_key for c in features.index] == list(expected_cluster)
    assert [placed[c].rfm_key for c in features.index] == list(expected_rfm)
    assert np.allclose([placed[c].placement_probability for c in features.index],
                       probabilities.max(axis=1))


def test_the_run_keeps_its_edges_which_give_every_member_exactly_their_scores(analysed_shop):
    run = analysed_shop["run"]
    stored = PlacementModel.objects.get(run=run)
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.values("customer_id", "recency_days", "frequency", "monetary",
                                     "r_score", "f_score", "m_score"),
        index="customer_id",
    )

    again = scores_from_edges(scores, stored.rfm_edges)

    # Equal values share a score in the run, so the edges give everyone theirs back,
    # ties included: a newcomer identical to a member is scored as that member.
    for column in ("r_score", "f_score", "m_score"):
        assert (again[column] == scores[column]).all(), column
    assert stored.rfm_edges["frequency"] == [1, 2, 3, 5]


def test_placing_again_places_nobody_twice(analysed_shop):
    load_order_lines(analysed_shop["later"])
    first = new_customers_place()

    second = new_customers_place()

    assert first > 0 and second == 0
    assert SegmentMembership.objects.filter(run=analysed_shop["run"],
                                            placed_by=PlacedBy.CLASSIFIER).count() == first


def test_the_next_full_run_replaces_the_placements(analysed_shop):
    load_order_lines(analysed_shop["later"])
    placed = new_customers_place()

    second = run_refresh()

    assert placed > 0
    assert not SegmentMembership.objects.filter(run=second, placed_by=PlacedBy.CLASSIFIER).exists()
    assert not CustomerScore.objects.filter(placed_by=PlacedBy.CLASSIFIER).exists()
    assert list(PlacementModel.objects.values_list("run_id", flat=True)) == [second.pk]
    # History keeps what the classifier said under the first run.
    assert SegmentMembership.objects.filter(run=analysed_shop["run"],
                                            placed_by=PlacedBy.CLASSIFIER).count() == placed


def test_nothing_is_placed_without_a_placement_model(analysed_shop):
    PlacementModel.objects.all().delete()
    load_order_lines(analysed_shop["later"])

    placed = new_customers_place()

    assert placed == 0
    assert not SegmentMembership.objects.filter(placed_by=PlacedBy.CLASSIFIER).exists()
    assert not CustomerScore.objects.filter(customer_id__in=_newcomer_ids(analysed_shop["later"])).exists()


def test_nothing_is_placed_before_the_first_run(db, demo_lines):
    load_order_lines(demo_lines[0])

    assert new_customers_place() == 0
    assert not SegmentMembership.objects.exists()


@pytest.mark.worker
def test_a_real_worker_places_new_customers_before_the_full_run(start_worker, demo_lines):
    first, later = demo_lines
    load_order_lines(first)  # autocommit: its signal queues a first run
    start_worker(queues="analysis")
    wait_until(lambda: SegmentationRun.objects.filter(is_current=True).exists(),
               timeout=90, what="the first run to finish")
    first_run = SegmentationRun.objects.get(is_current=True)

    load_order_lines(later)  # its signal queues the placement, then a full run

    wait_until(lambda: SegmentationRun.objects.filter(is_current=True)
               .exclude(pk=first_run.pk).exists(), timeout=90, what="the second run to finish")
    newcomers = _newcomer_ids(later)
    placed = SegmentMembership.objects.filter(run=first_run, placed_by=PlacedBy.CLASSIFIER)
    assert set(placed.values_list("customer_id", flat=True)) == newcomers
    second = SegmentationRun.objects.get(is_current=True)
    assert SegmentMembership.objects.filter(run=second, customer_id__in=newcomers,
                                            placed_by=PlacedBy.RUN).count() == len(newcomers)


def test_an_order_import_queues_placement_only_when_a_model_exists(
    analysed_shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as with_model:
        import_finished.send(sender=None, job_id=1, kind="orders")
    PlacementModel.objects.all().delete()
    SegmentationRun.objects.filter(status="queued").delete()
    with django_capture_on_commit_callbacks(execute=False) as without_model:
        import_finished.send(sender=None, job_id=2, kind="orders")

    assert len(with_model) == 2  # placement, then the full run
    assert len(without_model) == 1  # the full run only


def test_a_stored_model_that_fails_its_signature_places_no_one(analysed_shop):
    run = analysed_shop["run"]
    stored = PlacementModel.objects.get(run=run)
    PlacementModel.objects.filter(pk=stored.pk).update(model=bytes(stored.model)[:-1] + b"x")
    load_order_lines(analysed_shop["later"])
    newcomers = _newcomer_ids(analysed_shop["later"])

    placed = new_customers_place()

    assert placed == 0
    assert not SegmentMembership.objects.filter(run=run, customer_id__in=newcomers).exists()


def test_until_the_next_run_the_audience_choices_count_the_customers_each_audience_holds(
        analysed_shop):
    from segments.selectors import audience_customer_ids, audience_options

    load_order_lines(analysed_shop["later"])
    assert new_customers_place() > 50

    sizes = {(o.kind, o.key): o.size for o in audience_options()}

    # what the campaign page offers ("Loyal (412)") is whom the audience would email
    assert sizes == {(kind, key): len(audience_customer_ids(kind=kind, key=key))
                     for kind, key in sizes if kind != "all"} | {
        ("all", "all"): Customer.objects.count()}


def test_a_segment_page_says_how_many_it_lists_beyond_its_figures_until_the_next_run(
        analysed_shop, owner_client):
    import re

    from django.core.cache import cache
    from django.urls import reverse

    from segments.models import Segment

    load_order_lines(analysed_shop["later"])
    new_customers_place()
    placed = CustomerScore.objects.filter(placed_by=PlacedBy.CLASSIFIER)
    key = placed.values_list("rfm_key", flat=True).order_by("rfm_key").first()
    segment = Segment.objects.get(run=analysed_shop["run"], kind="rfm", key=key)
    extra = placed.filter(rfm_key=key).count()
    cache.clear()

    page = owner_client.get(reverse("segment-detail", args=["rfm", key]),
                            HTTP_ACCEPT_LANGUAGE="en").content.decode()

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert f"{segment.size} Customers" in text  # the analysis' figure stays
    assert f"{segment.size + extra:,} in all" in text  # the members listed below
    said = f"{extra} customer{'s' if extra > 1 else ''} imported since this analysis"
    assert said in text
