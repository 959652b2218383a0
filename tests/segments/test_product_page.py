"""A product's page counts the orders the rest of the analysis counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from ingest.models import Product
from segments.models import Segment
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db


def _line(order: str, who: str, day: str, sku: str, quantity: int = 1, *,
          status: str = "paid") -> dict:
    name, price = {"SYR": ("Vanilla Syrup", "6.10"), "MUG": ("Blue Mug", "9.99")}[sku]
    return {"order_id": order, "email": f"{who}@example.com", "ordered_at": f"{day} 10:00",
            "sku": sku, "product_name": name, "quantity": quantity, "unit_price": price,
            "status": status}


def _kpis(html: str) -> dict[str, str]:
    return {label: value for value, label in re.findall(
        r'<div class="value">([^<]*)</div><div class="label">([^<]*)</div>', html)}


def test_the_product_page_leaves_out_cancelled_and_future_dated_orders_as_the_analysis_does(
        owner_client):
    # given: syrup bought twice with a mug; an order of both cancelled; and a syrup order
    # dated next year (a mistyped date the analysis leaves out until it comes)
    ahead = (timezone.now() + timedelta(days=300)).date()
    load_order_lines(pd.DataFrame([
        _line("A1", "ann", "2026-01-05", "SYR"), _line("A1", "ann", "2026-01-05", "MUG"),
        _line("B1", "bo", "2026-02-05", "SYR", 2), _line("B1", "bo", "2026-02-05", "MUG"),
        _line("C1", "cy", "2026-02-09", "SYR", status="cancelled"),
        _line("C1", "cy", "2026-02-09", "MUG", status="cancelled"),
        _line("D1", "di", f"{ahead}", "SYR", 3),
    ]))
    run_refresh(rules=False)
    syrup = Product.objects.get(sku="SYR")
    cache.clear()

    # when
    html = owner_client.get(reverse("product-detail", args=[syrup.pk])).content.decode()

    # then: 2 orders by 2 customers, $18.30; bought with the mug in both of them
    assert _kpis(html) == {"Orders": "2", "Customers": "2", "Revenue": "$18"}
    bought_with = re.sub(r"\s+", " ", html.split('id="bought-with"')[1].split("</section>")[0])
    assert re.search(r'Blue Mug</a></td><td class="num">2</td><td class="num">100%</td>',
                     bought_with), bought_with
    # the same orders its segments' best sellers count
    in_segments = [p for s in Segment.objects.filter(kind="rfm") for p in s.top_products
                   if p["id"] == syrup.pk]
    assert sum(p["orders"] for p in in_segments) == 2
    assert round(sum(p["revenue"] for p in in_segments), 2) == 18.30


def test_the_share_bought_with_a_product_is_rounded_as_the_rules_beside_it_are(owner_client):
    from segments.computed_text import rule_sentence

    # given: syrup in 8 orders, one of them with a mug: 12.5% of its orders
    lines = [_line(f"S{n}", f"c{n}", f"2026-01-{n + 1:02d}", "SYR") for n in range(8)]
    load_order_lines(pd.DataFrame([*lines, _line("S0", "c0", "2026-01-01", "MUG")]))
    syrup, mug = Product.objects.get(sku="SYR"), Product.objects.get(sku="MUG")

    html = owner_client.get(reverse("product-detail", args=[syrup.pk]),
                            HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then: the table says what a rule of that confidence says ("in 13% of their orders")
    said = rule_sentence({"antecedents": [syrup.pk], "consequents": [mug.pk],
                          "confidence": 1 / 8, "lift": 1.0, "order_count": 1},
                         {syrup.pk: "Vanilla Syrup", mug.pk: "Blue Mug"}, None)
    assert "in 13% of their orders" in said
    assert re.search(r'Blue Mug</a></td><td class="num">1</td><td class="num">13%</td>', html)
