"""plotly.js as an owner's browser gets it under `make run`: compressed, cached, only where drawn.

Read from the browser's own Resource Timing entries (bytes on the wire against bytes
decoded, and nothing fetched on the next visit) and the response headers it saw.
How fast the chart page renders is measured in benchmarks/pages.py, not here.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.conftest import PASSWORD
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.support import database_url_for
from tests.web_server import make_run_web

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 365 * 24 * 3600
PLOTLY_ENTRIES = """() => performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/plotly/plotly.'))
  .map(e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
              decoded: e.decodedBodySize}))"""


def _log_in(page, url: str) -> None:
    # The server runs `make run`'s settings, whose hashers do not read the tests' fast MD5.
    get_user_model().objects.create_superuser(
        "owner", "owner@example.com", password=None,
    ).__class__.objects.filter(username="owner").update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, "tests-salt", iterations=1000))
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def _max_age(cache_control: str) -> int:
    parts = dict(p.strip().partition("=")[::2] for p in cache_control.split(","))
    return int(parts.get("max-age") or 0)


def test_plotly_comes_compressed_cached_for_a_year_and_only_to_pages_with_charts(browser,
                                                                                  tmp_path):
    customer = CustomerFactory()
    for days in (400, 200, 10):  # a revenue chart on the overview
        make_order(customer, datetime(2026, 10, 1, tzinfo=UTC) - timedelta(days=days),
                   [(ProductFactory(), 1, "30.00")])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    headers: dict[str, dict[str, str]] = {}
    page.on("response", lambda r: headers.__setitem__(r.url, r.all_headers())
            if "/plotly/" in r.url else None)
    try:
        with make_run_web(database_url=database_url_for(connection.settings_dict["NAME"]),
                          redis_url=os.environ["REDIS_URL"], var_dir=tmp_path / "var") as url:
            _log_in(page, url)

            page.goto(url + "/")
            page.wait_for_selector("#chart-revenue-plot .main-svg")
            first = page.evaluate(PLOTLY_ENTRIES)
            page.goto(url + "/")
            page.wait_for_selector("#chart-revenue-plot .main-svg")
            again = page.evaluate(PLOTLY_ENTRIES)
            page.goto(url + f"/customers/{customer.pk}/")
            page.wait_for_selector("#timeline")
            without_charts = page.evaluate(PLOTLY_ENTRIES)
    finally:
        context.close()

    # The chart page fetched plotly once, by its hashed name, compressed on the wire.
    assert len(first) == 1, first
    entry = first[0]
    assert re.search(r"/static/vendor/plotly/plotly\.min\.[0-9a-f]{12}\.js$", entry["name"]), entry
    assert 0 < entry["encoded"] < entry["decoded"] / 2, entry
    sent = headers[entry["name"]]
    assert sent.get("content-encoding") in {"gzip", "br"}, sent
    assert _max_age(sent.get("cache-control", "")) >= YEAR, sent
    # The next visit takes it from the browser's cache without asking the server.
    assert [e["transfer"] for e in again] == [0], again
    # A page without charts does not load plotly at all.
    assert without_charts == []
