"""The lift verdict and the detectable-lift sentence in the reader's language."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from campaigns.analysis.lift import conversion_lift
from campaigns.analysis.power import detectable_lift, minimum_detectable_lift
from campaigns.models import Campaign, Recipient, RecipientGroup
from campaigns.verdicts import detectable_lift_sentence, p_value_text, verdict_sentence
from profiler_site.core.services import user_language_set
from tests.campaigns.conftest import make_campaign, make_customers, run_send_inline
from tests.factories import OrderFactory


def _lift(x1: int, n1: int, x2: int, n2: int):
    return conversion_lift(
        treated_n=n1, treated_conversions=x1, holdout_n=n2, holdout_conversions=x2
    )


# --- the sentences, worded from the pure results ----------------------------------------


@pytest.mark.parametrize(
    ("counts", "english"),
    [
        (
            (600, 10000, 40, 1000),
            "The email likely increased purchases: +2.0 points (95% CI 0.5 to 3.2), p = 0.010.",
        ),
        (
            (400, 10000, 60, 1000),
            "The email likely reduced purchases: -2.0 points (95% CI -3.7 to -0.6), p = 0.003.",
        ),
        (
            (520, 10000, 48, 1000),
            (
                "No detectable difference: +0.4 points (95% CI -1.2 to 1.6), p = 0.59. "
                "520 of 10,000 emailed customers bought (5.2%) vs 48 of 1,000 held out (4.8%); "
                "the true effect could be anywhere in that interval, including zero."
            ),
        ),
        (
            # z-test p = 0.0494, but the interval starts just below zero and says so
            (388, 9000, 30, 1000),
            (
                "No detectable difference: +1.3 points (95% CI -0.0 to 2.3), p = 0.05. "
                "388 of 9,000 emailed customers bought (4.3%) vs 30 of 1,000 held out (3.0%); "
                "the true effect could be anywhere in that interval, including zero."
            ),
        ),
        (
            (15, 20, 1, 20),
            (
                "Too few people to tell yet: 15 of 20 emailed customers bought (75.0%) vs 1 of 20 "
                "held out (5.0%); two-proportion z-test p < 0.001. "
                "Wait for more orders or send to a larger segment."
            ),
        ),
        (
            (50, 1000, 2, 100),
            (
                # big groups, few buyers: the purchases are too few, not the people
                "Too few purchases to tell yet: 50 of 1,000 emailed customers bought (5.0%) vs 2 of 100 "
                "held out (2.0%); Fisher's exact test p = 0.22. "
                "Wait for more orders or send to a larger segment."
            ),
        ),
    ],
)
def test_the_english_verdict_reads_as_before(counts, english):
    with translation.override("en"):
        assert verdict_sentence(_lift(*counts)) == english


@pytest.mark.parametrize(
    ("counts", "chinese"),
    [
        (
            (600, 10000, 40, 1000),
            "这封邮件很可能提升了购买：+2.0 个百分点（95% 置信区间 0.5 至 3.2），p = 0.010。",
        ),
        ((400, 10000, 60, 1000), "这封邮件很可能减少了购买：-2.0 个百分点"),
        ((520, 10000, 48, 1000), "真实效果可能是该区间内的任何值，包括零。"),
        ((15, 20, 1, 20), "人数太少，暂时无法判断：发送组 20 位客户中有 15 位购买（75.0%）"),
        ((50, 1000, 2, 100), "Fisher 精确检验 p = 0.22"),
    ],
)
def test_the_chinese_verdict_keeps_the_numbers_and_the_caveats(counts, chinese):
    with translation.override("zh-hans"):
        sentence = verdict_sentence(_lift(*counts))

    assert chinese in sentence
    assert "points" not in sentence and "emailed" not in sentence


def test_the_english_detectable_lift_names_the_audience_holdout_and_lift():
    lift = minimum_detectable_lift(audience_size=1200, baseline_rate=0.05)

    with translation.override("en"):
        sentence = detectable_lift_sentence(detectable_lift(audience_size=1200, baseline_rate=0.05))

    assert sentence == (
        f"With 1,200 recipients and a 10% holdout you can detect a lift of about {lift:.1f} "
        f"points (from 5.0% to {5 + lift:.1f}% buying within 7 days) at 95% confidence "
        "with 80% power."
    )


@pytest.mark.parametrize(
    ("audience", "english"),
    [
        (
            1,
            (
                "With 1 recipient and a 10% holdout nobody is held out, so the email's effect "
                "cannot be measured."
                " To detect a lift of 5 points (from 5.0% to 10.0% buying within 7 days) at 95% "
                "confidence with 80% power, the audience needs at least 2,605 customers. The 5% "
                "starting rate is assumed: this segment has no purchase history yet."
            ),
        ),
        (
            4,
            (
                "With 4 recipients and a 10% holdout nobody is held out, so the email's effect "
                "cannot be measured."
                " To detect a lift of 5 points (from 5.0% to 10.0% buying within 7 days) at 95% "
                "confidence with 80% power, the audience needs at least 2,605 customers. The 5% "
                "starting rate is assumed: this segment has no purchase history yet."
            ),
        ),
        (
            5,
            (
                "With 5 recipients and a 10% holdout only 1 would be held out; the report needs "
                "at least 30 in each group to compare them, so it would answer “too few to "
                "tell”. To detect a lift of 5 points (from 5.0% to 10.0% buying within 7 days) "
                "at 95% confidence with 80% power, the audience needs at least 2,605 customers. "
                "The 5% starting rate is assumed: this segment has no purchase history yet."
            ),
        ),
    ],
)
def test_the_english_detectable_lift_for_a_tiny_audience_says_it_cannot_be_measured(
    audience, english
):
    with translation.override("en"):
        assert detectable_lift_sentence(detectable_lift(audience_size=audience)) == english


@pytest.mark.parametrize("audience", [250, 294])
def test_a_holdout_under_thirty_gets_the_audience_needed_instead_of_a_power_promise(audience):
    result = detectable_lift(audience_size=audience, baseline_rate=0.05)

    with translation.override("en"):
        sentence = detectable_lift_sentence(result)
    with translation.override("zh-hans"):
        chinese = detectable_lift_sentence(result)

    assert "you can detect" not in sentence
    assert f"the audience needs at least {result.audience_needed:,} customers." in sentence
    assert "“too few to tell”" in sentence
    assert f"至少需要 {result.audience_needed:,} 位客户" in chinese


def test_the_english_detectable_lift_says_when_the_baseline_is_assumed():
    with translation.override("en"):
        sentence = detectable_lift_sentence(detectable_lift(audience_size=1200))

    assert sentence.endswith(
        "power. The 5% starting rate is assumed: this segment has no purchase history yet."
    )


def test_the_chinese_detectable_lift_says_the_same_in_chinese():
    lift = minimum_detectable_lift(audience_size=1200)

    with translation.override("zh-hans"):
        sentence = detectable_lift_sentence(detectable_lift(audience_size=1200))
        tiny = detectable_lift_sentence(detectable_lift(audience_size=4))

    assert sentence.startswith("共 1,200 位收件人、对照组占 10% 时")
    assert f"约 {lift:.1f} 个百分点的提升" in sentence
    assert f"从 5.0% 升至 {5 + lift:.1f}%" in sentence
    assert sentence.endswith("起始购买率 5% 是假设值：该客户细分还没有购买记录。")
    assert "无法衡量这封邮件的效果" in tiny


@pytest.mark.parametrize(
    ("p", "text"), [(0.0004, "p < 0.001"), (0.0043, "p = 0.004"), (0.0496, "p = 0.05")]
)
def test_p_values_are_rounded_not_truncated(p, text):
    with translation.override("en"):
        assert p_value_text(p) == text


# --- the pages and the API ----------------------------------------------------------


@pytest.fixture
def sent_campaign(db, smtp_server):
    make_customers(40)
    campaign = make_campaign(holdout_share=0.10)  # 36 emailed, 4 held out: too few to tell
    run_send_inline(campaign)
    campaign = Campaign.objects.get(pk=campaign.pk)
    for r in Recipient.objects.filter(campaign=campaign, group=RecipientGroup.TREATMENT)[:9]:
        OrderFactory(
            customer=r.customer,
            ordered_at=r.sent_at + timedelta(days=1),
            net_total=Decimal("50.00"),
        )
    return campaign


def _verdict_paragraph(page: str) -> str:
    return re.search(r'<p class="verdict">(.*?)</p>', page, re.DOTALL).group(1)


@pytest.mark.django_db
def test_a_chinese_speaking_owner_reads_the_report_verdict_in_chinese(
    owner, owner_client, sent_campaign
):
    user_language_set(user=owner, language="zh-hans")

    page = html_lib.unescape(
        owner_client.get(reverse("campaign-report", args=[sent_campaign.pk])).content.decode()
    )

    verdict = _verdict_paragraph(page)
    assert "人数太少，暂时无法判断：发送组 36 位客户中有 9 位购买（25.0%）" in verdict
    assert "Fisher 精确检验" in verdict
    assert "Too few people" not in page
    assert '<span class="test-name">Fisher 精确检验</span>' in page
    assert "样本量小" in page and "Small sample" not in page


@pytest.mark.django_db
def test_an_english_speaking_owner_reads_the_report_verdict_in_english(
    owner, owner_client, sent_campaign
):
    user_language_set(user=owner, language="en")

    page = html_lib.unescape(
        owner_client.get(reverse("campaign-report", args=[sent_campaign.pk])).content.decode()
    )

    verdict = _verdict_paragraph(page)
    assert verdict.startswith(
        "<strong>Too few people to tell yet: 9 of 36 emailed customers bought (25.0%) "
        "vs 0 of 4 held out (0.0%); Fisher's exact test p = "
    )
    assert "人数太少" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("zh-hans", "共 20 位收件人、对照组占 10% 时", "recipients"),
        ("en", "With 20 recipients and a 10% holdout", "收件人"),
    ],
)
def test_the_audience_partial_words_the_detectable_lift_in_the_owners_language(
    owner, owner_client, language, expected, absent
):
    make_customers(20)
    user_language_set(user=owner, language=language)

    page = html_lib.unescape(
        owner_client.get(reverse("campaign-audience"), {"audience": "all:all"}).content.decode()
    )

    sentence = re.search(r'<p class="detectable-lift">(.*?)</p>', page, re.DOTALL).group(1)
    assert sentence.startswith(expected)
    assert absent not in sentence


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "verdict_start", "detectable_start"),
    [
        ("zh-hans", "人数太少，暂时无法判断", "共 40 位收件人"),
        ("en", "Too few people to tell yet", "With 40 recipients"),
    ],
)
def test_the_api_returns_the_sentences_in_the_requests_language(
    owner, sent_campaign, language, verdict_start, detectable_start
):
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    api.force_authenticate(owner)

    stats = api.get(f"/api/campaigns/{sent_campaign.pk}/stats/").json()
    audience = api.get("/api/campaigns/audience/", {"kind": "all", "key": "all"}).json()

    assert stats["lift"]["verdict"].startswith(verdict_start)
    assert stats["lift"]["verdict_kind"] == "too_few"
    assert stats["lift"]["test"] == "Fisher's exact test"  # an identifier: never translated
    assert audience["detectable_lift"].startswith(detectable_start)


@pytest.mark.django_db
def test_the_day_by_day_chart_hover_speaks_chinese(smtp_server):
    from campaigns.selectors import campaign_report

    make_customers(5)
    campaign = make_campaign(holdout_share=0.2)
    run_send_inline(campaign)

    with translation.override("zh-hans"):
        chart = campaign_report(Campaign.objects.get(pk=campaign.pk)).chart

    assert all("bought" not in t["hovertemplate"] and "%{customdata}" in t["hovertemplate"]
               for t in chart["data"])


@pytest.mark.django_db
def test_big_groups_with_few_buyers_are_told_few_purchases_not_few_people(smtp_server):
    from campaigns.selectors import campaign_report

    make_customers(200)
    campaign = make_campaign(holdout_share=0.2)  # 160 emailed, 40 held out, nobody bought
    run_send_inline(campaign)

    with translation.override("en"):
        report = campaign_report(Campaign.objects.get(pk=campaign.pk))
        verdict = verdict_sentence(report.lift)

    assert report.small_sample_warning.startswith("Few purchases so far")
    assert verdict.startswith("Too few purchases to tell yet: 0 of 160 emailed")
