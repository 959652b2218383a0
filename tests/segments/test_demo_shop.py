"""The demo shop end to end: one analysed dataset shared by the page, selector and API tests.

The data is loaded and analysed once per module (two runs, with new customers in
between) and committed, so every test here reads the same real results.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest.demo.catalog import PRODUCT_AFFINITIES
from ingest.models import Customer, Product
from segments import selectors
from segments.models import BasketRule, CustomerScore, Segment
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.segments.demo_loader import load_demo_shop
from tests.segments.helpers import run_refresh

TABLES = [
    "segments_recommendation", "segments_basketrule", "segments_interesttopic",
    "segments_segmentmembership", "segments_customerscore", "segments_segment",
    "segments_segmentlabel", "segments_segmentationrun", "ingest_orderline", "ingest_order",
    "ingest_product", "ingest_customer",
]
EVIL_NAME = "=HYPERLINK(\"http://evil.example\")"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        load_demo_shop(1500, tmp_dir=tmp_path_factory.mktemp("demo"))
        first = run_refresh()
        first_keys = dict(CustomerScore.objects.values_list("customer_id", "cluster_key"))
        as_of = first.as_of
        gift = ProductFactory(name="Gift Card", category="Snacks & Gifts", sku="GIFT-CARD")
        newcomers = [CustomerFactory(first_name=EVIL_NAME if i == 0 else f"New{i}")
                     for i in range(5)]
        for c in newcomers:
            make_order(c, as_of - timedelta(hours=1), [(gift, 1, "25.00")])
        second = run_refresh()
    yield {"first": first, "second": second, "first_keys": first_keys, "evil": newcomers[0]}
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


pytestmark = pytest.mark.django_db


def _pairs(run) -> set[frozenset[str]]:
    names = dict(Product.objects.values_list("id", "name"))
    return {
        frozenset(names[p] for p in (*r.antecedent_ids, *r.consequent_ids))
        for r in BasketRule.objects.filter(run=run, segment_key="")
    }


# ------------------------------------------------------------------ analysis results


def test_basket_rules_find_the_bundles_the_demo_shop_sells_together(demo):
    found = _pairs(demo["second"])

    bundles_found = [b for b in PRODUCT_AFFINITIES
                     if any(frozenset(pair) <= f for f in found for pair in [b[:2]])]
    assert len(bundles_found) >= 8, (len(bundles_found), sorted(map(sorted, found))[:20])
    top = BasketRule.objects.filter(run=demo["second"], segment_key="").order_by("-lift")[:10]
    assert all(r.lift > 2 for r in top)


def test_rules_are_also_mined_per_rfm_segment(demo):
    run = demo["second"]
    segment_keys = set(BasketRule.objects.filter(run=run).exclude(segment_key="")
                       .values_list("segment_key", flat=True))

    assert "champions" in segment_keys
    assert any("skipped" in v for v in run.baskets["segments"].values()) or segment_keys


def test_value_models_are_fitted_validated_and_compared_on_enough_history(demo):
    metrics = demo["second"].metrics

    assert metrics["clv"]["enough_history"] is True
    assert metrics["clv"]["model"]["chosen"] in {"mbgnbd", "pareto"}
    assert [c["model"] for c in metrics["clv"]["comparison"]] == ["bgnbd", "mbgnbd", "pareto"]
    assert metrics["clv"]["spend"]["usable"] is True
    holdout = metrics["clv"]["holdout"]
    assert holdout["actual_total"] > 0
    assert 0.5 < holdout["predicted_total"] / holdout["actual_total"] < 2
    assert metrics["propensity"]["winner"] in {"model", "bgnbd", "recency"}
    assert metrics["propensity"]["comparison"]["model"]["auc"] > 0.6
    scores = CustomerScore.objects.filter(expected_value_12m__isnull=False)
    assert scores.count() == CustomerScore.objects.count()
    assert all(0 <= s.p_alive <= 1 for s in scores[:200])
    assert metrics["classifier"]["accuracy"] > 0.8


def test_the_second_run_keeps_cluster_keys_for_the_customers_already_there(demo):
    before = demo["first_keys"]
    after = dict(CustomerScore.objects.values_list("customer_id", "cluster_key"))

    kept = sum(after[c] == k for c, k in before.items())
    assert kept / len(before) > 0.95
    assert demo["second"].metrics["transitions"]["previous_run"] == demo["first"].pk


def test_interests_name_topics_after_categories(demo):
    customer = CustomerScore.objects.exclude(interests=[]).first()

    assert customer.interests[0]["name"]
    assert demo["second"].topics.count() >= 2


# ------------------------------------------------------------------ selectors for campaigns


def test_audience_options_cover_every_segment_cluster_and_propensity_group(demo):
    options = selectors.audience_options()

    kinds = {o.kind for o in options}
    assert kinds == {"all", "rfm", "cluster", "propensity"}
    rfm = {o.key: o.size for o in options if o.kind == "rfm"}
    assert rfm == dict(Segment.objects.filter(run=demo["second"], kind="rfm").values_list("key", "size"))
    top20 = next(o for o in options if o.key == "top20")
    assert top20.name == "Top 20% most likely to buy"
    assert abs(top20.size - 0.2 * CustomerScore.objects.count()) <= 2
    assert next(o for o in options if o.kind == "all").size == Customer.objects.count()


def test_audience_ids_segment_keys_and_recommendations_agree_with_the_scores(demo):
    ids = selectors.audience_customer_ids(kind="rfm", key="champions")

    assert ids == sorted(CustomerScore.objects.filter(rfm_key="champions").values_list("customer_id", flat=True))
    keys = selectors.customer_segment_keys(ids[:3])
    assert all(v["rfm"] == "champions" and v["rfm_name"] == "Champions" for v in keys.values())
    assert all(v["cluster"].startswith("cluster-") and v["cluster_name"] for v in keys.values())
    recs = selectors.customer_recommendations(ids[:3], limit=3)
    assert set(recs) == set(ids[:3]) and all(len(r) == 3 for r in recs.values())
    bought = set(CustomerScore.objects.get(customer_id=ids[0]).customer.orders
                 .values_list("lines__product_id", flat=True))
    assert not {r.product_id for r in recs[ids[0]]} & bought
    top10 = selectors.audience_customer_ids(kind="propensity", key="top10")
    assert len(top10) < len(selectors.audience_customer_ids(kind="propensity", key="top20"))
    assert selectors.segment_display_name("propensity", "top10") == "Top 10% most likely to buy"


# ------------------------------------------------------------------ pages


def test_overview_shows_kpis_revenue_chart_and_segments(demo, owner_client):
    page = owner_client.get("/").content.decode()

    assert f'data-kpi="customers">{Customer.objects.count():,}<' in page
    assert "Revenue per month: new vs returning customers" in page
    assert "Champions" in page and "Upload your first order CSV" not in page
    assert "plotly/plotly.min" in page


def test_segments_page_lists_each_segment_with_its_numbers_and_rule(demo, owner_client):
    page = owner_client.get("/segments/").content.decode()

    for segment in Segment.objects.filter(run=demo["second"], kind="rfm"):
        assert f'data-segment="{segment.key}"' in page
    assert "R = 5 and average of F and M 4–5" in page
    assert "Refresh analysis" in page
    clusters = owner_client.get("/segments/?kind=cluster").content.decode()
    assert "has the best silhouette" in clusters or "You chose" in clusters
    assert "of members" in clusters


def test_segment_detail_shows_members_products_scatter_and_email_link(demo, owner_client):
    page = owner_client.get("/segments/rfm/champions/").content.decode()

    assert "<h1>Champions</h1>" in page
    assert 'href="/campaigns/new/?kind=rfm&amp;key=champions"' in page
    assert "scattergl" in page
    assert "Top products" in page and "Top categories" in page
    best = CustomerScore.objects.filter(rfm_key="champions").order_by("-monetary").first()
    assert best.customer.email in page
    assert owner_client.get("/segments/rfm/nope/").status_code == 404


def test_segment_members_can_be_sorted_and_filtered(demo, owner_client):
    page = owner_client.get("/segments/rfm/champions/?sort=frequency&min_orders=3").content.decode()

    least = (CustomerScore.objects.filter(rfm_key="champions", frequency__gte=3)
             .order_by("frequency", "customer_id").first())
    assert least.customer.email in page
    count = CustomerScore.objects.filter(rfm_key="champions", frequency__gte=3).count()
    assert f"({count} in all)" in page or f"{count} in all" in page


def test_segment_csv_export_has_every_member_and_defuses_formulas(demo, owner_client):
    evil = CustomerScore.objects.get(customer=demo["evil"])

    response = owner_client.get(f"/segments/rfm/{evil.rfm_key}/export.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["customer_id", "email", "first_name"]
    assert len(rows) - 1 == CustomerScore.objects.filter(rfm_key=evil.rfm_key).count()
    evil_row = next(r for r in rows if r[0] == str(evil.customer_id))
    assert evil_row[2] == "'" + EVIL_NAME


def test_renaming_a_segment_shows_the_new_name_everywhere(demo, owner_client):
    owner_client.post("/segments/rfm/at_risk/rename/", {"name": "Win back"})

    assert "<h1>Win back</h1>" in owner_client.get("/segments/rfm/at_risk/").content.decode()
    assert "Win back" in owner_client.get("/segments/").content.decode()
    assert selectors.segment_display_name("rfm", "at_risk") == "Win back"


def test_rfm_heatmap_counts_every_customer_and_links_cells_to_the_customer_list(demo, owner_client):
    page = owner_client.get("/segments/rfm/").content.decode()

    assert '"type": "heatmap"' in page
    assert 'href="/customers/?r=5&amp;f=5"' in page
    n = CustomerScore.objects.filter(r_score=5, f_score=5).count()
    listing = owner_client.get("/customers/?r=5&f=5").content.decode()
    assert f"{n} in all" in listing


def test_customer_list_searches_sorts_and_pages_without_n_plus_one(demo, owner_client):
    from django.test.utils import CaptureQueriesContext

    owner_client.get("/customers/")  # warm the session
    with CaptureQueriesContext(connection) as one_row:
        owner_client.get(f"/customers/?q={Customer.objects.first().email}")
    with CaptureQueriesContext(connection) as full_page:
        page = owner_client.get("/customers/?sort=-monetary").content.decode()

    assert len(full_page) <= len(one_row) <= 20  # 50 rows cost no more queries than 1

    top = CustomerScore.objects.order_by("-monetary").first().customer
    assert top.email in page
    assert "Page 1 of" in page
    someone = Customer.objects.exclude(pk=top.pk).order_by("pk")[10]
    found = owner_client.get(f"/customers/?q={someone.email}").content.decode()
    assert someone.email in found and "1 in all" in found


def test_customer_profile_explains_segment_value_interests_and_recommendations(demo, owner_client):
    score = CustomerScore.objects.filter(rfm_key="champions").order_by("-monetary").first()

    page = owner_client.get(f"/customers/{score.customer_id}/").content.decode()

    assert "In “Champions”: they " in page
    assert "Probability still an active customer" in page
    assert "Expected value over the next 12 months" in page
    assert 'id="interests"' in page and 'id="recommendations"' in page
    first_order = score.customer.orders.order_by("-ordered_at").first()
    assert first_order.order_key in page


def test_frequency_counts_purchases_and_a_return_exported_on_its_own_is_not_one(demo):
    from django.db.models import Count, Q

    purchases = dict(Customer.objects.annotate(n=Count(
        "orders", filter=Q(orders__gross_total__gt=0, orders__is_cancelled=False)))
        .values_list("pk", "n"))
    returned = set(Customer.objects.filter(orders__order_key__startswith="R")
                   .values_list("pk", flat=True))
    scores = dict(CustomerScore.objects.values_list("customer_id", "frequency"))

    assert returned  # the demo shop exports its returns as orders of their own
    assert {c: scores[c] for c in returned} == {c: purchases[c] for c in returned}


def test_a_one_order_customer_who_returned_it_reads_once_and_never_often(demo, owner_client):
    score = (CustomerScore.objects.filter(frequency=1, customer__orders__order_key__startswith="R")
             .order_by("monetary").first())

    page = owner_client.get(f"/customers/{score.customer_id}/").content.decode()

    assert "have bought once" in page
    assert "often" not in page.split('id="rfm-why"')[1].split("</p>")[0]
    assert '<div class="value">1</div><div class="label">Orders</div>' in page


def test_models_page_shows_every_model_and_the_movements_between_runs(demo, owner_client):
    page = owner_client.get("/segments/models/").content.decode()

    for text in ("Silhouette by number of clusters", "Confusion matrix on held-out customers",
                 "random forest importance", "BG/NBD", "Holdout check", "Propensity ROC",
                 "winner", "How customers moved between RFM segments"):
        assert text in page, text
    assert 'id="runs"' in page and f"<td>{demo['second'].pk} " in page


def test_rules_page_speaks_plainly_and_filters(demo, owner_client):
    page = owner_client.get("/segments/rules/").content.decode()

    assert "Customers who bought" in page and "more often than average" in page
    assert "Strongest rules" in page
    strong = owner_client.get("/segments/rules/?min_lift=1000").content.decode()
    assert "No rules match these filters." in strong
    champions = owner_client.get("/segments/rules/?segment=champions").content.decode()
    assert "Champions customers who bought" in champions


def test_product_page_lists_what_is_bought_with_it(demo, owner_client):
    press = Product.objects.get(name="French Press 1l")

    page = owner_client.get(f"/products/{press.pk}/").content.decode()

    bought_with = page.split('id="bought-with"')[1].split("</section>")[0]
    assert "House Blend Coarse Ground 250g" in bought_with


# ------------------------------------------------------------------ API


def test_api_lists_segments_customers_runs_rules_and_recommendations(demo, owner_client):
    segments = owner_client.get("/api/segments/?kind=rfm").json()
    assert {s["key"] for s in segments["results"]} >= {"champions", "lost"}

    customers = owner_client.get("/api/segment-customers/?rfm=champions").json()
    assert customers["count"] == CustomerScore.objects.filter(rfm_key="champions").count()
    assert all(c["rfm_key"] == "champions" for c in customers["results"])

    runs = owner_client.get("/api/runs/").json()
    assert runs["results"][0]["id"] == demo["second"].pk and runs["results"][0]["is_current"]

    rules = owner_client.get("/api/rules/?min_lift=2").json()
    assert rules["count"] > 0 and all(r["lift"] >= 2 for r in rules["results"])
    assert rules["results"][0]["sentence"].startswith("Customers who bought")

    some = CustomerScore.objects.first().customer_id
    recs = owner_client.get(f"/api/recommendations/?customer={some}").json()
    assert [r["rank"] for r in recs["results"]] == [1, 2, 3, 4, 5]


def test_page_figures_stored_by_the_run_equal_what_the_database_says_now(demo):
    run = selectors.current_run()

    assert selectors.overview_kpis(run) == selectors.overview_kpis()
    assert selectors.monthly_revenue(run) == selectors.monthly_revenue()
    def cells(grid):
        return [(c["r_score"], c["f_score"], c["customers"], round(c["revenue"], 2)) for c in grid]

    assert cells(selectors.rfm_grid(run)) == cells(selectors.rfm_grid())
    stored_points, stored_total = selectors.scatter_points(run=run)
    live_points, live_total = selectors.scatter_points()
    assert stored_total == live_total
    assert sorted(stored_points) == sorted(live_points)


def test_each_segments_stored_best_sellers_equal_the_live_query(demo):
    for segment in Segment.objects.filter(run=selectors.current_run()):
        stored = selectors.segment_top_products(segment.kind, segment.key, segment=segment)
        live = selectors.segment_top_products(segment.kind, segment.key)
        # Ties in (orders, revenue) may list different products, so compare the figures.
        assert [(p["orders"], round(p["revenue"], 2)) for p in stored] == [
            (p["orders"], round(p["revenue"], 2)) for p in live
        ]
        stored = selectors.segment_top_categories(segment.kind, segment.key, segment=segment)
        live = selectors.segment_top_categories(segment.kind, segment.key)
        assert [(c["category"], c["orders"], round(c["revenue"], 2)) for c in stored] == [
            (c["category"], c["orders"], round(c["revenue"], 2)) for c in live
        ]


@pytest.mark.parametrize("url", ["/customers/?page={}", "/segments/rfm/{key}/?page={}"])
def test_list_pages_make_the_same_few_queries_on_every_page(demo, owner_client, url):
    key = CustomerScore.objects.values_list("rfm_key", flat=True).order_by("rfm_key").first()
    # The shop's settings are cached per process for a few seconds; warm that
    # cache so both pages are counted the same way.
    assert owner_client.get(url.format(1, key=key)).status_code == 200
    counts = []
    for page in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url.format(page, key=key)).status_code == 200
        # The session is written on every request (its idle timeout moves): not the page's.
        counts.append(len([q for q in queries.captured_queries
                           if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]]))
        # Order lines are aggregated by the run, never by a page.
        assert not any("ingest_orderline" in q["sql"] for q in queries.captured_queries)

    assert counts[0] == counts[1] <= 15
