"""Customers at the edges, through the real import and a real analysis run: every
sentence their pages say is true of the facts shown beside it, in both languages."""

from __future__ import annotations

import html
import math
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from ingest.models import Customer
from profiler_site.core.services import user_language_set
from segments.models import CustomerScore, Segment, SegmentationRun
from tests.segments.demo_loader import load_demo_shop, load_order_lines
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db

LAST = date(2026, 10, 1)  # the newest order of the shop


def _line(order: str, who: str, days_before_last: int, *, quantity: int = 1,
          price: str = "20.00", product: str = "Espresso Beans", sku: str = "BEANS",
          when: date | None = None) -> dict:
    day = when or LAST - timedelta(days=days_before_last)
    return {"order_id": order, "email": f"{who}@example.com", "first_name": who.title(),
            "ordered_at": f"{day} 12:00:00", "sku": sku, "product_name": product,
            "quantity": quantity, "unit_price": price}


def _regulars() -> list[dict]:
    # Ordinary customers around the edge cases, so scores and clusters have a shop.
    # The first buys on the shop's last day, so it is that day.
    return [_line(f"F{k}-{i}", f"regular{k}", 37 * k + 20 * i, price=f"{10 + 7 * k}.00")
            for k in range(8) for i in range(1 + k % 4)]


def _import_and_analyse(lines: list[dict]) -> None:
    load_order_lines(pd.DataFrame(lines))
    run_refresh(rules=False)


def _page(client, owner, url: str, language: str) -> str:
    cache.clear()
    user_language_set(user=owner, language=language)
    return html.unescape(client.get(url).content.decode())


def _said(client, owner, who: str, language: str, element_id: str, end: str = "p|section|table"
          ) -> str:
    """The text of one element of the customer's profile page, in ``language``."""
    customer = Customer.objects.get(email=f"{who}@example.com")
    page = _page(client, owner, reverse("customer-detail", args=[customer.pk]), language)
    return _text(page, element_id, end)


def _text(page: str, element_id: str, end: str = "p|section|table") -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:{end})>', page, re.DOTALL)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


@pytest.mark.parametrize(("language", "said", "unsaid"), [
    ("en", "The imported file named no products for 1 order: 1 item bought, products unknown.",
     "1 items"),
    ("zh-hans", "导入的文件没有注明 1 个订单的商品：共购买 1 件，商品不详。", "items"),
])
def test_one_item_from_a_file_without_product_names_is_one_item(owner, owner_client, language,
                                                                  said, unsaid):
    _import_and_analyse([*_regulars(), _line("N1", "noname", 70, product="", sku="")])

    text = _said(owner_client, owner, "noname", language, "no-products")

    assert said in text
    assert unsaid not in text


@pytest.mark.parametrize(("language", "no_purchase", "free_order", "return_words", "joined"), [
    ("en", "they have no paid order on record", "The list also holds 1 order of $0.00.",
     ("returns or refunds;", "return or cancelled"), "returns. The list also holds"),
    # Chinese sentences follow each other without a space
    ("zh-hans", "他们没有付费订单记录", "列表中另有 1 笔金额为 US$0.00 的订单。",
     ("只有退货或退款", "退货或已取消"), "。列表中另有"),
])
def test_an_order_of_nothing_is_not_called_a_return_or_refund(owner, owner_client, language,
                                                              no_purchase, free_order,
                                                              return_words, joined):
    _import_and_analyse([*_regulars(), _line("Z1", "free", 50, price="0.00"),
                         _line("R1", "refunded", 20, quantity=-1)])
    refund_only, returned = return_words

    why = _said(owner_client, owner, "free", language, "rfm-why")
    orders = _said(owner_client, owner, "free", language, "orders-total")

    assert no_purchase in why and refund_only not in why
    assert free_order in orders and returned not in orders
    assert joined in orders
    # A return is still called one.
    assert returned in _said(owner_client, owner, "refunded", language, "orders-total")


@pytest.mark.parametrize(("language", "count", "untrue"), [
    ("en", "have bought 5 times", "often"),
    ("zh-hans", "购买过 5 次", "经常购买"),
])
def test_a_customer_gone_for_years_is_not_said_to_buy_often(owner, owner_client, language,
                                                            count, untrue):
    _import_and_analyse([*_regulars(),
                         *(_line(f"G{i}", "gone", 365 * 6 + 30 * i) for i in range(5))])

    why = _said(owner_client, owner, "gone", language, "rfm-why")

    assert "2,190" in why  # days since their last order, as the facts beside it say
    assert count in why
    assert untrue not in why


