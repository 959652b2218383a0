"""A Chinese-speaking owner reads the analysis' computed text in Chinese on the pages."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from profiler_site.core.services import user_language_set
from segments import computed_text
from segments.computed_text import run_note, segment_description, segment_rule
from segments.labels import translated_name
from segments.models import CustomerScore, Segment
from segments.selectors import days_counted_to
from segments.services.runs import segment_rename
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db

SCATTER_TITLE_EN = "Customers: days since last order vs total spend (log scales)"
SCATTER_TITLE_ZH = "客户：距上次下单天数与累计消费（对数坐标）"


@pytest.fixture
def analysed(small_shop):
    cache.clear()  # the pages keep per-run values; ids of a rolled-back run come back
    run = run_refresh(k=3)
    yield run
    cache.clear()


def _figure(page: str, chart_id: str) -> dict:
    script = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', page,
                       re.DOTALL)
    return json.loads(script.group(1))


def _in_chinese(function, text: str) -> str:
    with translation.override("zh-hans"):
        return function(text)


def test_cluster_names_descriptions_rules_and_k_reason_show_in_chinese(analysed, owner,
                                                                       owner_client):
    clusters = list(Segment.objects.filter(run=analysed, kind="cluster"))
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(owner_client.get(reverse("segments") + "?kind=cluster").content.decode())

    assert len(clusters) == 3
    assert "你选择了 k=3。" in page
    assert "典型成员：" in page and "Typical member" not in page
    for cluster in clusters:
        chinese_name = _in_chinese(translated_name, cluster.name)
        chinese_rule = _in_chinese(segment_rule, cluster.rule_text)
        assert chinese_name != cluster.name and chinese_name in page
        assert _in_chinese(segment_description, cluster.description) in page
        assert chinese_rule != cluster.rule_text and chinese_rule in page
        assert cluster.description not in page


def test_the_same_pages_stay_in_english_for_an_english_reader(analysed, owner_client):
    clusters = list(Segment.objects.filter(run=analysed, kind="cluster"))

    page = html.unescape(owner_client.get(reverse("segments") + "?kind=cluster").content.decode())

    assert f"{analysed.k_reason}" in page and analysed.k_reason.startswith("You chose k=3.")
    for cluster in clusters:
        assert cluster.name in page
        assert cluster.description in page
        assert cluster.rule_text in page


def test_rfm_descriptions_and_rules_show_in_chinese(analysed, owner, owner_client):
    segments = list(Segment.objects.filter(run=analysed, kind="rfm"))
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(owner_client.get(reverse("segments")).content.decode())

    assert segments
    assert "，且 F 与 M 的平均分 " in page
    for segment in segments:
        chinese = _in_chinese(segment_description, segment.description)
        assert chinese != segment.description and chinese in page
        assert segment.description not in page


def test_a_cluster_page_shows_its_text_and_the_scatter_title_in_chinese(analysed, owner,
                                                                        owner_client):
    cluster = Segment.objects.filter(run=analysed, kind="cluster").order_by("key").first()
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(
        owner_client.get(reverse("segment-detail", args=["cluster", cluster.key])).content.decode())

    assert f"<h1>{_in_chinese(translated_name, cluster.name)}</h1>" in page
    assert _in_chinese(segment_description, cluster.description) in page
    assert _in_chinese(segment_rule, cluster.rule_text) in page
    figure = _figure(page, "chart-scatter")
    assert figure["layout"]["title"]["text"] == SCATTER_TITLE_ZH
    assert figure["layout"]["xaxis"]["title"]["text"] == "距上次下单天数 + 1"
    assert {t["name"] for t in figure["data"]} >= {_in_chinese(translated_name, cluster.name)}


def test_the_per_run_scatter_cache_never_carries_one_readers_language_to_another(
        analysed, owner, owner_client):
    url = reverse("segment-detail", args=["rfm", CustomerScore.objects.first().rfm_key])

    def title() -> str:
        return _figure(owner_client.get(url).content.decode(), "chart-scatter")["layout"]["title"]["text"]

    first_english = title()
    user_language_set(user=owner, language="zh-hans")
    chinese = title()
    user_language_set(user=owner, language="en")
    english_again = title()

    assert (first_english, chinese, english_again) == (SCATTER_TITLE_EN, SCATTER_TITLE_ZH,
                                                       SCATTER_TITLE_EN)


def test_models_page_charts_and_notes_show_in_chinese(analysed, owner, owner_client):
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(owner_client.get(reverse("segments-models")).content.decode())

    silhouette = _figure(page, "chart-silhouette")
    assert silhouette["layout"]["title"]["text"] == "不同聚类数的轮廓系数（越高区分越清楚）"
    assert silhouette["layout"]["yaxis"]["title"]["text"] == "轮廓系数"
    assert _in_chinese(run_note, analysed.k_reason) in page
    clv_reason = (analysed.metrics.get("clv") or {}).get("reason", "")
    assert clv_reason and _in_chinese(run_note, clv_reason) != clv_reason
    assert _in_chinese(run_note, clv_reason) in page


def test_a_renamed_cluster_keeps_the_owners_name_in_chinese(analysed, owner, owner_client):
    cluster = Segment.objects.filter(run=analysed, kind="cluster").order_by("key").first()
    segment_rename(kind="cluster", key=cluster.key, name="Tea lovers (2)")
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(owner_client.get(reverse("segments") + "?kind=cluster").content.decode())

    assert ">Tea lovers (2)</a>" in page
    # the computed name stays visible beside it, in the reader's language
    assert f"({_in_chinese(translated_name, cluster.name)})" in page


def test_a_customer_page_says_what_they_did_in_chinese(analysed, owner, owner_client):
    score = CustomerScore.objects.filter(rfm_key="champions", frequency=1).first() or \
        CustomerScore.objects.filter(rfm_key="champions").first()
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(
        owner_client.get(reverse("customer-detail", args=[score.customer_id])).content.decode())

    with translation.override("zh-hans"):
        facts = computed_text.customer_reason(score, days_counted_to(analysed.as_of))
    assert f"属于“冠军客户”：他们{facts}。" in page
    assert "属于最近购买的客户，订单数与消费合计评分高。" in page


def test_the_rules_page_explains_its_threshold_and_its_rules_in_chinese(analysed, owner,
                                                                        owner_client):
    reason = analysed.baskets["all"]["reason"]
    assert reason  # the small shop's threshold was chosen automatically
    user_language_set(user=owner, language="zh-hans")

    page = html.unescape(owner_client.get(reverse("segments-rules")).content.decode())

    assert _in_chinese(run_note, reason) in page and reason not in page
    assert "购买了" in page and "who bought" not in page  # the rule sentences
