"""The import report's cleaning notes read in the reader's language, and none is missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import translation

from ingest.models import ImportJob
from ingest.note_words import FIELD_LABELS, cleaning_notes_shown, note_text
from ingest.pipeline.rows import (
    DROPPED_IDENTICAL,
    KEPT_IDENTICAL,
    PARTLY_REFUNDED_UNKNOWN,
    ROWS_CLEANED,
)
from ingest.services.imports import REFUNDS_ABOVE_GOODS
from profiler_site.core.models import JobStatus
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


SHOPIFY_REFUNDS = (
    b"Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem price,Lineitem sku,"
    b"Shipping,Total,Refunded Amount\n"
    # Goods 20.00, refunded 22.45: shipping went back too.
    b"#1,ann@example.com,partially_refunded,2024-03-01 10:00:00 +0100,2,10.00,S1,4.90,24.90,22.45\n"
    b"#2,bob@example.com,paid,2024-03-02 10:00:00 +0100,1,12.00,S2,4.90,16.90,0.00\n"
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "above_goods"), [
    ("en", "orders refunded more than their goods (shipping or tax refunded too): "
           "refund counted down to 0 at most: 1"),
    ("zh-hans", "退款多于商品金额的订单（运费或税款也一并退还）：退款最多抵扣到 0：1"),
])
def test_the_report_says_how_many_refunds_were_cut_at_the_goods(owner_client, language,
                                                                 above_goods):
    job = import_bytes(SHOPIFY_REFUNDS)
    assert job.cleaning_notes[REFUNDS_ABOVE_GOODS] == 1

    with translation.override(language):
        page = owner_client.get(reverse("import-detail", args=[job.pk]),
                                HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert above_goods in re.sub(r"\s+", " ", page.split('id="cleaning-notes"')[1]
                                 .split("</section>")[0])


@pytest.mark.django_db(transaction=True)
def test_an_import_cancelled_mid_way_counts_the_refunds_cut_in_what_it_loaded(settings):
    settings.IMPORT_CHUNK_ROWS = 1

    def cancel_after_the_first_chunk(sender, instance, **kwargs):
        if instance.chunks_done == 1:
            ImportJob.objects.filter(pk=instance.pk).update(cancel_requested=True)

    post_save.connect(cancel_after_the_first_chunk, sender=ImportJob)
    try:
        job = import_bytes(SHOPIFY_REFUNDS)
    finally:
        post_save.disconnect(cancel_after_the_first_chunk, sender=ImportJob)

    assert (job.status, job.chunks_done) == (JobStatus.CANCELLED, 1)
    assert job.cleaning_notes[REFUNDS_ABOVE_GOODS] == 1


PARTLY_REFUNDED = (b"order_id,email,order_date,status,sku,quantity,unit_price\n"
                   b"P1,ann@example.com,2024-03-01,Partially refunded,S1,1,10.00\n"
                   b"P1,ann@example.com,2024-03-01,Partially refunded,S2,1,5.00\n"
                   b"P2,bob@example.com,2024-03-02,Completed,S1,1,10.00\n")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "partly"), [
    ("en", "orders partly refunded, and the file does not say how much: counted in full: 1"),
    ("zh-hans", "部分退款但文件未注明退款金额的订单：按全额计算：1"),
])
def test_the_report_says_how_many_partly_refunded_orders_count_in_full(owner_client, language,
                                                                       partly):
    job = import_bytes(PARTLY_REFUNDED)
    assert job.cleaning_notes[PARTLY_REFUNDED_UNKNOWN] == 1
    assert REFUNDS_ABOVE_GOODS not in job.cleaning_notes

    with translation.override(language):
        page = owner_client.get(reverse("import-detail", args=[job.pk]),
                                HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert partly in re.sub(r"\s+", " ", page.split('id="cleaning-notes"')[1]
                            .split("</section>")[0])
