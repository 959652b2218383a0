"""Starter flows: ready-made flows the owner switches on with one click (off until then).

Names, subjects and bodies are written in the language the owner uses when they
switch one on; from then on they are the owner's text, edited like any flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from flows.models import Flow, TriggerKind
from flows.selectors import event_types
from flows.services.flows import flow_create, flow_switch
from profiler_site.core.shop import shop_profile


@dataclass(frozen=True, kw_only=True, slots=True)
class Starter:
    key: str
    name: object  # lazy text
    description: object
    trigger_kind: str
    trigger_params: Callable[[], dict]
    wait_hours: int
    subject: Callable[[], str]
    html_body: Callable[[], str]


def _cart_event() -> str:
    return next((t for t in event_types() if "cart" in t.lower()), "")


STARTERS: tuple[Starter, ...] = (
    Starter(
        key="win_back",
        name=gettext_lazy("Win back At Risk and Can't Lose customers"),
        description=gettext_lazy("Emails a good customer the day an analysis run moves them "
                                 "into At Risk or Can't Lose."),
        trigger_kind=TriggerKind.SEGMENT_ENTER,
        trigger_params=lambda: {"segment_kind": "rfm", "to_keys": ["at_risk", "cant_lose"]},
        wait_hours=24,
        subject=lambda: gettext('We miss you, {{ first_name | "friend" }}'),
        html_body=lambda: gettext(
            "<p>Hi {{ first_name | \"there\" }},</p><p>It has been a while since your last "
            "order at {{ shop_name }}. Here is what you might like:</p>"
            "<p>{{ recommended_products }}</p>"),
    ),
    Starter(
        key="welcome",
        name=gettext_lazy("Welcome a first-time buyer toward a second order"),
        description=gettext_lazy("Seven days after a customer's first order."),
        trigger_kind=TriggerKind.AFTER_FIRST_ORDER,
        trigger_params=lambda: {"days": 7},
        wait_hours=0,
        subject=lambda: gettext("Thank you for your first order, {{ first_name | \"friend\" }}"),
        html_body=lambda: gettext(
            "<p>Hi {{ first_name | \"there\" }},</p><p>Thank you for choosing {{ shop_name }}. "
            "Customers who bought what you bought also liked:</p><p>{{ recommended_products }}</p>"),
    ),
    Starter(
        key="cross_sell",
        name=gettext_lazy("Post-purchase cross-sell with recommended products"),
        description=gettext_lazy("Three days after any order, with products this customer is "
                                 "likely to want."),
        trigger_kind=TriggerKind.AFTER_ORDER,
        trigger_params=lambda: {"days": 3},
        wait_hours=0,
        subject=lambda: gettext("Picked for you, {{ first_name | \"friend\" }}"),
        html_body=lambda: gettext(
            "<p>Hi {{ first_name | \"there\" }},</p><p>We hope you enjoy your order. "
            "These go well with it:</p><p>{{ recommended_products }}</p>"),
    ),
    Starter(
        key="abandoned_cart",
        name=gettext_lazy("Abandoned cart"),
        description=gettext_lazy("Four hours after a cart event with no order since."),
        trigger_kind=TriggerKind.EVENT_NO_ORDER,
        trigger_params=lambda: {"event_type": _cart_event(), "hours": 4},
        wait_hours=0,
        subject=lambda: gettext("You left something in your cart"),
        html_body=lambda: gettext(
            "<p>Hi {{ first_name | \"there\" }},</p><p>Your cart at {{ shop_name }} is still "
            "waiting for you.</p>"),
    ),
)


def starters_offered() -> list[Starter]:
    """Starters not yet taken; abandoned cart only when cart events exist."""
    taken = set(Flow.objects.exclude(starter_key="").values_list("starter_key", flat=True))
    has_cart = bool(_cart_event())
    return [s for s in STARTERS
            if s.key not in taken and (s.key != "abandoned_cart" or has_cart)]


def starter_switch_on(*, key: str) -> Flow:
    """Create the starter flow (once) and switch it on."""
    starter = next((s for s in STARTERS if s.key == key), None)
    if starter is None or (key == "abandoned_cart" and not _cart_event()):
        raise LookupError(key)
    with transaction.atomic():
        flow = Flow.objects.select_for_update().filter(starter_key=key).first()
        if flow is None:
            shop = shop_profile()
            flow = flow_create(
                starter_key=key, name=str(starter.name), trigger_kind=starter.trigger_kind,
                trigger_params=starter.trigger_params(), wait_hours=starter.wait_hours,
                subject=starter.subject(), html_body=starter.html_body(),
                from_name=shop.sender_name or shop.name or "Shop",
                from_address=shop.sender_address, holdout_share=0.2,
            )
        return flow_switch(flow_id=flow.pk, on=True)