@pytest.mark.parametrize(("language", "regular", "mixed", "future", "listed"), [
    # The shop's newest order (1 Oct 2026) is before today: days are counted to it.
    ("en", "they last bought 37 days before 1 Oct 2026",
     "1 order is dated after today: the analysis leaves it out until its date.",
     "Their orders are dated after today: the analysis counts them once their date has come.",
     "Not analysed: their orders are dated after today."),
    ("zh-hans", "他们上次购买在 2026年10月1日之前 37 天",
     "有 1 笔订单的日期晚于今天：分析到该日期后才会计入。",
     "该客户的订单日期都晚于今天：分析会在订单日期到来后计入。",
     "未分析：该客户的订单日期都晚于今天。"),
])
def test_an_order_dated_in_the_future_does_not_make_every_customer_look_gone(
    owner, owner_client, language, regular, mixed, future, listed
):
    # A mistyped year: the newest order of the file is years ahead of today.
    ahead = (timezone.now() + timedelta(days=400)).date()
    _import_and_analyse([*_regulars(), _line("X1", "mixed", 10), _line("X2", "mixed", 0, when=ahead),
                         _line("Y1", "typo", 0, when=ahead)])

    assert regular in _said(owner_client, owner, "regular1", language, "rfm-why")
    assert mixed in _said(owner_client, owner, "mixed", language, "orders-total")
    assert future in _said(owner_client, owner, "typo", language, "not-analysed")
    row = _text(_page(owner_client, owner, reverse("customers") + "?q=typo", language), "customers")
    assert listed in row
    assert "(new since the last run)" not in row and "上次分析后新增" not in row


@pytest.mark.parametrize(("language", "run_result", "reason", "clusters"), [
    ("en", "1 customer in 1 cluster", "Only 1 customer has bought on more than one day;",
     "1 cluster. Only 1 customer (1 distinct); using k=1."),
    ("zh-hans", "1 位客户，分为 1 个聚类", "只有 1 位客户在不止一天下过单；",
     "1 个聚类。 只有 1 位客户（其中 1 位各不相同），因此 k=1。"),
])
def test_a_shop_of_one_customer_is_counted_as_one(owner, owner_client, language, run_result,
                                                  reason, clusters):
    _import_and_analyse([_line("A1", "alone", 0), _line("A2", "alone", 100)])

    overview = _page(owner_client, owner, reverse("overview"), language)
    listing = _page(owner_client, owner, reverse("segments") + "?kind=cluster", language)

    assert run_result in overview
    assert "1 customers" not in overview
    assert reason in _said(owner_client, owner, "alone", language, "clv-missing")
    assert clusters in re.sub(r"\s+", " ", listing)
    assert "1 clusters" not in listing and "1 customers" not in listing


@pytest.mark.parametrize(("language", "reason"), [
    ("en", "No customer has bought on more than one day; at least 30 are needed to estimate "
           "lifetime value."),
    ("zh-hans", "没有客户在不止一天下过单；至少需要 30 位才能估算客户终身价值。"),
])
def test_a_shop_where_everyone_bought_once_says_no_customer_bought_twice(owner, owner_client,
                                                                       language, reason):
    _import_and_analyse([_line(f"O{i}", f"once{i}", 13 * i, price=f"{10 + i}.00")
                         for i in range(40)])

    missing = _said(owner_client, owner, "once3", language, "clv-missing")

    assert reason in missing
    assert "Only 0" not in missing and "只有 0" not in missing


@pytest.mark.parametrize(("language", "buyers", "since_purchase"), [
    ("en", "recent buyers", "since their last purchase"),
    ("zh-hans", "购买的客户", "距上次购买"),
])
def test_a_customer_with_no_paid_order_is_not_among_the_recent_buyers(
    owner, owner_client, language, buyers, since_purchase
):
    # A refund three days ago and an order of 0.00 five days ago: recent, but no purchase.
    _import_and_analyse([*_regulars(), _line("R1", "refunded", 3, quantity=-1),
                         _line("Z1", "free", 5, price="0.00")])

    for who in ("refunded", "free"):
        why = _said(owner_client, owner, who, language, "rfm-why")
        assert buyers not in why, why
        assert since_purchase in why, why


@pytest.mark.parametrize(("language", "counted_to"), [
    ("en", "Days are counted to 1 Oct 2026, the date of the newest order in your data."),
    ("zh-hans", "天数计算截至 2026年10月1日，即数据中最新一笔订单的日期。"),
])
def test_days_ago_say_which_day_they_are_counted_to_when_the_data_ends_before_today(
    owner, owner_client, language, counted_to
):
    _import_and_analyse(_regulars())

    assert counted_to in _said(owner_client, owner, "regular0", language, "days-counted-to")


