"""Punctuation follows the reader's language: a label's colon, lists and sentences."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation


def _rendered(language: str, source: str, **context) -> str:
    with translation.override(language):
        return Template("{% load i18n labels %}" + source).render(Context(context))


def test_a_label_and_its_value_are_joined_by_the_languages_own_colon():
    label = '{% trans "Held out" %}{% colon %}{{ n }}'
    assert _rendered("en", label, n=12) == "Held out: 12"
    assert _rendered("zh-hans", label, n=12) == "对照组：12"


def test_a_list_takes_the_languages_comma_and_its_items_are_escaped():
    names = ["At Risk", "Can't Lose", "<b>x</b>"]
    assert _rendered("en", "{{ names|words }}", names=names) == (
        "At Risk, Can&#x27;t Lose, &lt;b&gt;x&lt;/b&gt;")
    assert _rendered("zh-hans", "{{ names|words }}", names=["流失风险", "不能失去的客户"]) == (
        "流失风险、不能失去的客户")
    assert _rendered("en", "{{ names|words }}", names=[]) == ""


def test_two_sentences_have_a_space_between_them_in_english_and_none_in_chinese():
    source = ('{% blocktrans with n=n asvar first %}{{ n }} &amp; more.{% endblocktrans %}'
              '{% sentences first second %}')
    assert _rendered("en", source, n="<3", second="Then <this>.") == (
        "&lt;3 &amp; more. Then &lt;this&gt;.")
    assert _rendered("zh-hans", source, n=1, second="二。") == "1 &amp; more.二。"
