"""The import report's cleaning notes read in the reader's language, and none is missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from ingest.note_words import FIELD_LABELS, cleaning_notes_shown, note_text
from ingest.pipeline.rows import DROPPED_IDENTICAL, KEPT_IDENTICAL, ROWS_CLEANED
from tests.ingest.helpers_db import import_bytes

PIPELINE = Path(__file__).resolve().parents[2] / "ingest" / "pipeline"
CJK = re.compile(r"[\u4e00-\u9fff]")
# A note written as a literal in the reader: notes.append("..."), notes["..."] += ...,
# or a Parsed(..., notes=("...",)).
LITERAL_NOTE = re.compile(r'notes(?:\.append\(|\[|=\()f?"([^"]+)"')


def _literal_notes() -> set[str]:
    found = set()
    for path in PIPELINE.glob("*.py"):
        found |= set(LITERAL_NOTE.findall(path.read_text()))
    return found


def test_every_note_the_reader_writes_has_words_in_chinese():
    literals = _literal_notes()
    assert len(literals) >= 20  # the scan itself still finds the reader's notes
    labels = [label for label in FIELD_LABELS]
    examples = set()
    for literal in literals:
        if "{label}" in literal:
            examples |= {literal.replace("{label}", label).replace("{MAX_TEXT}", "200")
                         for label in labels}
        elif "{self.preset" in literal or "{cleaner.preset" in literal:
            examples.add("forward-filled order fields (Shopify)")
        else:
            examples.add(literal)
    untranslated = []
    with translation.override("zh-hans"):
        for note in sorted(examples - {DROPPED_IDENTICAL, KEPT_IDENTICAL}):
            words = note_text(note)
            if words == note or not CJK.search(words):
                untranslated.append(note)
    assert untranslated == []


def test_notes_with_a_field_or_a_number_keep_them():
    with translation.override("zh-hans"):
        assert note_text("shortened product name to 200 characters") == "商品名称 已截短为 200 个字符"
        assert note_text("trimmed email whitespace") == "去掉了邮箱多余的空白"
        assert "Shopify" in note_text("forward-filled order fields (Shopify)")
    with translation.override("en"):
        assert note_text("trimmed email whitespace") == "trimmed email whitespace"
        # a note from a newer reader we have no words for stays as stored
        assert note_text("something new") == "something new"


def test_identical_rows_are_not_listed_as_cleaning():
    shown = cleaning_notes_shown({DROPPED_IDENTICAL: 255, KEPT_IDENTICAL: 3, ROWS_CLEANED: 9,
                                  "lowercased email": 4, "stripped currency symbol": 0})
    assert shown == [("lowercased email", 4)]


@pytest.mark.django_db(transaction=True)
def test_the_report_lists_the_fixes_in_chinese_and_no_duplicate_rows_among_them(owner_client):
    job = import_bytes(
        b"customer_id,order_date,quantity,amount,email\n"
        b"C1,2024-01-05,1,$5.00, Ann@Example.com\n"
        b"C1,2024-01-05,1,$5.00, Ann@Example.com\n"
        b"C2,2024-01-06,2,7.50,bob@example.com\n")
    assert job.cleaning_notes.get(DROPPED_IDENTICAL) == 1

    with translation.override("zh-hans"):
        page = owner_client.get(reverse("import-detail", args=[job.pk]),
                                HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    cleaned = page.split('id="cleaning-notes"')[1].split("</section>")[0]
    assert "去掉了货币符号" in cleaned and "邮箱已改为小写" in cleaned
    assert "stripped" not in cleaned and "duplicate" not in cleaned