def test_days_ago_need_no_reference_when_the_data_ends_today(owner, owner_client):
    _import_and_analyse([_line("T1", "today", 0, when=timezone.localdate()),
                         _line("T2", "today", 0, when=timezone.localdate() - timedelta(days=9))])
    customer = Customer.objects.get(email="today@example.com")

    page = _page(owner_client, owner, reverse("customer-detail", args=[customer.pk]), "en")

    assert 'id="rfm-why"' in page
    assert 'id="days-counted-to"' not in page


def _kpi(page: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}">([^<]*)<', page)
    assert match, name
    return match.group(1)


def test_the_overview_counts_purchases_not_returns_or_orders_of_nothing(owner, owner_client):
    _import_and_analyse([
        _line("T1", "twice", 0), _line("T2", "twice", 10),
        _line("S1", "returned", 5), _line("S2", "returned", 3, quantity=-1),  # sent it back
        _line("R1", "refundonly", 4, quantity=-1),
        _line("Z1", "free", 2, price="0.00"),
        _line("O1", "once", 200),
    ])

    page = _page(owner_client, owner, reverse("overview"), "en")

    assert _kpi(page, "orders") == "4"  # the purchases their profiles count: 2 + 1 + 1
    assert _kpi(page, "active") == "2"  # bought within 90 days: twice, returned
    assert "Active (bought in the last 90 days)" in page  # the order of 0.00 is not counted
    assert _kpi(page, "repeat") == "33%"  # of 3 buyers, only "twice" bought again
    assert _kpi(page, "revenue") == "$40"  # money still nets the returns: 80 - 20 - 20


@pytest.mark.parametrize(("language", "one_day"), [
    ("en", "they bought recently, 1 day before 1 Oct 2026;"),
    ("zh-hans", "他们最近购买过，在 2026年10月1日之前 1 天；"),
])
def test_a_customer_who_bought_one_day_before_the_newest_order_bought_1_day_ago(
    owner, owner_client, language, one_day
):
    _import_and_analyse([*_regulars(), _line("D1", "yesterday", 1), _line("D2", "yesterday", 9)])

    why = _said(owner_client, owner, "yesterday", language, "rfm-why")

    assert one_day in why
    assert "1 days" not in why


@pytest.fixture
def fitted_shop(tmp_path):
    """The demo shop, whose value models fit, and edge customers imported after it."""
    load_demo_shop(600, tmp_dir=tmp_path)
    last = run_refresh(rules=False).as_of.date()
    lines = [_line("ER1", "refunded", 20, quantity=-1, when=last - timedelta(days=20)),
             *(_line(f"EG{i}", "gone", 0, when=last - timedelta(days=365 * 6 + 30 * i))
               for i in range(5))]
    load_order_lines(pd.DataFrame(lines))
    run = run_refresh(rules=False)
    assert run.metrics["clv"]["enough_history"]
    return run


@pytest.mark.parametrize(("language", "said", "untrue"), [
    ("en", "No estimate of future orders and value: the models forecast from purchases, and "
           "they have no paid order on record.", "Not enough history"),
    ("zh-hans", "无法估算未来订单和价值：模型依据购买记录预测，而该客户没有付费订单记录。",
     "历史数据不足"),
])
def test_a_customer_without_a_purchase_is_not_told_history_is_short_beside_a_fitted_model(
    fitted_shop, owner, owner_client, language, said, untrue
):
    text = _said(owner_client, owner, "refunded", language, "clv-missing")

    assert said in text
    assert untrue not in text


@pytest.mark.parametrize(("language", "expected", "why"), [
    ("en", "Expected orders: <0.1 in the next 90 days",
     "By their own rhythm (an order about every 30 days, none for 2,190 days) they have "
     "probably stopped"),
    ("zh-hans", "预计订单数：未来 90 天 <0.1 单",
     "按该客户自己的节奏（大约每 30 天下一单，已有 2,190 天没有下单），他们很可能已经不再购买"),
])
def test_a_chance_of_ordering_above_the_expected_orders_beside_it_says_why(
    fitted_shop, owner, owner_client, language, expected, why
):
    score = CustomerScore.objects.get(customer__email="gone@example.com")
    assert score.propensity > score.expected_orders_90  # two models that disagree

    page = _said(owner_client, owner, "gone", language, "future", end="section")
    customer = Customer.objects.get(email="gone@example.com")
    whole = _page(owner_client, owner, reverse("customer-detail", args=[customer.pk]), language)

    assert expected in whole  # a tiny positive estimate, never "0.0" beside a 9% chance
    assert why in page


