"""The owner removes the demo shop in Chromium: notice, confirm page, progress, empty shop."""

import pytest
from playwright.sync_api import expect

from ingest.models import Customer
from tests.browser.test_upload_in_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_the_owner_removes_the_demo_shop_from_the_overview(
    live_server, page, screenshot, owner, start_worker, settings, tmp_path
):
    from ingest.services.demo import demo_import_if_empty

    settings.VAR_DIR = tmp_path
    demo_import_if_empty(customers=60)
    start_worker(queues="default")
    log_in(page, live_server)

    notice = page.locator("#demo-shop")
    expect(notice).to_contain_text("demo shop")
    notice.get_by_role("link", name="Remove the demo shop").click()
    expect(page.locator("#undo-preview")).to_contain_text("60 customers it added are removed")
    screenshot("01-remove-demo-confirm")
    page.get_by_role("button", name="Remove the demo shop").click()

    expect(page.locator("#undone")).to_be_visible(timeout=60_000)
    screenshot("02-demo-removed")
    assert not Customer.objects.exists()
    page.goto(live_server.url + "/")
    expect(page.locator("#demo-shop")).to_have_count(0)
    expect(page.get_by_text("No customers yet")).to_be_visible()
