"""An owner imports CDNOW in Chromium, keeps its identical rows, re-uploads it and is warned."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from ingest.models import ImportJob, Order
from tests.browser.test_upload_in_browser import log_in, upload
from tests.ingest.test_import_choices import cdnow_csv

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_identical_rows_are_counted_chosen_and_reported_and_a_second_upload_is_flagged(
    live_server, page, screenshot, owner, start_worker, tmp_path
):
    start_worker()
    log_in(page, live_server)
    content, repeats, money, _ = cdnow_csv("CDNOW_sample.txt")
    path = tmp_path / "cdnow_sample.csv"
    path.write_bytes(content)

    upload(page, live_server, path)
    block = page.locator("#identical-rows")
    expect(block).to_contain_text(f"{repeats} rows repeat an earlier row exactly")
    expect(block).to_contain_text(f"they carry ${money:,}")
    page.get_by_label("Separate purchases: keep every one").check()
    screenshot("01-identical-rows-choice")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".job-status")).to_have_text("Finished", timeout=60_000)
    expect(page.locator("#identical-rows")).to_have_text(re.compile(
        rf"{repeats} identical rows were kept as separate purchases, as you chose: "
        + re.escape(f"${money:,}") + " counted"))
    screenshot("02-report-states-the-choice")

    upload(page, live_server, path)
    first = ImportJob.objects.order_by("pk").first()
    expect(page.locator("#same-file")).to_contain_text("This exact file (the same bytes) was imported on")
    expect(page.get_by_label("Separate purchases: keep every one")).to_be_checked()  # remembered
    screenshot("03-same-file-warning")
    page.locator("#same-file").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/uploads/{first.pk}/$"))


def test_an_order_total_on_every_line_counts_once_and_the_report_says_so_in_both_languages(
    live_server, page, screenshot, owner, start_worker, tmp_path
):
    from profiler_site.core.services import user_language_set

    start_worker()
    path = tmp_path / "order-totals.csv"
    # Only the order total says what the orders cost; order 1001 has two rows.
    path.write_text("Order ID,Email,Order Date,SKU,Quantity,Order Total\n"
                    "1001,ada@example.com,2026-03-01,BEANS,2,30.00\n"
                    "1001,ada@example.com,2026-03-01,MILL,1,30.00\n"
                    "1002,bo@example.com,2026-03-02,BEANS,1,10.00\n")
    log_in(page, live_server)

    upload(page, live_server, path)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".job-status")).to_have_text("Finished", timeout=60_000)
    notes = page.locator("#cleaning-notes")
    expect(notes).to_contain_text("no line amount: the order total counts once for its order: 3")
    screenshot("04-order-total-on-each-line-en")
    ada = Order.objects.get(order_key="1001")
    assert (ada.gross_total, ada.net_total, ada.lines.count()) == (Decimal("30.00"),) * 2 + (2,)
    user_language_set(user=owner, language="zh-hans")
    page.reload()
    expect(notes).to_contain_text("没有行金额：订单总额每单只计一次：3")
    screenshot("05-order-total-on-each-line-zh")
