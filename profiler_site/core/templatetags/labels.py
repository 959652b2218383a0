"""`{% trans "Held out" %}{% colon %}{{ n }}`: the colon between a label and its value in
the reader's language ("Held out: 12", "留存组：12"), not a Latin ": " in Chinese."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.simple_tag
def colon() -> str:
    return pgettext("between a label and its value", ": ")
