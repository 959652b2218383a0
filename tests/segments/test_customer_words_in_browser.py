"""One-order, returned and long-gone customers, on their profile and segment pages in a
real Chromium: every sentence there must be true of the customer's facts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from segments.analysis.rfm import RFM_SEGMENTS
from segments.models import CustomerScore
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    make_order,
)
from tests.segments.demo_loader import load_demo_shop
from tests.segments.helpers import log_in_as_owner, run_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shop_with_hard_customers(tmp_path):
    load_demo_shop(600, tmp_dir=tmp_path)
    first = run_refresh()
    as_of = first.as_of
    mug = ProductFactory(name="Plain Mug", category="Kitchen", sku="PLAIN-MUG")
    # bought once and sent it back, as a return exported on its own
    returned = CustomerFactory(first_name="Returned", last_name="Once")
    make_order(returned, as_of - timedelta(days=50), [(mug, 1, "40.00")])
    back = OrderFactory(customer=returned, ordered_at=as_of - timedelta(days=30),
                        gross_total=Decimal(0), returned_total=Decimal("40.00"),
                        net_total=Decimal("-40.00"))
    OrderLineFactory(order=back, product=mug, quantity=-1, unit_price=Decimal("40.00"),
                     line_total=Decimal("-40.00"), is_return=True)
    # last seen 10,404 days ago: a mixed history, where relative scores mislead
    gone = CustomerFactory(first_name="Long", last_name="Gone")
    make_order(gone, as_of - timedelta(days=10_404), [(mug, 2, "300.00")])
    # one order, a few days ago
    once = CustomerFactory(first_name="Only", last_name="Once")
    make_order(once, as_of - timedelta(days=3), [(mug, 1, "12.50")])
    run_refresh()
    return returned, gone, once


def test_one_order_returned_and_long_gone_customers_read_true(live_server, page, screenshot,
                                                              tmp_path):
    returned, gone, once = _shop_with_hard_customers(tmp_path)
    log_in_as_owner(page, live_server)

    cases = [
        (returned, "returned", ["have bought once", "spent $0.00 after returns and refunds"],
         ["often", "recent", "over a year"]),
        # The demo shop's newest order is on 31 Oct 2026: days are counted to that day.
        (gone, "long-gone", ["had not bought for over a year by 31 Oct 2026 (10,404 days)",
                             "have bought once", "spent $600.00 in total"],
         ["often", "recent"]),
        (once, "one-order", ["bought recently, 3 days before 31 Oct 2026", "have bought once",
                             "spent $12.50 in total"],
         ["often", "over a year"]),
    ]
    for customer, name, said, never in cases:
        score = CustomerScore.objects.get(customer=customer)
        assert score.frequency == 1
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        why = page.locator("#rfm-why")
        for text in said:
            expect(why).to_contain_text(text)
        # the facts sentence (the segment's relative description follows it)
        sentence = why.inner_text().split(". ")[0]
        assert not any(word in sentence for word in never), (name, sentence)
        assert not re.search(r"\b[RFM]=", sentence), sentence
        expect(page.locator(".kpi", has_text="Orders").locator(".value")).to_have_text("1")
        # the chance to buy is a possible sentence: never "than 100%" or "0% (more ..."
        chance = page.locator("#propensity")
        if chance.count():
            assert "100% of customers" not in chance.inner_text()
            assert not chance.inner_text().startswith("Chance of ordering in the next 90 days: 0% (higher")
        screenshot(f"{name}-profile")

        # their segment's page describes members only in terms every member meets
        segment = RFM_SEGMENTS[score.rfm_key]
        page.goto(f"{live_server.url}/segments/rfm/{score.rfm_key}/")
        expect(page.get_by_role("heading", name=segment.name, exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text(segment.description)
        screenshot(f"{name}-segment-{score.rfm_key}")

    page.goto(live_server.url + "/segments/rfm/")
    scale = page.locator("#f-scale")
    expect(scale).to_contain_text("returns and refunds are not purchases")
    expect(scale.locator("tbody td")).to_have_text(["1", "2", "3", "4–5", "6+"])
    screenshot("rfm-f-scale")


def test_a_stopped_regular_reads_why_their_two_estimates_differ_in_both_languages(
        live_server, page, screenshot, tmp_path):
    from django.contrib.auth import get_user_model

    from profiler_site.core.services import user_language_set

    load_demo_shop(200, tmp_dir=tmp_path)
    run_refresh()
    # The facts seen at 1M lines: an order every 4 days, then 119.6 days of silence;
    # the purchase-pattern model says gone, the 90-day model still 47%.
    score = CustomerScore.objects.order_by("-frequency").first()
    CustomerScore.objects.filter(pk=score.pk).update(
        p_alive=0.004, propensity=0.47, recency_days=119.6, mean_days_between_orders=4.2,
        expected_orders_90=0.01, expected_orders_365=0.02, expected_value_12m=0.31)
    log_in_as_owner(page, live_server)

    page.goto(live_server.url + f"/customers/{score.pk}/")
    why = page.locator("#models-differ")
    expect(why).to_contain_text("an order about every 4 days, none for 119 days")
    expect(why).to_contain_text("47% chance")
    expect(page.locator("#future")).to_contain_text("Expected value over the next 12 months: <$1")
    expect(page.locator(".kpi", has_text="Days since last purchase")).to_contain_text("119")
    screenshot("stopped-regular-en")
    user_language_set(user=get_user_model().objects.get(username="owner"), language="zh-hans")
    page.reload()
    expect(page.locator("#models-differ")).to_contain_text("已有 119 天没有下单")
    screenshot("stopped-regular-zh")
