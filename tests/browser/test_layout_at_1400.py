"""Small forms at 1400 px as an owner sees them: in line, aligned, nothing floating."""

from __future__ import annotations

import pytest

from profiler_site.core.services import user_language_set
from tests.browser.test_upload_in_browser import log_in, upload

pytestmark = [pytest.mark.browser]

MAPPING_CSV = (
    "Customer e-mail address;Date the order was placed;Article;Qty;Price each\n"
    "anna@example.de;2024-02-03;Tee;2;4.50\n"
)
BOX = "e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; }"


@pytest.fixture
def wide_page(page):
    page.set_viewport_size({"width": 1400, "height": 900})
    return page


def test_the_number_of_clusters_is_a_small_input_in_line_with_its_button(live_server, wide_page, owner,
                                                                          screenshot):
    log_in(wide_page, live_server)
    wide_page.goto(live_server.url + "/segments/")

    field = wide_page.locator("#id_k").evaluate(BOX)
    button = wide_page.get_by_role("button", name="Refresh analysis").evaluate(BOX)
    help_text = wide_page.locator("#id_k_helptext").evaluate(BOX)
    screenshot("clusters-form")

    assert field["width"] <= 120, field
    assert abs(field["bottom"] - button["bottom"]) <= 2 and button["left"] - field["right"] < 40
    assert help_text["top"] >= field["bottom"], "the help text sits under the row, not inside it"


def test_an_upload_error_is_centred_in_the_drop_zone_without_a_stray_bullet(live_server, wide_page, owner,
                                                                           tmp_path, screenshot):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    log_in(wide_page, live_server)
    wide_page.goto(live_server.url + "/uploads/")
    wide_page.locator("input[type=file]").set_input_files(str(empty))
    wide_page.get_by_role("button", name="Upload").click()

    error = wide_page.locator("#dropzone .errorlist")
    zone = wide_page.locator("#dropzone").evaluate(BOX)
    text = error.evaluate("""e => { const range = document.createRange(); range.selectNodeContents(e);
                                    const r = range.getBoundingClientRect(); return (r.left + r.right) / 2; }""")
    screenshot("upload-error")

    assert error.evaluate("e => getComputedStyle(e.querySelector('li') || e).listStyleType") == "none"
    assert abs(text - (zone["left"] + zone["right"]) / 2) < 10


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_mapping_dropdown_in_a_row_lines_up_even_when_a_label_wraps(live_server, wide_page, owner,
                                                                          tmp_path, screenshot, language):
    path = tmp_path / "orders.csv"
    path.write_text(MAPPING_CSV, encoding="utf-8")
    log_in(wide_page, live_server)
    upload(wide_page, live_server, path)
    user_language_set(user=owner, language=language)
    wide_page.reload()

    boxes = wide_page.locator("#mapping-fields select").evaluate_all(
        f"es => es.map({BOX})")
    screenshot(f"mapping-{language}")

    rows: dict[int, list[float]] = {}
    for box in boxes:
        # A row is the fields whose boxes overlap vertically with the row's first.
        row = next((top for top in rows if abs(top - box["top"]) < 30), round(box["top"]))
        rows.setdefault(row, []).append(box["top"])
    assert len(boxes) > 4
    for tops in rows.values():
        assert max(tops) - min(tops) <= 1, tops
