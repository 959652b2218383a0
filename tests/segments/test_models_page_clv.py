"""The Models page on a shop's real run: the purchase models compared on the shop's own
holdout, the chosen one's parameters in plain words, and a plain warning when the holdout
check misses badly (issue 14, items 10, 11 and 15), in English and in Chinese."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse

from profiler_site.core.services import user_language_set
from segments.models import CustomerScore
from tests.segments.analysis.clv_simulation import mbgnbd_orders
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db

HOLDOUT_DAYS = 180  # two years of history: the last 180 days are held out


def _lines(orders: pd.DataFrame) -> pd.DataFrame:
    """The simulated orders as an owner's order-lines export (one line per order)."""
    return pd.DataFrame({
        "order_id": [f"S{i}" for i in range(len(orders))],
        "email": [f"c{c}@example.com" for c in orders["customer_id"]],
        "ordered_at": orders["ordered_at"].dt.strftime("%Y-%m-%d 12:00:00"),
        "sku": "BEANS",
        "product_name": "Espresso Beans",
        "quantity": 1,
        "unit_price": orders["net_total"].map(lambda v: f"{v:.2f}"),
    })


def _shop(surge: bool) -> pd.DataFrame:
    orders = mbgnbd_orders(500, r=2.0, alpha=8.0, a=0.6, b=6.0, days=730, cohort_days=365,
                           seed=5)
    if surge:
        # A promotion in the held-out months: every purchase there comes with a second
        # one three days later (on the last day, three days before). A model fitted on
        # the months before cannot foresee it.
        newest = orders["ordered_at"].max()
        late = orders.loc[orders["ordered_at"] > newest - pd.Timedelta(days=HOLDOUT_DAYS - 10)]
        shift = np.where(late["ordered_at"] + pd.Timedelta(days=3) <= newest, 3, -3)
        extra = late.assign(ordered_at=late["ordered_at"] + pd.to_timedelta(shift, unit="D"))
        orders = pd.concat([orders, extra], ignore_index=True)
    return _lines(orders)


def _models_page(client) -> str:
    cache.clear()
    return html.unescape(client.get(reverse("segments-models")).content.decode())


def _text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|table)>', page, re.DOTALL)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_models_page_compares_the_purchase_models_and_reads_the_parameters(owner_client):
    load_order_lines(_shop(surge=False))
    run = run_refresh(rules=False)
    clv = run.metrics["clv"]

    page = _models_page(owner_client)

    assert clv["model"]["basis"] == "holdout"
    assert clv["model"]["chosen"] in {"mbgnbd", "pareto"}
    assert [c["model"] for c in clv["comparison"]] == ["bgnbd", "mbgnbd", "pareto"]
    comparison = _text(page, "clv-comparison")
    for name in ("BG/NBD", "MBG/NBD", "Pareto/NBD"):
        assert name in comparison
    assert "chosen" in comparison
    assert "not used: it counts every one-time buyer as certainly still a customer" in comparison
    params = _text(page, "clv-params")
    assert "While still a customer, a typical customer orders about" in params
    assert ("stop buying for good" in params) or ("at the average rate a customer stays" in params)
    assert "A typical repeat order is worth about" in params
    assert not clv["holdout"]["misses_badly"]
    assert 'id="clv-poor-fit"' not in page
    # One-time buyers: P(alive) below 1, and lower the longer ago their only order.
    once = (CustomerScore.objects.filter(run=run, frequency=1)
            .order_by("recency_days").values_list("recency_days", "p_alive"))
    alive = [p for _, p in once]
    assert len(alive) > 20 and max(alive) < 1
    assert alive == sorted(alive, reverse=True)
    # A customer's page names the model the run chose, not one it set aside.
    regular = CustomerScore.objects.filter(run=run, frequency__gte=3).first().customer_id
    profile = owner_client.get(reverse("customer-detail", args=[regular])).content.decode()
    chosen = {"mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD"}[clv["model"]["chosen"]]
    assert f"Estimates from the {chosen} and Gamma-Gamma models" in profile
    assert "BG/NBD and" not in profile.replace(f"{chosen} and", "")


def test_a_holdout_missed_badly_is_called_a_poor_fit_in_both_languages(owner, owner_client):
    load_order_lines(_shop(surge=True))
    run = run_refresh(rules=False)
    holdout = run.metrics["clv"]["holdout"]

    page = _models_page(owner_client)

    assert holdout["actual_total"] > 1.25 * holdout["predicted_total"]
    assert holdout["misses_badly"] is True
    warning = _text(page, "clv-poor-fit")
    off = round(100 * holdout["miss_share"])
    assert "The model fits this shop poorly." in warning
    assert f"({off}% off)" in warning
    assert "not as counts or money to plan with" in warning

    user_language_set(user=owner, language="zh-hans")
    chinese = _models_page(owner_client)

    warning = _text(chinese, "clv-poor-fit")
    assert "该模型与本店数据拟合较差。" in warning
    assert f"（偏差 {off}%）" in warning
    assert "The model fits this shop poorly" not in chinese
    params = _text(chinese, "clv-params")
    assert "仍是客户时，典型客户每年下单约" in params
    assert "While still a customer" not in chinese
    assert "未使用：它把每位只买过一次的客户都视为必定仍是客户" in _text(chinese, "clv-comparison")


def test_a_small_shop_whose_spend_model_is_at_the_boundary_shows_no_money(owner, owner_client):
    from tests.segments.analysis.test_clv import DATA, cdnow_slice

    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "value"])
    orders = pd.DataFrame({
        "customer_id": raw["customer_id"],
        "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
        "net_total": raw["value"],
    })
    load_order_lines(_lines(cdnow_slice(orders)))
    run = run_refresh(rules=False)
    spend = run.metrics["clv"]["spend"]

    page = _models_page(owner_client)

    assert spend == {**spend, "usable": False, "problem": "boundary", "params": None}
    refusal = _text(page, "clv-no-spend")
    assert "Not enough history for spend predictions." in refusal
    assert f"The order values of {spend['repeat_buyers']} repeat buyers" in refusal
    assert "Gamma-Gamma" not in _text(page, "clv-params")
    scores = CustomerScore.objects.filter(run=run)
    assert scores.count() > 100
    assert not scores.filter(expected_value_12m__isnull=False).exists()
    assert not scores.filter(p_alive__isnull=True).exists()
    customer = scores.first().customer_id
    profile = html.unescape(
        owner_client.get(reverse("customer-detail", args=[customer])).content.decode())
    assert "Not enough history for spend predictions." in profile

    user_language_set(user=owner, language="zh-hans")
    assert "历史数据不足，无法预测消费金额。" in _text(_models_page(owner_client), "clv-no-spend")


def test_a_young_shop_gets_the_default_model_and_no_holdout_sentences(owner_client):
    orders = mbgnbd_orders(400, r=2.0, alpha=1.0, a=0.5, b=3.0, days=60, cohort_days=30, seed=2)
    load_order_lines(_lines(orders))
    run = run_refresh(rules=False)

    page = _models_page(owner_client)

    assert run.metrics["clv"]["model"] == {**run.metrics["clv"]["model"], "chosen": "mbgnbd",
                                           "basis": "no_holdout"}
    assert "The history is too short to hold months out and compare models" in _text(page,
                                                                                      "clv-choice")
    assert 'id="clv-comparison"' not in page
    assert "Fitted without the last" not in page
    assert "While still a customer, a typical customer orders about" in _text(page, "clv-params")
