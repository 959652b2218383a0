"""A newcomer uploads real exports in Chromium, fixes the mapping, watches progress, reads the report."""

import re

import pytest
from playwright.sync_api import expect

from ingest.models import Order
from tests.conftest import PASSWORD
from tests.ingest.helpers_db import DATA

pytestmark = [pytest.mark.browser, pytest.mark.worker]

UNFAMILIAR = (
    "Kunde;Bestelldatum;Artikel;Menge;Preis;Notiz\n"
    "anna@example.de;03.02.2024;Tee;2;4,50;\n"
    "ben@example.de;04.02.2024;Kaffee;1;9,90;bitte schnell\n"
    "carl@example.de;31.02.2024;Tee;1;4,50;\n"
    "dora@example.de;05.02.2024;Kanne;1;1.200;\n"
)


def log_in(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def upload(page, live_server, path):
    page.goto(live_server.url + "/uploads/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name=re.compile("Map the columns"))).to_be_visible()


def finish_import(page, screenshot, name):
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".job-status")).to_have_text("Finished", timeout=60_000)
    expect(page.locator("#report")).to_be_visible()
    screenshot(name)


def test_shopify_uci_and_an_unfamiliar_csv_through_the_browser(
    live_server, page, screenshot, owner, start_worker, tmp_path
):
    start_worker()
    log_in(page, live_server)

    upload(page, live_server, DATA / "shopify_orders.csv")
    expect(page.locator("strong", has_text="Shopify")).to_be_visible()
    # A euro shop's export, and the shop still counts in dollars: told before importing.
    expect(page.locator("#other-currencies")).to_contain_text(
        "Some rows are in EUR, not in your shop's currency (USD): they will be refused")
    screenshot("01-shopify-mapping")
    mapping_url = page.url
    page.locator("#other-currencies").get_by_role("link", name="Settings").click()
    page.locator("#shop-settings").get_by_label("Currency").select_option("EUR")
    page.locator("#shop-settings").get_by_role("button", name="Save").click()
    page.goto(mapping_url)
    expect(page.locator("#other-currencies")).to_have_count(0)
    finish_import(page, screenshot, "02-shopify-report")
    expect(page.locator("#report")).to_contain_text("orders created")

    upload(page, live_server, DATA / "uci_online_retail.csv")
    expect(page.locator("strong", has_text="UCI Online Retail")).to_be_visible()
    finish_import(page, screenshot, "03-uci-report")
    expect(page.get_by_text("Unusual values")).to_be_visible()

    # an unfamiliar German file: the owner fixes the mapping and the date order
    unfamiliar = tmp_path / "bestellungen.csv"
    unfamiliar.write_text(UNFAMILIAR, encoding="cp1252")
    upload(page, live_server, unfamiliar)
    page.get_by_label("Customer email").select_option("Kunde")
    page.get_by_label("Order date").select_option("Bestelldatum")
    page.get_by_label("Product name").select_option("Artikel")
    page.get_by_label("Quantity").select_option("Menge")
    page.get_by_label("Unit price").select_option("Preis")
    page.get_by_label("Date order").select_option("dayfirst")
    page.get_by_role("button", name="Check these columns").click()
    # The one price the decimal mark decides, read as the import will read it.
    expect(page.locator("#amount-reading")).to_have_text(
        re.compile(r"“1\.200” on line 5 is read as \D*1,200\.00\."))
    screenshot("04-unfamiliar-mapping")
    finish_import(page, screenshot, "05-unfamiliar-report")
    expect(page.get_by_text(re.compile(r"line 4: .*2024"))).to_be_visible()
    expect(page.get_by_role("link", name="Download rejected rows (CSV)")).to_be_visible()

    anna = Order.objects.get(customer__key="anna@example.de")
    assert (anna.ordered_at.month, anna.ordered_at.day) == (2, 3)
    assert str(anna.net_total) == "9.00"
    assert str(Order.objects.get(customer__key="dora@example.de").net_total) == "1200.00"

    page.goto(live_server.url + "/uploads/")
    expect(page.locator("table tbody tr")).to_have_count(3)
    screenshot("06-history")
