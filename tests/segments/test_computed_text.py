"""The analysis' stored English, read back in the reader's language."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from django.utils import translation

from segments import charts, computed_text
from segments.analysis.clustering import (
    FREQUENT,
    RECENT,
    choose_k,
    cluster_names,
    cluster_rules,
)
from segments.analysis.rfm import RFM_SEGMENTS
from segments.labels import translated_name


def _zh(function, *args, **kwargs):
    with translation.override("zh-hans"):
        return function(*args, **kwargs)


def _en(function, *args, **kwargs):
    with translation.override("en"):
        return function(*args, **kwargs)


# --- the markers stay in step with the analysis --------------------------------------


def test_every_rfm_description_of_the_analysis_is_in_the_catalogue():
    assert {s.description for s in RFM_SEGMENTS.values()} == set(computed_text.RFM_DESCRIPTIONS)


@pytest.mark.parametrize("part", [
    RECENT, FREQUENT, "last order 8–16 months ago", "last order 5 months ago", "1 order",
    "3 orders", "2–3 orders", "spend 1,200–3,450",
])
def test_every_part_a_cluster_name_can_use_has_a_translation(part):
    name = part[0].upper() + part[1:]

    assert _zh(translated_name, name) != name
    assert _en(translated_name, name) == name


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Recent, frequent, high spend", "近期购买、常购、高消费"),
        ("Lapsed, one-off, low spend", "久未购买、仅购一次、低消费"),
        ("Long-standing, big baskets", "老客、客单价高"),
        ("New", "新客户"),  # the RFM segment's name wins: same word, same meaning
        ("Typical customers", "普通客户"),
        ("Recent, frequent (2)", "近期购买、常购（2）"),
        ("Last order 8–16 months ago, 1 order", "上次下单在 8–16 个月前、1 笔订单"),
        ("Recent, 2–3 orders, spend 20–45", "近期购买、2–3 笔订单、消费 20–45"),
        ("Cluster 4", "聚类 4"),
        ("Champions", "冠军客户"),
        ("Can't Lose", "不能失去的客户"),
        ("Top 10% most likely to buy", "最可能购买的前 10%"),
    ],
)
def test_computed_names_show_in_chinese_and_unchanged_in_english(english, chinese):
    assert _zh(translated_name, english) == chinese
    assert _en(translated_name, english) == english


@pytest.mark.parametrize(
    "typed",
    ["Our VIPs", "Recent, frequent, spendy", "recent, frequent", "Recent frequent", "Orders",
     "Recent, Frequent", "Last order soon, 1 order", "Recent, 2 order",
     "老客户", "Cluster four", "VIPs (2)", ""],
)
def test_names_the_analysis_cannot_have_written_pass_through_unchanged(typed):
    assert _zh(translated_name, typed) == typed
    assert _en(translated_name, typed) == typed


def test_names_written_by_cluster_names_read_back_in_chinese():
    features = pd.DataFrame({
        "recency_days": [5.0, 10, 200, 300, 400, 500],
        "frequency": [9, 8, 1, 1, 1, 2],
        "monetary": [900.0, 800, 20, 25, 30, 40],
        "avg_order_value": [100.0, 100, 20, 25, 30, 20],
        "tenure_days": [600.0, 500, 200, 300, 400, 500],
    })
    named = cluster_names(features, np.array([0, 0, 1, 1, 1, 1]))

    assert named[0].name == "Recent, frequent"
    assert named[1].name == "Last order 9–14 months ago, 1–2 orders"
    assert _zh(translated_name, named[0].name) == "近期购买、常购"
    assert _zh(translated_name, named[1].name) == "上次下单在 9–14 个月前、1–2 笔订单"
    assert _zh(computed_text.segment_description, named[0].description) == (
        "典型成员：上次下单在 7.5 天前（中位数 250 天）；订单数 8.5（中位数 1.5）；累计消费 850（中位数 35）；"
        "平均订单金额 100（中位数 28）；首次下单在 550 天前（中位数 450 天）。"
    )
    assert _en(computed_text.segment_description, named[0].description) == named[0].description


# --- descriptions --------------------------------------------------------------------


def test_rfm_descriptions_show_in_chinese():
    english = RFM_SEGMENTS["at_risk"].description

    assert _zh(computed_text.segment_description, english) == (
        "距上次购买的时间比大多数客户长，订单数与消费合计评分中等偏上。")
    assert _en(computed_text.segment_description, english) == english


def test_a_description_an_older_run_stored_still_shows_in_chinese():
    older = ("Longer since their last order than most customers, above the middle on orders "
             "and spend together.")

    assert _zh(computed_text.segment_description, older) == (
        "距上次下单的时间比大多数客户长，订单数与消费合计评分中等偏上。")


def test_a_cluster_without_facts_is_described_by_its_translated_name():
    assert _zh(computed_text.segment_description, "Typical customers") == "普通客户"


@pytest.mark.parametrize(
    "text",
    [
        "Typical member: last order 5 days ago (median 40); favourite colour blue.",
        "Typical member: orders 6 (median 2)",  # no final full stop: not our grammar
        "Customers who love tea.",
        "",
    ],
)
def test_descriptions_the_analysis_cannot_have_written_pass_through(text):
    assert _zh(computed_text.segment_description, text) == text


@pytest.mark.django_db  # the amount is in the shop's currency, from its settings
def test_what_a_customer_did_reads_in_chinese_with_their_facts():
    from segments.analysis.rfm import Note

    notes = [Note(code="not_for_over_a_year", params={"days": 10404}),
             Note(code="bought_once"), Note(code="spent", params={"cents": 123456})]

    assert [_zh(computed_text.note_text, n) for n in notes] == [
        "超过一年没有购买（10,404 天）", "只购买过一次", "共消费 US$1,234.56"]
    assert [_en(computed_text.note_text, n) for n in notes] == [
        "have not bought for over a year (10,404 days)", "have bought once",
        "spent $1,234.56 in total"]


# --- rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("orders ≥ 4 and last order ≤ 30 days ago", "订单数 ≥ 4，且距上次下单 ≤ 30 天"),
        ("total spend > 1,234 and first order ≤ 90 days ago",
         "累计消费 > 1,234，且距首次下单 ≤ 90 天"),
        ("average order > 56.5", "平均订单金额 > 56.5"),
        ("days between orders ≤ 12.5 and return rate > 0.1",
         "平均下单间隔 ≤ 12.5 天，且退货率 > 0.1"),
        ("all customers", "全部客户"),
        ("R = 5 and average of F and M 4–5", "R = 5，且 F 与 M 的平均分 4–5"),
        ("R 1–2 and average of F and M = 5", "R 1–2，且 F 与 M 的平均分 = 5"),
    ],
)
def test_rules_show_in_chinese_and_unchanged_in_english(english, chinese):
    assert _zh(computed_text.segment_rule, english) == chinese
    assert _en(computed_text.segment_rule, english) == english


def test_a_rule_written_by_cluster_rules_reads_back_in_chinese():
    features = pd.DataFrame({"frequency": [1, 1, 2, 5, 6, 7]})
    rules = cluster_rules(features, np.array([0, 0, 0, 1, 1, 1]))

    assert rules[1].text == "orders ≥ 4"
    assert _zh(computed_text.segment_rule, rules[1].text) == "订单数 ≥ 4"


@pytest.mark.parametrize(
    "text",
    ["orders ≥ 4 and shoe size ≤ 42", "orders at least 4", "buys tea and coffee", ""],
)
def test_rules_the_analysis_cannot_have_written_pass_through(text):
    assert _zh(computed_text.segment_rule, text) == text


# --- run notes -----------------------------------------------------------------------


def test_how_k_was_chosen_reads_in_chinese_sentence_by_sentence():
    reason = choose_k(np.array([[0.0], [0.1], [5.0], [5.1], [9.0], [9.1], [9.2]]),
                      k_range=range(2, 4)).reason
    note = reason + " Silhouette measured on a random sample of 5,000 customers."

    chinese = _zh(computed_text.run_note, note)

    assert reason.startswith("k=")
    assert chinese.endswith("。轮廓系数基于 5,000 位客户的随机样本计算。")
    assert "轮廓系数最高" in chinese
    assert _en(computed_text.run_note, note) == note


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("You chose k=9. Only 4 distinct customers, so k=4.",
         "你选择了 k=9。只有 4 位各不相同的客户，因此 k=4。"),
        ("Only 2 customers (2 distinct); using k=2.",
         "只有 2 位客户（其中 2 位各不相同），因此 k=2。"),
        ("Fitted on 1,500 customers, 700 of them repeat buyers.",
         "基于 1,500 位客户拟合，其中 700 位是回头客。"),
        ("Too few customers or clusters to train on.", "客户或聚类太少，无法训练。"),
        (("k=4 has a silhouette (0.512) within 0.01 of the best (0.517) among k with "
          "clusters >= 2%; the fewest clusters win a tie."),
         ("在各聚类均不小于 2% 的 k 中，k=4 的轮廓系数（0.512）与最佳值（0.517）相差不超过 "
          "0.01；相差这么小时取聚类最少的 k。")),
        ("Evaluation period has only buyers or only non-buyers.",
         "评估期内的客户要么全都购买了，要么都没有购买。"),
    ],
)
def test_run_notes_show_in_chinese(english, chinese):
    assert _zh(computed_text.run_note, english) == chinese


def test_a_note_with_one_unknown_sentence_passes_through_whole():
    note = "You chose k=3. The moon was full."

    assert _zh(computed_text.run_note, note) == note


# --- charts --------------------------------------------------------------------------


def test_chart_titles_axes_and_feature_names_follow_the_active_language():
    english = _en(charts.feature_importances, {"recency_days": 0.6, "frequency": 0.4})
    chinese = _zh(charts.feature_importances, {"recency_days": 0.6, "frequency": 0.4})
    heatmap = _zh(charts.rfm_heatmap, [{"r_score": 5, "f_score": 4, "customers": 1200,
                                        "revenue": 34567.8}], "CNY")

    assert english["layout"]["title"]["text"] == (
        "What defines the clusters (random forest importance)")
    assert english["data"][0]["y"] == ["orders", "days since last order"]
    assert chinese["layout"]["title"]["text"] == "决定聚类的因素（随机森林重要性）"
    assert chinese["data"][0]["y"] == ["订单数", "距上次下单天数"]
    assert heatmap["layout"]["yaxis"]["title"]["text"] == "R 评分（5 = 最近购买）"
    assert heatmap["data"][0]["text"][4][3] == "1,200 位客户<br>销售额 ¥34,568"


def test_the_scatter_title_and_hover_keep_plotly_fields_and_numbers_in_chinese():
    groups = charts.scatter_groups([(3.0, 50.0, "champions", "cluster-1", 1)], color_by="rfm")

    script = _zh(charts.customer_scatter_script, "s", groups, names={}, total=12345)
    decoded = script.encode().decode("unicode_escape")

    assert "客户：距上次下单天数与累计消费（对数坐标）— 从 12,345 位中随机抽取 1 位" in decoded
    assert "上次下单在 %{x:.0f} 天前<br>消费 %{y:,.0f}<extra>%{fullData.name}</extra>" in decoded


# ------------------------------------------------------------------ basket rules

RULE = {"antecedents": (1, 2), "consequents": (3,), "confidence": 0.62, "lift": 3.14,
        "order_count": 48}
NAMES = {1: "Tea Pot", 2: "Tea Cups", 3: "Tea Strainer"}


def test_a_basket_rule_reads_in_chinese_with_the_same_facts():
    sentence = _zh(computed_text.rule_sentence, RULE, NAMES)

    assert "Tea Pot" in sentence and "Tea Cups" in sentence and "Tea Strainer" in sentence
    assert "62%" in sentence and "3.1" in sentence and "48" in sentence
    assert "Customers" not in sentence and "bought" not in sentence
    assert _zh(computed_text.rule_sentence, {**RULE, "consequents": (99,)}, NAMES).count("99") == 1


def test_a_segment_rule_says_usually_only_from_half_the_orders_in_both_languages():
    strong = _en(computed_text.rule_sentence, RULE, NAMES, "At Risk")
    weak = _en(computed_text.rule_sentence, {**RULE, "confidence": 0.3}, NAMES, "At Risk")

    assert strong.startswith("At Risk customers who bought Tea Pot and Tea Cups usually buy")
    assert "also bought" in weak and "usually" not in weak
    assert _zh(computed_text.rule_sentence, RULE, NAMES, "At Risk") != _zh(
        computed_text.rule_sentence, {**RULE, "confidence": 0.3}, NAMES, "At Risk")


@pytest.mark.parametrize("reason", [
    "no baskets to mine",
    "57 rules at support 0.02 (963 orders), within the target of 50–2000",
    "61 rules at support 0.0137 (660 orders; found between ladder steps), within the target of 50–2000",
    "only 12 rules even at the floor of 10 orders per itemset (support 0.0005); fewer than the target of 50",
    "only 30 rules at the lowest support tried (0.001, 48 orders)",
    "40 rules at 25 orders; one order fewer gives more than 2000, so no threshold hits 50–2000 exactly",
    "2300 rules at 24 orders; one order more gives fewer than 50, so no threshold hits 50–2000 exactly",
])
def test_how_the_rule_threshold_was_chosen_reads_in_both_languages(reason):
    shown = re.sub(r"(?<![\d.])\d{4,}(?![\d.])", lambda m: f"{int(m.group()):,}", reason)
    assert _en(computed_text.run_note, reason) == shown  # "2000" reads "2,000"
    chinese = _zh(computed_text.run_note, reason)
    assert chinese != reason and not any(word in chinese for word in ("rules", "orders", "target"))
    assert all(number in chinese for number in re.findall(r"\d[\d.,]*\d|\d", shown))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_counts_in_a_run_note_get_thousands_separators_even_when_stored_without(language):
    from django.utils import translation

    with translation.override(language):
        note = computed_text.run_note("Fitted on 26573 customers, 4000 of them repeat buyers.")

    assert "26,573" in note and "4,000" in note and "26573" not in note


def _disagree(**facts):
    values = {"p_alive": 0.004, "propensity": 0.47, "recency_days": 119.0, "gap_days": 4.2}
    values.update(facts)
    return computed_text.models_disagree_sentence(**values)


def test_a_stopped_regular_with_a_good_90_day_chance_is_explained_with_their_facts():
    sentence = _disagree()

    assert "every 4 days" in sentence and "none for 119 days" in sentence
    assert "47% chance" in sentence


@pytest.mark.parametrize("facts", [
    {"p_alive": 0.5},                        # they agree enough
    {"propensity": 0.1},                     # both low
    {"recency_days": 8.0},                   # not silent for twice their rhythm
    {"gap_days": None},                      # one order: no rhythm to speak of
    {"p_alive": None}, {"propensity": None},
])
def test_nothing_is_said_when_the_estimates_agree_or_a_fact_is_missing(facts):
    assert _disagree(**facts) == ""


def test_a_low_chance_above_the_expected_orders_beside_it_is_explained():
    # "Expected orders: 0.0 in the next 90 days" beside "Chance ...: 10%": no one model
    # can say both (the expected number of orders is at least the chance of one).
    both = _disagree(propensity=0.1, expected_orders_90=0.004)
    agreeing = _disagree(propensity=0.1, expected_orders_90=0.15)

    assert "none for 119 days" in both and "10% chance" in both
    assert agreeing == ""


def test_a_chance_above_the_expected_orders_is_explained_whenever_they_have_probably_stopped():
    # Three orders about 64 days apart, none for 548 days: P(alive) 14%, 0.04 orders
    # expected in 90 days, and a 14% chance of ordering from the other model.
    facts = {"propensity": 0.14, "expected_orders_90": 0.04, "recency_days": 548.0,
             "gap_days": 64.0}

    assert "none for 548 days" in _disagree(p_alive=0.14, **facts)
    assert _disagree(p_alive=0.6, **facts) == ""  # likelier alive than not: not "stopped"


def test_a_rare_buyer_who_is_still_a_customer_is_explained_only_when_rare_really():
    rare = _disagree(p_alive=0.97, propensity=0.04, recency_days=40.0, gap_days=200.0)
    often = _disagree(p_alive=0.97, propensity=0.04, recency_days=40.0, gap_days=30.0)

    assert "every 200 days" in rare and "unlikely" in rare
    assert often == ""  # "orders only every 30 days" would not explain a low 90-day chance


def test_the_explanation_reads_in_chinese():
    chinese = _zh(computed_text.models_disagree_sentence, p_alive=0.004, propensity=0.47,
                  recency_days=119.0, gap_days=4.2)

    assert "119" in chinese and "47%" in chinese and "estimates" not in chinese


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0.0"), (0.0004, "<0.1"), (0.049, "<0.1"), (0.05, "0.1"), (4.8, "4.8"), (None, "—"),
])
def test_expected_orders_never_round_a_positive_estimate_to_nothing(value, shown):
    from segments.templatetags.segment_text import orders_estimate

    with translation.override("en"):
        assert orders_estimate(value) == shown
