"""A long order history on the profile, in Chromium at 1400 px: paged, readable, in one view."""

import re

import pytest
from playwright.sync_api import expect

from tests.segments.helpers import log_in_as_owner
from tests.segments.test_profile_orders import _history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth > window.innerWidth"


def test_the_owner_pages_through_a_long_history_from_the_newest_order(live_server, page,
                                                                     screenshot):
    customer = _history(orders=120, lines_per_order=12)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in_as_owner(page, live_server)

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Showing the latest 50 of 120 entries.")
    expect(timeline.locator("tbody tr")).to_have_count(50)
    expect(timeline.locator("tbody tr").first).to_contain_text("#H0119-a")
    assert not page.evaluate(OVERFLOW)
    screenshot("page-1")

    timeline.get_by_role("link", name=re.compile("Next")).click()
    expect(timeline).to_contain_text("Showing entries 51–100 of 120, newest first.")
    expect(timeline.locator("tbody tr").first).to_contain_text("#H0069-a")
    # Every figure outside the list is of all orders, whichever page is shown.
    expect(page.locator("#orders-total")).to_contain_text("119 orders")
    screenshot("page-2")
