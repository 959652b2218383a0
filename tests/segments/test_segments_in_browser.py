"""Every analysis page in a real Chromium, on the demo shop analysed for real."""

import re

import pytest
from playwright.sync_api import expect

from ingest.models import Product
from segments.models import CustomerScore
from tests.segments.demo_loader import load_demo_shop
from tests.segments.helpers import log_in_as_owner, run_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _charts_drawn(page, count: int) -> None:
    expect(page.locator("[data-chart][data-rendered='1']")).to_have_count(count)


def test_owner_walks_every_analysis_page_with_charts(live_server, page, screenshot, tmp_path):
    load_demo_shop(600, tmp_dir=tmp_path)
    run_refresh()
    log_in_as_owner(page, live_server)

    expect(page.locator("[data-kpi=customers]")).to_have_text("600")
    _charts_drawn(page, 2)
    screenshot("01-overview")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    expect(page.locator("#segments-table")).to_contain_text("Champions")
    _charts_drawn(page, 1)
    screenshot("02-segments")
    page.get_by_role("link", name="Clusters").click()
    expect(page.locator("#segments-table")).to_contain_text("of members")
    screenshot("03-clusters")

    page.goto(live_server.url + "/segments/rfm/champions/")
    expect(page.get_by_role("heading", name="Champions", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Email this segment")).to_have_attribute(
        "href", "/campaigns/new/?kind=rfm&key=champions")
    _charts_drawn(page, 1)
    expect(page.locator("#members tbody tr")).to_have_count(
        min(50, CustomerScore.objects.filter(rfm_key="champions").count()))
    screenshot("04-segment-detail")

    page.get_by_role("navigation", name="Analysis").get_by_role("link", name="RFM heatmap").click()
    _charts_drawn(page, 1)
    screenshot("05-rfm")
    page.locator("#rfm-cells a").first.click()
    expect(page).to_have_url(re.compile(r"/customers/\?r=\d&f=\d"))
    expect(page.locator("#cell-filter")).to_be_visible()

    page.goto(live_server.url + "/segments/models/")
    expect(page.locator("#classifier")).to_contain_text("accuracy")
    expect(page.locator("#propensity-comparison")).to_contain_text("winner")
    screenshot("06-models")

    page.goto(live_server.url + "/segments/rules/")
    expect(page.locator("#rules")).to_contain_text("Customers who bought")
    _charts_drawn(page, 1)
    screenshot("07-rules")

    page.locator("#rules tbody tr").first.locator("td").nth(1).get_by_role("link").first.click()
    expect(page.locator("#bought-with")).to_contain_text("Orders together")
    screenshot("08-product")

    page.goto(live_server.url + "/customers/?sort=-monetary")
    page.locator("#customers tbody tr").first.get_by_role("link").first.click()
    expect(page.locator("#rfm-why")).to_contain_text("In “")
    expect(page.locator("#timeline")).to_be_visible()
    screenshot("09-customer")
    assert Product.objects.exists()