@pytest.mark.parametrize(("language", "said"), [
    ("en", "1 order is dated after today: the analysis and these figures leave it out until "
           "its date."),
    ("zh-hans", "有 1 笔订单的日期晚于今天：分析和这些数字要到订单日期到来后才会计入。"),
])
def test_the_overview_says_how_many_orders_wait_for_their_date(owner, owner_client, language,
                                                               said):
    ahead = (timezone.now() + timedelta(days=400)).date()
    lines = [*_regulars(), _line("Y1", "typo", 0, when=ahead)]
    _import_and_analyse(lines)

    page = _page(owner_client, owner, reverse("overview"), language)

    assert said in _text(page, "dated-ahead")
    assert _kpi(page, "orders") == str(len(lines) - 1)


def test_a_shop_with_only_a_refund_is_not_called_empty(owner, owner_client):
    _import_and_analyse([_line("R1", "refunded", 0, quantity=-1)])

    page = _page(owner_client, owner, reverse("overview"), "en")

    assert "No customers yet" not in page
    assert _kpi(page, "customers") == "1" and _kpi(page, "orders") == "0"


def test_a_segment_of_one_shows_the_days_its_member_shows(owner, owner_client):
    # Every purchase at midnight, the newest order at noon: everyone is N and a half days.
    _import_and_analyse([*(dict(line, ordered_at=line["ordered_at"][:10] + " 00:00:00")
                           for line in _regulars()), _line("L1", "latest", 0)])
    run = SegmentationRun.objects.get(is_current=True)
    singles = Segment.objects.filter(run=run, kind="rfm", size=1)
    assert singles

    for segment in singles:
        member = CustomerScore.objects.get(run=run, rfm_key=segment.key)
        page = _page(owner_client, owner, reverse("segment-detail", args=["rfm", segment.key]),
                     "en")
        shown = re.search(r'<div class="value">([^<]*)</div><div class="label">Avg days', page)
        assert shown[1] == f"{math.floor(member.recency_days):,}", (segment.key, shown[1])


@pytest.mark.parametrize(("language", "overview_note", "listed", "profile"), [
    ("en", "2 customers are in no segment: their orders are all cancelled or dated after "
           "today, or they have none.",
     "Not analysed: they have no order that was not cancelled.",
     "They have no order that was not cancelled: the analysis has nothing of theirs to "
     "count."),
    ("zh-hans", "有 2 位客户不在任何细分中：他们的订单都已取消或日期晚于今天，或者没有订单。",
     "未分析：该客户没有未取消的订单。",
     "该客户没有未取消的订单：分析没有可计入的内容。"),
])
def test_customers_no_segment_counts_are_said_on_the_overview_and_their_own_rows(
    owner, owner_client, language, overview_note, listed, profile
):
    # given: a customer whose only order was cancelled, and one whose only order is dated
    # next year; both were in the file the analysis ran on
    ahead = (timezone.now() + timedelta(days=400)).date()
    _import_and_analyse([*_regulars(), dict(_line("C1", "cancelled", 5), status="cancelled"),
                         _line("Y1", "typo", 0, when=ahead)])
    run = SegmentationRun.objects.get(is_current=True)

    overview = _page(owner_client, owner, reverse("overview"), language)

    # then: the overview's customers are the segments' and these two, and it says so
    assert _kpi(overview, "customers") == "10"
    assert run.customer_count == sum(Segment.objects.filter(run=run, kind="rfm")
                                     .values_list("size", flat=True)) == 8
    assert overview_note in _text(overview, "not-in-segments")
    row = _text(_page(owner_client, owner, reverse("customers") + "?q=cancelled", language),
                "customers")
    assert listed in row
    assert "(new since the last run)" not in row and "上次分析后新增" not in row
    assert profile in _said(owner_client, owner, "cancelled", language, "not-analysed")


@pytest.mark.parametrize(("language", "order_days", "purchase_days"), [
    ("en", "Days since last order", "Days since last purchase"),
    ("zh-hans", "距上次下单天数", "距上次购买天数"),
])
def test_the_days_beside_a_customer_without_a_purchase_are_called_days_since_their_last_order(
    owner, owner_client, language, order_days, purchase_days
):
    _import_and_analyse([*_regulars(), _line("R1", "refunded", 3, quantity=-1)])

    facts = _said(owner_client, owner, "refunded", language, "segment", end="section")
    bought = _said(owner_client, owner, "regular1", language, "segment", end="section")

    assert f"3 {order_days}" in facts and purchase_days not in facts
    assert purchase_days in bought
