"""The colon between a label and its value follows the reader's language."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation


def _rendered(language: str) -> str:
    with translation.override(language):
        return Template('{% load i18n labels %}{% trans "Held out" %}{% colon %}{{ n }}').render(
            Context({"n": 12}))


def test_a_label_and_its_value_are_joined_by_the_languages_own_colon():
    assert _rendered("en") == "Held out: 12"
    assert _rendered("zh-hans") == "对照组：12"
