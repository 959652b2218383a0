"""In a real Chromium: compose, send with a real worker to a real SMTP server, click, buy, see lift."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignStatus, Recipient
from ingest.models import Order
from tests.campaigns.conftest import html_part, make_customers
from tests.conftest import PASSWORD
from tests.support import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_owner_sends_a_campaign_follows_a_link_and_sees_conversion_and_lift(
    live_server, page, screenshot, start_worker, smtp_server, django_user_model, tmp_path
):
    django_user_model.objects.create_superuser("owner", "owner@example.com", PASSWORD)
    make_customers(40)
    start_worker(extra_env={"EMAIL_URL": smtp_server.url, "PUBLIC_BASE_URL": live_server.url})
    target = live_server.url + "/health/"

    # log in and compose for the "all customers" audience
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/campaigns/new/?kind=all&key=all")
    expect(page.locator("#audience-summary")).to_contain_text("40")
    page.locator("#id_name").fill("Autumn beans")
    page.locator("#id_subject").fill('Hello {{ first_name | "there" }}')
    page.get_by_label("From name").fill("Bean Shop")
    page.get_by_label("From address").fill("shop@beans.example")
    page.get_by_label("Body (HTML)").fill(
        f'<p>Hi {{{{ first_name }}}}</p><p><a href="{target}">Our autumn beans</a></p>'
        "<script>alert(1)</script>"
    )
    preview = page.frame_locator("iframe.email-preview")
    expect(preview.get_by_role("link", name="Our autumn beans")).to_be_visible()
    screenshot("01-compose")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".detectable-lift")).to_contain_text("holdout")

    # send it; the real worker talks to the real SMTP server
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#send-campaign").click()
    campaign = Campaign.objects.get()
    wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
               timeout=60, what="the campaign to be sent")
    page.reload()
    expect(page.locator(".kpi-sent")).to_have_text("36")
    screenshot("02-sent")

    # a customer clicks the tracked link in the email they received
    message = smtp_server.messages[0]
    link = re.search(r'href="(http://[^"]+/t/c/[^"]+)"', html_part(message)).group(1)
    page.goto(link)
    expect(page).to_have_url(target)
    to = message["To"].addresses[0].addr_spec
    buyer = Recipient.objects.get(campaign=campaign, email=to)
    assert Recipient.objects.get(pk=buyer.pk).clicks == 1

    # ... and buys the next day: the owner imports the follow-up orders CSV
    bought_at = (buyer.sent_at + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S+00:00")
    follow_up = tmp_path / "follow-up-orders.csv"
    follow_up.write_text("order_id,email,ordered_at,sku,product_name,quantity,unit_price\n"
                         f"F-1,{to},{bought_at},BEAN-1,Autumn beans 1kg,2,21.00\n")
    page.goto(live_server.url + "/uploads/")
    page.locator("input[type=file]").set_input_files(str(follow_up))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".job-status")).to_have_text("Finished", timeout=60_000)
    assert Order.objects.get(order_key="F-1").net_total == Decimal("42.00")

    page.goto(live_server.url + f"/campaigns/{campaign.pk}/report/")
    expect(page.locator(".kpi-clicked")).to_have_text("1")
    expect(page.locator("tr.group-treatment .conversions")).to_have_text("1")
    expect(page.locator("tr.group-holdout .conversions")).to_have_text("0")
    expect(page.locator(".test-name")).to_have_text("Fisher's exact test")
    expect(page.locator(".abs-lift")).to_have_text("2.8")  # 1 of 36 bought vs 0 of 4
    expect(page.locator(".small-sample")).to_be_visible()
    expect(page.locator("#conversion-chart .main-svg").first).to_be_visible()
    screenshot("03-report")
