"""Punctuation in the reader's language: the colon between a label and its value
(`{% trans "Held out" %}{% colon %}{{ n }}`: "Held out: 12", "留存组：12"), lists and
sentences one after the other."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from profiler_site.core.joins import JOIN_SENTENCES, JOIN_WORDS, join

register = template.Library()


@register.simple_tag
def colon() -> str:
    return pgettext("between a label and its value", ": ")


# Each part is escaped unless already safe (blocktrans asvar output is), then the whole
# is marked safe: the join templates themselves hold no markup.
@register.filter
def words(items) -> str:
    """`{{ names|words }}`: a list in the reader's way, "a, b" or "a、b"."""
    return mark_safe(join(JOIN_WORDS, [conditional_escape(item) for item in items]))


@register.simple_tag
def sentences(*parts: str) -> str:
    """`{% sentences first second %}`: whole sentences one after the other, a space
    between them in English and none in Chinese (parts made with blocktrans asvar)."""
    return mark_safe(join(JOIN_SENTENCES, [conditional_escape(p) for p in parts if p]))
