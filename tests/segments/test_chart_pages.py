import json
import re
from datetime import UTC, datetime

from django.utils import timezone

from segments.models import BasketRule, SegmentationRun
from tests.factories import CustomerFactory, ProductFactory, make_order


def _figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.DOTALL)
    assert match, f"no {element_id} on the page"
    return json.loads(match.group(1))


def test_the_overview_revenue_chart_leaves_out_a_stray_order_decades_earlier_and_says_so(owner_client):
    # given: a shop selling through 2025, and one order mistyped as 1998
    product = ProductFactory(name="Beans")
    customer = CustomerFactory()
    for month in range(1, 13):
        make_order(customer, datetime(2025, month, 10, tzinfo=UTC), [(product, 1, "20.00")])
    make_order(CustomerFactory(), datetime(1998, 5, 8, tzinfo=UTC), [(product, 2, "7.50")])

    # when
    html = owner_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then
    months = _figure(html, "chart-revenue")["data"][0]["x"]
    assert months[0] == "2025-01" and months[-1] == "2025-12"
    assert re.search(r"Left out of this chart: 1 order \(\S*15\) in May 1998", html), html
    # The newest order is on 10 December: that bar is a third of a month, and says so.
    assert "December 2025 is hatched: it holds orders up to 10 Dec 2025, the newest in your " \
           "data, not a whole month." in html
    assert _figure(html, "chart-revenue")["data"][0]["marker"]["pattern"]["shape"][-1] == "/"


def _rules_run() -> SegmentationRun:
    return SegmentationRun.objects.create(is_current=True, status="succeeded", as_of=timezone.now(),
                                          baskets={"all": {"basket_count": 100}})


def test_the_rules_chart_shows_the_strongest_rule_even_with_three_products(owner_client):
    beans, mill, filters, tea = (ProductFactory(name=n) for n in ("Beans", "Mill", "Filters", "Tea"))
    run = _rules_run()
    for ids, lift in (([beans.pk, mill.pk], 9.0), ([tea.pk], 2.0)):
        BasketRule.objects.create(run=run, antecedent_ids=ids, consequent_ids=[filters.pk], support=0.05,
                                  confidence=0.6, lift=lift, leverage=0.01, conviction=1.5, order_count=5)

    html = owner_client.get("/segments/rules/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    trace = _figure(html, "chart-rules")["data"][0]
    assert trace["y"] == ["Tea → Filters", "Beans + Mill → Filters"]
    assert trace["x"] == [2.0, 9.0]


def test_the_models_page_says_nobody_moved_instead_of_an_empty_sankey(owner_client):
    SegmentationRun.objects.create(is_current=True, status="succeeded", as_of=timezone.now(),
                                   metrics={"transitions": {"rfm": [["loyal", "loyal", 12]]}})

    html = owner_client.get("/segments/models/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="chart-sankey"' not in html
    assert "No customer changed RFM segment since the previous run." in html


def test_the_rules_chart_follows_the_filters_of_the_table_below_it(owner_client):
    beans, filters, tea, honey = (ProductFactory(name=n, category=c) for n, c in (
        ("Beans", "Coffee"), ("Filters", "Coffee"), ("Tea", "Tea"), ("Honey", "Tea")))
    run = _rules_run()
    for a, c, lift in ((beans, filters, 9.0), (tea, honey, 2.0)):
        BasketRule.objects.create(run=run, antecedent_ids=[a.pk], consequent_ids=[c.pk], support=0.05,
                                  confidence=0.6, lift=lift, leverage=0.01, conviction=1.5, order_count=5)

    html = owner_client.get("/segments/rules/?category=Tea", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert _figure(html, "chart-rules")["data"][0]["y"] == ["Tea → Honey"]


def test_the_revenue_chart_counts_each_order_in_its_month_in_the_shops_time_zone(owner_client):
    import pandas as pd

    from profiler_site.core.shop import shop_settings_update
    from tests.segments.demo_loader import load_order_lines
    from tests.segments.helpers import run_refresh

    # given: a New York shop whose file dates an order 23:30 on 28 February (04:30 UTC on
    # 1 March); the profile lists it on 28 February
    shop_settings_update(name="Shop", currency="USD", time_zone="America/New_York",
                         sender_name="Shop", sender_address="shop@example.com")
    load_order_lines(pd.DataFrame([
        {"order_id": "#1010", "email": "k1@example.com", "ordered_at": "2025-02-28 23:30",
         "product_name": "Mug", "amount": "20.15"},
        {"order_id": "#1011", "email": "k1@example.com", "ordered_at": "2025-03-01 23:30",
         "product_name": "Mug", "amount": "21.15"},
    ]))

    def charted() -> list[tuple[str, float]]:
        html = owner_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        new, returning = _figure(html, "chart-revenue")["data"]
        return [(month, round(a + b, 2)) for month, a, b in zip(new["x"], new["y"], returning["y"])]

    # then: February's revenue is February's, before the first analysis and after it
    assert charted() == [("2025-02", 20.15), ("2025-03", 21.15)]
    run_refresh(rules=False)
    assert charted() == [("2025-02", 20.15), ("2025-03", 21.15)]


def test_orders_left_out_of_the_revenue_chart_are_purchases_as_the_orders_figure_counts(
        owner_client):
    from tests.factories import make_return_order

    # given: a shop selling through 2025; in May 1998 (a mistyped year) a purchase and a
    # return exported as its own order
    product = ProductFactory(name="Beans")
    customer = CustomerFactory()
    for month in range(1, 13):
        make_order(customer, datetime(2025, month, 10, tzinfo=UTC), [(product, 1, "20.00")])
    stray = CustomerFactory()
    make_order(stray, datetime(1998, 5, 8, tzinfo=UTC), [(product, 2, "7.50")])
    make_return_order(stray, datetime(1998, 5, 20, tzinfo=UTC), "5.00")

    html = owner_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then: 13 orders in all, 1 of them left out (with the money of both)
    assert re.search(r'data-kpi="orders">13<', html)
    assert re.search(r"Left out of this chart: 1 order \(\S*10\) in May 1998", html), html
