"""The owner's first minutes, in a real Chromium: create the account, log in, look around."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MENU = ["Overview", "Customers", "Segments", "Campaigns", "Uploads", "Settings"]


def test_first_run_account_login_every_menu_page_and_logout(live_server, page, screenshot):
    # given a fresh install, any page leads to account creation
    page.goto(live_server.url + "/customers/")
    expect(page).to_have_url(re.compile(r"/setup/$"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    screenshot("01-setup")

    page.get_by_label("Username").fill("shopowner")
    page.get_by_label("Email").fill("owner@shop.example")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()

    # log out, then back in
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot("02-login")
    page.get_by_label("Username").fill("shopowner")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # every menu page opens and says what to do next
    for item in MENU:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=item).click()
        expect(page.get_by_role("heading", name=item, exact=True)).to_be_visible()
        screenshot(f"03-{item.lower()}")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_text("Upload your first order CSV").first).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(live_server.url + "/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/settings/"))
