"""Every sentence about a customer is true of their facts, whatever their scores."""

from __future__ import annotations

import itertools
import math
import re
from types import SimpleNamespace

import pytest
from django.utils import translation

from segments import computed_text
from segments.analysis.rfm import (
    LAPSED_DAYS,
    OFTEN_ORDERS,
    RECENT_DAYS,
    RFM_SEGMENTS,
    rfm_segment,
)

ALL_SCORES = list(itertools.product(range(1, 6), repeat=3))

# (days since the last purchase, purchases, net spend): the customers the issue saw
# mislabelled, and the edges of every threshold.
ADVERSARIAL_FACTS = [
    (0.2, 1, 0.0),  # bought once today and returned it
    (10_404.7, 1, 0.0),  # long gone, returned
    (10_404.0, 0, -40.0),  # a refund only, no purchase
    (0.0, 0, 0.0),
    (RECENT_DAYS, 1, 19.99),
    (RECENT_DAYS + 0.99, OFTEN_ORDERS, 1_000_000.0),
    (RECENT_DAYS + 1, OFTEN_ORDERS - 1, 5.0),
    (LAPSED_DAYS, 6, 100.0),
    (LAPSED_DAYS + 0.5, 2, 0.01),
    (LAPSED_DAYS + 1, OFTEN_ORDERS, 80.0),  # bought often, but not for over a year
    (5.0, 200, -3.5),
    (100.0, 1, 250.0),
]


def _reason(r: int, f: int, m: int, days: float, orders: int, spend: float) -> str:
    score = SimpleNamespace(rfm_key=rfm_segment(r, f, m), r_score=r, f_score=f, m_score=m,
                            recency_days=days, frequency=orders, monetary=spend)
    with translation.override("en"):
        return computed_text.customer_reason(score)


@pytest.mark.django_db  # amounts are written in the shop's currency, from its settings
@pytest.mark.parametrize(("days", "orders", "spend"), ADVERSARIAL_FACTS)
def test_every_claim_of_the_customer_sentence_is_true_of_the_facts(days, orders, spend):
    for r, f, m in ALL_SCORES:
        text = _reason(r, f, m, days, orders, spend)
        where = f"R{r} F{f} M{m} {days=} {orders=} {spend=}: {text!r}"

        # Scores are relative; the sentence speaks only of facts.
        assert not re.search(r"\b[RFM]=", text), where
        # Days are whole days, as printed: 30.99 days ago is "30 days ago".
        if "recent" in text:
            assert math.floor(days) <= RECENT_DAYS and orders > 0, where
        if "over a year" in text:
            assert math.floor(days) > LAPSED_DAYS, where
        if "often" in text:  # of now: not of someone gone for over a year
            assert orders >= OFTEN_ORDERS and math.floor(days) <= LAPSED_DAYS, where
        if "once" in text:
            assert orders == 1, where
        assert ("no paid order" in text) == (orders == 0), where
        if "in total" in text:
            assert spend > 0, where
        # Every number printed is one of the facts, exactly.
        # (money is written with the shop's currency, "$1,000,000.00" or "-$3.50")
        numbers = {n.replace("$", "") for n in re.findall(r"-?\$?\d[\d,]*(?:\.\d+)?", text)}
        facts = {f"{math.floor(days):,}", f"{orders:,}", f"{spend:,.2f}"}
        assert numbers <= facts, where
        assert f"{math.floor(days):,}" in numbers, where
        assert f"{spend:,.2f}" in numbers and "$" in text, where


@pytest.mark.parametrize("segment", list(RFM_SEGMENTS.values()), ids=lambda s: s.slug)
def test_no_segment_description_claims_a_fact_its_scores_cannot_vouch_for(segment):
    # R and M are relative and F pairs with M: "often", "once", "the first time" or
    # "regularly" would be false of some members (a one-order customer in At Risk).
    text = segment.description.lower()

    assert not re.search(r"\b(often|once|first time|regularly|the best|buy)\b", text), text


_CHANCE = "Chance of ordering in the next 90 days: "


@pytest.mark.parametrize(
    ("chance", "below", "sentence"),
    [
        # the top customer: not "more likely than 100%"
        (0.95, 99.97, _CHANCE + "95% (higher than for 99% of customers)."),
        # a small chance is not "0%" when others are lower still
        (0.004, 83.0, _CHANCE + "under 1% (higher than for 83% of customers)."),
        (0.3, 0.0, _CHANCE + "30% (no customer has a lower chance)."),
        (0.3, 0.4, _CHANCE + "30% (higher than for under 1% of customers)."),
        (0.999, 50.0, _CHANCE + "over 99% (higher than for 50% of customers)."),
        (0.0, 0.0, _CHANCE + "0% (no customer has a lower chance)."),
    ],
)
def test_the_chance_sentence_is_possible_at_ties_and_ends(chance, below, sentence):
    with translation.override("en"):
        assert computed_text.propensity_sentence(chance, below) == sentence


@pytest.mark.parametrize(("days", "shown"), [(0.2, "0"), (30.6, "30"), (30.99, "30"), (31.0, "31"),
                                              (10_404.7, "10,404"), (None, "—")])
def test_days_beside_the_sentence_count_whole_days_as_the_sentence_does(days, shown):
    from segments.templatetags.segment_text import whole_days

    assert whole_days(days) == shown
    if days is not None:
        assert f"{math.floor(days):,}" == shown  # the sentence's own rule
