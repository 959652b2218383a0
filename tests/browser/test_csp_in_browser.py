"""The Content-Security-Policy in a real Chromium: pages work under it, injected script does not.

Every browser test's `page` fails on any CSP report (tests/conftest.py), so the
chart, htmx-progress, upload and campaign walks elsewhere are checks of the
policy too; this file proves that watcher can see a violation at all.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.conftest import PASSWORD, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_injected_inline_script_is_blocked_and_reported(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    blocked = watch_csp(page)
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page.goto(live_server.url + "/accounts/login/")

    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "document.body.dataset.pwned = 'yes'";
        document.body.appendChild(s);
        const a = document.createElement("a");
        a.setAttribute("onclick", "document.body.dataset.pwned = 'yes'");
        document.body.appendChild(a);
        a.click();
    }""")

    expect(page.locator("body")).not_to_have_attribute("data-pwned", "yes")
    page.wait_for_function("() => true")
    assert blocked and all("Content Security Policy" in text for text in blocked)
    context.close()


def test_the_api_docs_start_under_the_policy(live_server, page):
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Profiler API")
