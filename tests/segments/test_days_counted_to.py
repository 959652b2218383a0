"""Days since a purchase are counted to the analysis' newest order. Read on a later day,
"18 days ago" would be untrue beside the order's own date: the words then name the day
the count ends instead.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from segments import selectors
from segments.models import CustomerScore
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db(transaction=True)


def _shop(newest: datetime) -> CustomerScore:
    """Ten customers; Ann's last order is 18 days before the shop's newest order."""
    product = ProductFactory()
    ann = CustomerFactory(email="ann@example.com")
    for days in (200, 90, 18):
        make_order(ann, newest - timedelta(days=days), [(product, 1, "20.00")])
    for n in range(9):
        other = CustomerFactory()
        for days in range(n + 1):
            make_order(other, newest - timedelta(days=30 * days + n), [(product, 1, "10.00")])
    run_refresh(rules=False)
    return CustomerScore.objects.get(customer=ann)


def test_a_run_counts_days_to_its_newest_order_and_says_so_when_that_is_not_today():
    as_of = datetime(2026, 10, 31, 23, 59, tzinfo=UTC)

    assert selectors.days_counted_to(as_of, today=date(2026, 12, 7)) == date(2026, 10, 31)
    assert selectors.days_counted_to(as_of, today=date(2026, 10, 31)) is None
    assert selectors.days_counted_to(None, today=date(2026, 12, 7)) is None


def test_an_old_export_says_days_before_its_newest_order_not_days_ago(owner, owner_client):
    from profiler_site.core.services import user_language_set

    newest = timezone.now() - timedelta(days=400)
    score = _shop(newest)
    day = newest.date()

    page = html.unescape(owner_client.get(f"/customers/{score.customer_id}/").content.decode())
    why = page.split('id="rfm-why"')[1].split("</p>")[0]
    assert "days ago" not in why
    assert f"18 days before {day.day} {day:%b %Y}" in why
    assert (f"Days are counted to {day.day} {day:%b %Y}, the date of the newest order in your "
            "data.") in page

    listing = html.unescape(owner_client.get("/customers/").content.decode())
    assert f"Days are counted to {day.day} {day:%b %Y}, the date of the newest order" in listing
    segments = html.unescape(owner_client.get("/segments/").content.decode())
    assert f"Days are counted to {day.day} {day:%b %Y}, the date of the newest order" in segments
    segment = html.unescape(
        owner_client.get(f"/segments/rfm/{score.rfm_key}/").content.decode())
    assert f"last order %{{x:.0f}} days before {day.day} {day:%b %Y}" in segment  # the hover

    user_language_set(user=owner, language="zh-hans")
    page = html.unescape(owner_client.get(f"/customers/{score.customer_id}/").content.decode())
    why = page.split('id="rfm-why"')[1].split("</p>")[0]
    assert f"在 {day.year}年{day.month}月{day.day}日之前 18 天" in why


def test_a_current_export_still_says_days_ago(owner_client):
    score = _shop(timezone.now() - timedelta(minutes=5))

    page = html.unescape(owner_client.get(f"/customers/{score.customer_id}/").content.decode())

    assert "18 days ago" in page.split('id="rfm-why"')[1].split("</p>")[0]
    assert "Days are counted to" not in page


@pytest.mark.parametrize(("days", "counted_to", "said"), [
    (1, None, "bought recently, 1 day ago"),
    (18, None, "bought recently, 18 days ago"),
    (1, date(2026, 10, 31), "bought recently, 1 day before 31 Oct 2026"),
    (18, date(2026, 10, 31), "bought recently, 18 days before 31 Oct 2026"),
])
def test_a_note_of_days_says_ago_or_names_the_day_and_counts_one_day_as_one(days, counted_to, said):
    from django.utils import translation

    from segments.analysis.rfm import Note
    from segments.computed_text import note_text

    with translation.override("en"):
        assert note_text(Note(code="bought_recently", params={"days": days}), counted_to) == said
