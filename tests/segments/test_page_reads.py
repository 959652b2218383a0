"""The faster reads behind the analysis pages list the same customers and figures."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, Sum
from django.test.utils import CaptureQueriesContext

from ingest.models import Customer, OrderLine
from segments import selectors
from segments.models import CustomerScore, SegmentLabel
from tests.factories import CustomerFactory, make_order
from tests.segments.conftest import NEWEST
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(small_shop):
    cache.clear()  # the pages keep per-run values; ids of a rolled-back run come back
    run = run_refresh()
    yield {**small_shop, "run": run}
    cache.clear()


def _ids(object_list) -> list[int]:
    return [c.pk for c in object_list]


def _plain_join(sort_field: str, descending: bool):
    order = F(sort_field).desc(nulls_last=True) if descending else F(sort_field).asc(nulls_last=True)
    return Customer.objects.select_related("score").order_by(order, "id")


@pytest.mark.parametrize(("sort", "field", "descending"), [
    ("-monetary", "score__monetary", True), ("recency", "score__recency_days", False),
    ("-frequency", "score__frequency", True),
])
def test_customer_list_pages_match_the_plain_join_with_new_customers_last(analysed, sort, field,
                                                                           descending):
    # given a customer who arrived after the run
    newcomer = CustomerFactory(first_name="Newcomer")

    # when the list is read in pages of five
    listing = selectors.customer_list(sort=sort)
    paginator = Paginator(listing, 5)
    seen = [c for n in paginator.page_range for c in paginator.page(n).object_list]

    # then it is the left join's order, every customer once, the unscored one last
    assert paginator.count == Customer.objects.count() == 13
    expected = [c.pk for c in _plain_join(field, descending)]
    assert _ids(seen) == expected
    assert seen[-1].pk == newcomer.pk and getattr(seen[-1], "score", None) is None
    assert all(c.score.customer_id == c.pk for c in seen[:-1])


def test_customer_list_rows_carry_their_scores_without_a_query_each(analysed):
    listing = selectors.customer_list(sort="-monetary")

    with CaptureQueriesContext(connection) as queries:
        rows = listing[0:10]
        spends = [c.score.monetary for c in rows]

    assert len(queries) == 1
    assert spends == sorted(spends, reverse=True)


def test_cell_filter_lists_only_scored_customers_of_the_cell(analysed):
    score = CustomerScore.objects.order_by("-monetary").first()

    listing = selectors.customer_list(r=score.r_score, f=score.f_score)

    expected = CustomerScore.objects.filter(r_score=score.r_score, f_score=score.f_score)
    assert Paginator(listing, 50).count == expected.count()
    assert set(_ids(listing[0:50])) == set(expected.values_list("customer_id", flat=True))


@pytest.mark.parametrize(("query", "found"), [
    ("müller", True), ("MÜLLER", True), ("anna müll", True), ("@shop.example", True),
    ("muller", True), ("Muller", True), ("anna mull", True), ("mùller", True), ("mueller", True),
    ("mullar", False), ("a.b", False),
    ("SHOP-42", True), ("shop-4", False), ("%", False), ("nobody", False),
])
def test_search_ignores_case_in_names_and_emails_and_matches_shop_ids_exactly(analysed, query,
                                                                              found):
    anna = CustomerFactory(first_name="Anna", last_name="Müller", email="a.mueller@shop.example",
                           shop_customer_id="shop-42")

    listing = selectors.customer_list(search=query, page=1, page_size=50)

    assert (anna.pk in _ids(listing[0:50])) is found
    assert Paginator(listing, 50).count == (1 if found else 0)


@pytest.mark.parametrize(("first", "last", "query"), [
    ("Zoë", "Brontë", "zoe bronte"), ("Łukasz", "Wałęsa", "lukasz walesa"),
    ("François", "Ørsted", "francois orsted"), ("Zoe", "Bronte", "Zoë Brontë"),
])
def test_search_ignores_accents_both_ways_in_the_customer_list_and_a_segment(analysed, first,
                                                                           last, query):
    customer = CustomerScore.objects.select_related("customer").first().customer
    customer.first_name, customer.last_name = first, last
    customer.save(update_fields=["first_name", "last_name"])
    score = customer.score

    listing = selectors.customer_list(search=query)
    members = selectors.segment_members_sorted("rfm", score.rfm_key, search=query)

    assert _ids(listing[0:50]) == [customer.pk]
    assert [m.customer_id for m in members] == [customer.pk]


def test_search_counts_every_match_on_any_page(analysed):
    for i in range(7):
        CustomerFactory(first_name=f"Sam{i}", last_name="Searchable")

    first = Paginator(selectors.customer_list(search="searchable", page_size=5, page=1), 5)
    second = selectors.customer_list(search="searchable", page_size=5, page=2)
    beyond = selectors.customer_list(search="searchable", page_size=5, page=9)

    assert first.count == 7 and len(first.page(1).object_list) == 5
    assert Paginator(second, 5).count == 7 and len(Paginator(second, 5).page(2).object_list) == 2
    assert Paginator(beyond, 5).count == 7  # past the last page the total is still right


def test_profile_products_equal_the_orm_aggregate_and_leave_out_returns(analysed):
    customer = analysed["customers"][0]
    make_order(customer, NEWEST - timedelta(days=2), [(analysed["products"][3], 1, "8.00")])
    OrderLine.objects.filter(order__customer=customer, product=analysed["products"][3]).update(
        is_return=True)

    products = selectors.customer_profile(customer.pk).products

    expected = list(
        OrderLine.objects.filter(order__customer=customer, is_return=False)
        .values("product_id").annotate(quantity=Sum("quantity"),
                                       orders=Count("order_id", distinct=True))
        .order_by("-orders", "-quantity", "product_id")
    )
    assert [(p["product_id"], p["quantity"], p["orders"]) for p in products] == [
        (e["product_id"], e["quantity"], e["orders"]) for e in expected]


def _scatter(page: str) -> dict:
    script = re.search(r'<script id="chart-scatter" type="application/json">(.*?)</script>', page,
                       re.DOTALL)
    return json.loads(script.group(1))


def test_segment_scatter_has_every_customer_once_and_highlights_the_segment(analysed, owner_client):
    score = CustomerScore.objects.order_by("-monetary").first()

    figure = _scatter(owner_client.get(f"/segments/rfm/{score.rfm_key}/").content.decode())

    ids = [i for trace in figure["data"] for i in trace["customdata"]]
    assert sorted(ids) == sorted(CustomerScore.objects.values_list("customer_id", flat=True))
    trace = next(t for t in figure["data"] if score.customer_id in t["customdata"])
    at = trace["customdata"].index(score.customer_id)
    assert trace["x"][at] == round(score.recency_days + 1)
    assert trace["y"][at] == round(score.monetary + 1)
    assert trace["marker"]["opacity"] == 0.7
    assert all(t["marker"]["opacity"] == 0.15 for t in figure["data"] if t is not trace)
    assert all(t["type"] == "scattergl" for t in figure["data"])


def test_segment_scatter_shows_renames_at_once_and_escapes_them(analysed, owner_client):
    key = CustomerScore.objects.values_list("rfm_key", flat=True).first()
    url = f"/segments/rfm/{key}/"
    owner_client.get(url)  # the scatter is now kept for this run

    SegmentLabel.objects.create(kind="rfm", key=key, name="</script><b>Best</b>")
    page = owner_client.get(url).content.decode()

    assert "</script><b>Best" not in page
    # Plotly draws trace names as HTML: the name reaches it escaped, so it shows as typed.
    assert "&lt;/script&gt;&lt;b&gt;Best&lt;/b&gt;" in [t["name"] for t in _scatter(page)["data"]]


def test_product_figures_follow_the_next_run(analysed, owner_client):
    tea = analysed["products"][3]
    url = f"/products/{tea.pk}/"
    before = owner_client.get(url).context["d"].orders

    make_order(CustomerFactory(), NEWEST - timedelta(days=1), [(tea, 1, "8.00")])
    assert owner_client.get(url).context["d"].orders == before  # kept for the same run
    run_refresh()

    assert owner_client.get(url).context["d"].orders == before + 1


def test_runs_api_never_reads_the_page_data(analysed, owner_client):
    with CaptureQueriesContext(connection) as queries:
        runs = owner_client.get("/api/runs/").json()

    assert runs["results"][0]["id"] == analysed["run"].pk
    assert not any("page_data" in q["sql"] for q in queries.captured_queries)
