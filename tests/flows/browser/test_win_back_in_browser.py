"""In a real Chromium with a real worker: switch on win-back, watch customers enter when an
import moves them into At Risk, move the clock into the sending window, find the emails in
the Outbox, import follow-up orders and read the flow's lift; in English and in Chinese."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Recipient, RecipientStatus
from flows import clock
from flows.models import Enrolment, Flow
from flows.services.sending import flows_hand_over
from profiler_site.core.services import user_language_set
from profiler_site.core.shop import shop_profile
from segments.models import SegmentationRun
from tests.browser.test_upload_in_browser import finish_import, log_in, upload
from tests.campaigns.test_outbox import local_inbox  # noqa: F401  (Maildir the Outbox reads)
from tests.support import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker]

HEADER = "order_id,email,ordered_at,sku,product_name,quantity,unit_price\n"


def _at(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _csv(path, rows: list[str]):
    path.write_text(HEADER + "".join(rows))
    return path


def _wait_for_runs(n: int) -> None:
    wait_until(lambda: SegmentationRun.objects.filter(status="succeeded").count() >= n
               and SegmentationRun.objects.filter(is_current=True, pk__gte=SegmentationRun.objects
                                                  .order_by("-pk").values("pk")[:1]).exists(),
               timeout=120, what=f"segmentation run {n}")


def _into_window(when: datetime) -> datetime:
    """The first instant at or after `when` inside 9:00-18:00 of the shop's clock."""
    tz = zoneinfo.ZoneInfo(shop_profile().time_zone)
    local = when.astimezone(tz)
    if local.hour < 9:
        local = local.replace(hour=10, minute=0)
    elif local.hour >= 18:
        local = (local + timedelta(days=1)).replace(hour=10, minute=0)
    return local.astimezone(UTC)


def test_win_back_enters_emails_within_the_window_and_reports_its_lift(
    live_server, page, screenshot, owner, start_worker, local_inbox, settings, tmp_path  # noqa: F811
):
    settings.DEFAULT_FROM_EMAIL = "shop@beans.example"
    start_worker(extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
                            "PUBLIC_BASE_URL": live_server.url})
    today = timezone.now()
    loyal = [f"loyal{i}@beans.example" for i in range(20)]
    casual = [f"casual{i}@beans.example" for i in range(40)]

    # given: twenty loyal customers who bought three times lately, forty one-off buyers of old
    first = [f"L{i}-{d},{e},{_at(today - timedelta(days=d))},BEAN-1,Beans,5,20.00\n"
             for i, e in enumerate(loyal) for d in (40, 30, 20)]
    first += [f"C{i},{e},{_at(today - timedelta(days=100 + i))},BEAN-2,Tea,1,20.00\n"
              for i, e in enumerate(casual)]
    log_in(page, live_server)
    upload(page, live_server, _csv(tmp_path / "first.csv", first))
    finish_import(page, screenshot, "01-first-import")
    _wait_for_runs(1)

    # the owner switches on the win-back starter and holds out half of its entrants
    page.goto(live_server.url + "/flows/")
    screenshot("02-flows-starters")
    page.locator("#starter-win_back").click()
    expect(page.locator(".flow-status")).to_have_text("On")
    flow = Flow.objects.get(starter_key="win_back")
    page.goto(live_server.url + f"/flows/{flow.pk}/edit/")
    # only the chosen trigger's fields are shown
    expect(page.locator("#id_segments")).to_be_visible()
    expect(page.locator("#id_threshold_percent")).to_be_hidden()
    page.locator("#id_trigger_kind").select_option("after_order")
    expect(page.locator("#id_days")).to_be_visible()
    expect(page.locator("#id_segments")).to_be_hidden()
    page.locator("#id_trigger_kind").select_option("segment_enter")
    page.locator("#id_holdout_percent").fill("50")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flow-status")).to_be_visible()

    # when: everyone else buys again, so the loyal twenty become the least recent: At Risk
    second = [f"C{i}-2,{e},{_at(today - timedelta(days=1))},BEAN-2,Tea,1,20.00\n"
              for i, e in enumerate(casual)]
    upload(page, live_server, _csv(tmp_path / "second.csv", second))
    finish_import(page, screenshot, "03-second-import")
    wait_until(lambda: Enrolment.objects.filter(flow=flow).count() == 20, timeout=120,
               what="the loyal twenty to enter win-back")
    entrants = Enrolment.objects.filter(flow=flow)
    assert set(entrants.values_list("customer__email", flat=True)) == set(loyal)
    held = set(entrants.filter(holdout=True).values_list("customer__email", flat=True))
    treated = set(loyal) - held
    assert held and treated
    page.goto(live_server.url + f"/flows/{flow.pk}/")
    expect(page.locator(".kpi-entered")).to_have_text("20")
    expect(page.locator(".kpi-held")).to_have_text(str(len(held)))
    screenshot("04-entered")

    # nothing goes before the wait is over; past it and inside the window, beat hands over
    entered_at = entrants.first().entered_at
    clock.set_now(entered_at + timedelta(hours=23))
    assert flows_hand_over().emailed == 0
    clock.set_now(_into_window(entered_at + timedelta(hours=24, minutes=1)))
    assert flows_hand_over().emailed == len(treated)
    wait_until(lambda: Recipient.objects.filter(campaign__flow_link__flow=flow,
                                                status=RecipientStatus.SENT).count() == len(treated),
               timeout=60, what="the worker to send the flow's emails")
    page.goto(live_server.url + "/campaigns/outbox/")
    for address in treated:
        expect(page.get_by_text(address)).to_be_visible()
    for address in held:
        expect(page.get_by_text(address)).to_have_count(0)
    expect(page.get_by_text("We miss you").first).to_be_visible()
    screenshot("05-outbox")

    # then: the emailed buy within the window after entry, the held out do not
    follow_up = [f"F{i},{e},{_at(entered_at + timedelta(days=2))},BEAN-1,Beans,2,21.00\n"
                 for i, e in enumerate(sorted(treated))]
    upload(page, live_server, _csv(tmp_path / "follow-up.csv", follow_up))
    finish_import(page, screenshot, "06-follow-up-import")
    page.goto(live_server.url + f"/flows/{flow.pk}/")
    expect(page.locator(".kpi-emailed")).to_have_text(str(len(treated)))
    expect(page.locator("tr.group-treatment .conversions")).to_have_text(str(len(treated)))
    expect(page.locator("tr.group-holdout .conversions")).to_have_text("0")
    expect(page.locator("tr.group-treatment .rpe")).to_contain_text("42.00")
    expect(page.locator(".abs-lift")).to_have_text("100.0")
    expect(page.locator(".p-value")).to_contain_text("p")
    expect(page.locator("#weeks-chart .main-svg").first).to_be_visible()
    screenshot("07-report-en")
    page.goto(live_server.url + "/flows/")
    expect(page.locator(".earned").first).to_have_text(f"${42 * len(treated)}.00")
    screenshot("08-list-en")

    # the same pages in Chinese
    user_language_set(user=owner, language="zh-hans")
    page.goto(live_server.url + f"/flows/{flow.pk}/")
    expect(page.get_by_role("heading", name="这个自动流程让人们购买了吗？")).to_be_visible()
    screenshot("09-report-zh")
    page.goto(live_server.url + "/flows/")
    expect(page.get_by_role("heading", name="自动流程", exact=True)).to_be_visible()
    screenshot("10-list-zh")
    page.goto(live_server.url + f"/flows/{flow.pk}/edit/")
    screenshot("11-edit-zh")
