"""The email preview as the owner sees it: the sandboxed frame really shows the email.

Chromium's full-page screenshots leave a sandboxed srcdoc frame blank (the frame is
drawn in its own process and is not re-drawn for the enlarged capture), so the
page's screenshot is kept for its layout and the frame gets a screenshot of its own.
"""

from __future__ import annotations

import pytest
from PIL import Image

from tests.browser.test_upload_in_browser import log_in
from tests.campaigns.conftest import make_campaign
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_campaign_page_shows_the_email_in_its_preview_frame(live_server, page, owner,
                                                               screenshot, request):
    campaign = make_campaign(html_body="<p>Hi {{ first_name }}</p><p>Autumn beans are in.</p>")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    frame = page.frame_locator("iframe.email-preview")
    frame.locator("text=Autumn beans are in.").wait_for()
    screenshot("campaign-page")
    shot = ARTIFACTS / f"{request.node.name}-email-preview.png"
    page.locator("iframe.email-preview").screenshot(path=str(shot))

    assert "Hi Alex" in frame.locator("body").inner_text()
    box = frame.locator("text=Autumn beans are in.").bounding_box()
    assert box and box["height"] > 0
    # Something is drawn in the frame: dark text pixels, not a white box.
    assert min(Image.open(shot).convert("L").getextrema()) < 100
