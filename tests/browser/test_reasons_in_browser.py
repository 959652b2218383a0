"""An owner reading Chinese sees why rows, a whole file and an upload were refused, in Chinese."""

import re

import pytest
from playwright.sync_api import expect

from profiler_site.core.services import user_language_set
from tests.browser.test_upload_in_browser import log_in
from tests.ingest.helpers_db import import_bytes
from tests.ingest.test_reasons_in_words import ROWS, _refused_by_the_worker

pytestmark = [pytest.mark.browser]


def test_refused_rows_a_refused_file_and_a_refused_upload_read_in_chinese(
    live_server, page, screenshot, owner, tmp_path
):
    rows = import_bytes(ROWS)
    assert rows.rows_rejected == 4
    refused = _refused_by_the_worker()
    assert refused.error == "The file has a header row but no data rows."
    log_in(page, live_server)
    user_language_set(user=owner, language="zh-hans")

    page.goto(f"{live_server.url}/uploads/{rows.pk}/")
    rejections = page.locator("ul.rejections")
    expect(rejections).to_contain_text("第 3 行：下单日期：'2023-02-30' 不是真实存在的日期")
    expect(rejections).to_contain_text("第 4 行：单价：'-4.50' 是负数")
    expect(rejections).to_contain_text("第 5 行：有 4 个字段，但表头有 5 个")
    expect(rejections).to_contain_text("第 6 行：没有客户：邮箱和客户编号都是空的")
    expect(rejections).not_to_contain_text(re.compile("[a-z]{4,} [a-z]{4,}"))  # no English left
    screenshot("01-refused-rows-zh")

    page.goto(f"{live_server.url}/uploads/{refused.pk}/")
    expect(page.locator(".msg-error")).to_have_text("文件只有表头，没有数据行。")
    screenshot("02-refused-file-zh")

    picture = tmp_path / "photo.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    page.goto(live_server.url + "/uploads/")
    page.locator("input[type=file]").set_input_files(str(picture))
    page.get_by_role("button", name="上传").click()
    expect(page.locator(".errorlist")).to_have_text(
        "这个文件是 PNG 图片，不是 CSV。请把数据导出为 CSV（逗号分隔值）再上传。")
    screenshot("03-refused-upload-zh")


def test_a_report_counts_its_refused_rows_by_reason_in_both_languages(
    live_server, page, screenshot, owner, settings
):
    settings.SHOP_CURRENCY = "EUR"
    lines = "".join(f"{n},c{n}@example.com,2024-03-01,GBP,10.00\n" for n in range(1, 61))
    job = import_bytes(("Order ID,Email,Order Date,Currency,Amount\n" + lines
                        + "61,z@example.com,2024-02-30,EUR,5.00\n"
                        + "62,z@example.com,2024-03-02,EUR,5.00\n").encode())
    log_in(page, live_server)

    page.goto(f"{live_server.url}/uploads/{job.pk}/")
    kinds = page.locator("#rejection-kinds tbody tr")
    expect(kinds).to_have_count(2)
    expect(kinds.nth(0)).to_contain_text("the order is in GBP, but the shop counts money in EUR")
    expect(kinds.nth(0).locator("td").nth(2)).to_have_text("60")
    screenshot("04-refused-by-reason-en")
    user_language_set(user=owner, language="zh-hans")
    page.reload()
    expect(kinds.nth(0)).to_contain_text("该订单的货币是 GBP，但店铺以 EUR 计算金额")
    expect(kinds.nth(1)).to_contain_text("第 62 行")
    screenshot("05-refused-by-reason-zh")
