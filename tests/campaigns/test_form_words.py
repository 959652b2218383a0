import re

from django.utils import timezone

from campaigns.models import Suppression
from segments.models import Segment, SegmentationRun
from tests.campaigns.conftest import make_campaign


def _run_with_segments() -> None:
    run = SegmentationRun.objects.create(is_current=True, status="succeeded", as_of=timezone.now())
    Segment.objects.create(run=run, kind="rfm", key="champions", name="Champions", size=3)
    Segment.objects.create(run=run, kind="cluster", key="cluster-1", name="Big spenders", size=2)


def _groups(html: str) -> dict[str, list[str]]:
    select = re.search(r'<select name="audience".*?</select>', html, re.DOTALL).group(0)
    return {label: re.findall(r'value="([^"]+)"', body)
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.DOTALL)}


def test_the_audience_dropdown_groups_rfm_segments_and_clusters(owner_client):
    _run_with_segments()

    html = owner_client.get("/campaigns/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    groups = _groups(html)
    assert groups["RFM segments"] == ["rfm:champions"]
    assert groups["Clusters"] == ["cluster:cluster-1"]
    # The htmx wiring stays on the grouped drop-down.
    assert re.search(r'<select name="audience"[^>]*hx-get="/campaigns/audience/"', html)


def test_the_audience_groups_are_named_in_chinese(owner_client):
    _run_with_segments()

    html = owner_client.get("/campaigns/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert set(_groups(html)) == {"RFM 细分", "聚类"}


def test_one_suppressed_address_reads_as_one_address(owner_client):
    Suppression.objects.create(email="gone@example.com", reason="unsubscribed")

    html = owner_client.get("/campaigns/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1 address never gets campaigns" in html


def test_a_one_day_window_reads_as_one_day(owner_client):
    campaign = make_campaign(attribution_window_days=1)

    html = owner_client.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "purchases counted for 1 day<" in html
