"""Cluster names, ids and rules on a real shop's data, through the real import and refresh."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse

from ingest.models import Order
from profiler_site.core.services import user_language_set
from segments.analysis.clustering import (
    DAYS_PER_MONTH,
    FREQUENT_MIN_ORDERS,
    RECENT_MAX_DAYS,
    RULE_MIN_COVERAGE,
    RULE_MIN_PRECISION,
)
from segments.computed_text import cluster_unlike_sentence
from segments.models import CustomerScore, Segment, SegmentationRun, SegmentLabel
from segments.services import db
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db

CDNOW = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"


@pytest.fixture
def cdnow_file(tmp_path) -> Path:
    # CDNOW's sample as an order-lines export: 2,357 customers, 1997-01 to 1998-06, most
    # of them gone for a year or more by the last order: relative names said "recent".
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, dtype={2: str},
                      names=["master", "sample", "date", "cds", "value"])
    frame = pd.DataFrame({
        "order_id": [f"CD-{i}" for i in range(len(raw))],
        "email": [f"cd{m}@example.com" for m in raw["master"]],
        "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
        "sku": "CD",
        "product_name": "Compact disc",
        "quantity": 1,
        "unit_price": raw["value"].map(lambda v: f"{v:.2f}"),
    })
    path = tmp_path / "cdnow.csv"
    frame.to_csv(path, index=False)
    return path


def _members(run: SegmentationRun) -> dict[str, pd.DataFrame]:
    features = db.features_frame(as_of=run.as_of)
    keys = pd.Series(dict(CustomerScore.objects.filter(run=run)
                          .values_list("customer_id", "cluster_key")))
    return {key: features.loc[ids.index] for key, ids in keys.groupby(keys)}


def _snapshot(run: SegmentationRun) -> tuple:
    clusters = Segment.objects.filter(run=run, kind="cluster").order_by("key")
    return (
        run.k_chosen,
        dict(CustomerScore.objects.filter(run=run).values_list("customer_id", "cluster_key")),
        [(s.key, s.name, s.description, s.rule_text, s.size) for s in clusters],
    )


def test_cluster_names_are_true_of_their_members_in_absolute_terms(cdnow_file):
    load_order_lines(cdnow_file)

    run = run_refresh(rules=False)

    members = _members(run)
    clusters = list(Segment.objects.filter(run=run, kind="cluster"))
    assert len(clusters) == run.k_chosen >= 2
    for cluster in clusters:
        facts = members[cluster.key]
        name = cluster.name.lower()
        assert ("recent" in name) == (facts["recency_days"].median() <= RECENT_MAX_DAYS), (
            cluster.name, facts["recency_days"].describe())
        assert ("frequent" in name) == (facts["frequency"].median() >= FREQUENT_MIN_ORDERS), (
            cluster.name, facts["frequency"].describe())
        assert "(2)" not in cluster.name


def test_a_reimport_that_adds_nothing_changes_no_cluster_k_id_name_or_rule(cdnow_file):
    load_order_lines(cdnow_file)
    before = _snapshot(run_refresh(rules=False))
    orders = Order.objects.count()

    load_order_lines(cdnow_file)  # the same file again: nothing new
    after_reimport = _snapshot(run_refresh(rules=False))
    after_rerun = _snapshot(run_refresh(rules=False))

    assert Order.objects.count() == orders
    assert after_reimport == before
    assert after_rerun == before


def test_a_cluster_rule_is_kept_only_when_it_describes_the_cluster(cdnow_file):
    load_order_lines(cdnow_file)

    run = run_refresh(rules=False)

    for cluster in Segment.objects.filter(run=run, kind="cluster"):
        faithful = (cluster.rule_coverage >= RULE_MIN_COVERAGE
                    and cluster.rule_precision >= RULE_MIN_PRECISION)
        assert bool(cluster.rule_text) == faithful, (cluster.name, cluster.rule_coverage,
                                                     cluster.rule_precision)


@pytest.mark.parametrize("language, words", [
    ("en", "No short rule describes this cluster."),
    ("zh-hans", "没有简短的规则能描述这个聚类。"),
])
def test_the_pages_say_so_when_no_short_rule_describes_a_cluster(
    small_shop, owner, owner_client, language, words
):
    cache.clear()
    run = run_refresh(k=3, rules=False)
    cluster = Segment.objects.filter(run=run, kind="cluster").first()
    Segment.objects.filter(pk=cluster.pk).update(rule_text="", rule_coverage=0.4,
                                                 rule_precision=0.5)
    user_language_set(user=owner, language=language)

    listing = html.unescape(owner_client.get(reverse("segments") + "?kind=cluster")
                            .content.decode())
    detail = html.unescape(owner_client.get(reverse("segment-detail",
                                                    args=["cluster", cluster.key]))
                           .content.decode())

    assert listing.count(words) == 1
    assert words in detail
    cache.clear()


def _name_holds(name: str, facts: pd.Series) -> bool:
    """The reference: each part of a generated name checked against one member's facts,
    written from the naming rules (clustering.py's constants), not from its reader."""
    days = math.floor(facts["recency_days"])  # whole days, as the pages show them
    months = round(days / DAYS_PER_MONTH)
    checks = {
        "recent": days <= RECENT_MAX_DAYS,
        "frequent": facts["frequency"] >= FREQUENT_MIN_ORDERS,
        "1 order": facts["frequency"] == 1,
    }
    for part in name.lower().split(", "):
        if part in checks:
            if not checks[part]:
                return False
            continue
        numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", part)]
        low, high = numbers[0], numbers[-1]
        if part.startswith("last order"):
            value = months
        elif part.startswith("spend"):
            value = facts["monetary"]
        else:
            value = facts["frequency"]
        if not low <= value <= high:
            return False
    return True


def test_a_customer_whose_facts_differ_from_their_cluster_name_is_told_so_and_only_they(
    cdnow_file, owner_client
):
    load_order_lines(cdnow_file)
    run = run_refresh(rules=False)
    clusters = Segment.objects.filter(run=run, kind="cluster")
    names = dict(clusters.values_list("key", "name"))
    claims = dict(clusters.values_list("key", "name_claims"))
    scores = list(CustomerScore.objects.filter(run=run).order_by("customer_id"))
    differ = [s for s in scores if not _name_holds(names[s.cluster_key], pd.Series(
        {"recency_days": s.recency_days, "frequency": s.frequency, "monetary": s.monetary}))]
    assert 0 < len(differ) < len(scores)  # CDNOW's clusters hold members of both kinds

    flagged = {s.customer_id for s in scores
               if cluster_unlike_sentence(s, claims[s.cluster_key])}
    assert flagged == {s.customer_id for s in differ}

    one = differ[0]
    page = html.unescape(owner_client.get(reverse("customer-detail", args=[one.customer_id]))
                         .content.decode())
    sentence = re.search(r'<span class="muted" id="cluster-unlike">(.*?)</span>', page).group(1)
    assert sentence.startswith("Unlike this cluster's typical member, they ")
    fits = next(s for s in scores if s.customer_id not in flagged)
    page = owner_client.get(reverse("customer-detail", args=[fits.customer_id])).content.decode()
    assert 'id="cluster-unlike"' not in page


def test_a_cluster_the_owner_renamed_claims_nothing_about_its_members(cdnow_file, owner_client):
    load_order_lines(cdnow_file)
    run = run_refresh(rules=False)
    claims = dict(Segment.objects.filter(run=run, kind="cluster").values_list("key", "name_claims"))
    score = next(s for s in CustomerScore.objects.filter(run=run)
                 if cluster_unlike_sentence(s, claims[s.cluster_key]))
    SegmentLabel.objects.create(kind="cluster", key=score.cluster_key, name="Our regulars")

    page = owner_client.get(reverse("customer-detail", args=[score.customer_id])).content.decode()
    listing = owner_client.get(reverse("customers") + f"?cluster={score.cluster_key}").content.decode()

    assert "Our regulars" in page and 'id="cluster-unlike"' not in page
    assert "cluster-unlike" not in listing
