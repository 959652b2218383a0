"""Template filters showing the analysis' computed text in the reader's language.

    {% load segment_text %}
    {{ segment.description|segment_description }}  {{ segment.rule_text|segment_rule }}
    {{ run.k_reason|run_note }}  {{ segment.name|segment_name }}  {% rfm_why score %}
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django import template
from django.template.defaultfilters import floatformat

from segments import computed_text
from segments.labels import translated_name

register = template.Library()


@register.filter
def orders_estimate(value: Any) -> str:
    """Expected orders to one decimal that never rounds a positive estimate to nothing:
    0.04 is "<0.1", not "0.0" (which would read as "no chance" beside a 14% one)."""
    if value is None or value == "":
        return "—"
    number = float(value)
    if 0 < number < 0.05:
        return f"<{floatformat(0.1, 1)}"
    return floatformat(number, 1)


@register.filter
def segment_name(value: str) -> str:
    """A computed segment name (never an owner's rename: templates show those as typed)."""
    return translated_name(value or "")


@register.filter
def segment_description(value: str) -> str:
    return computed_text.segment_description(value or "")


@register.filter
def segment_rule(value: str) -> str:
    return computed_text.segment_rule(value or "")


@register.filter
def run_note(value: str) -> str:
    return computed_text.run_note(value or "")


@register.simple_tag
def rfm_why(score: Any, counted_to: date | None = None) -> str:
    """What a scored customer's facts (days, purchases, spend) say, never their scores;
    days counted to `counted_to` when that is before today."""
    if score is None:
        return ""
    return computed_text.customer_reason(score, counted_to)


@register.simple_tag
def cluster_unlike(score: Any, claims: list[dict], counted_to: date | None = None) -> str:
    """Where the customer's cluster name is not true of them, the facts that differ."""
    if score is None or not claims:
        return ""
    return computed_text.cluster_unlike_sentence(score, claims, counted_to)


@register.simple_tag
def propensity_sentence(score: Any) -> str:
    """The chance to buy and where it stands among customers, true at ties and ends."""
    if score is None or score.propensity is None:
        return ""
    return computed_text.propensity_sentence(score.propensity, score.propensity_percentile)


@register.simple_tag
def models_disagree_sentence(score: Any) -> str:
    """Why P(alive) and the 90-day chance differ, when they point opposite ways."""
    if score is None:
        return ""
    return computed_text.models_disagree_sentence(
        p_alive=score.p_alive, propensity=score.propensity, recency_days=score.recency_days,
        gap_days=score.mean_days_between_orders, expected_orders_90=score.expected_orders_90)


@register.filter
def whole_days(days: Any) -> str:
    """Days since an event as the customer sentence counts them: whole days passed, so
    30.6 days is "30" beside "last bought 30 days ago", never "31"."""
    if days is None:
        return "—"
    return f"{math.floor(float(days)):,}"
