"""Conversions and lift, checked by hand on a campaign with orders placed after the send."""

from __future__ import annotations

import html as html_lib
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse

from campaigns.models import Campaign, Recipient, RecipientGroup
from campaigns.selectors import campaign_report
from tests.campaigns.conftest import make_campaign, make_customers, run_send_inline
from tests.factories import OrderFactory, make_free_order, make_return_order

pytestmark = pytest.mark.django_db


def fisher_two_sided(x_treated: int, n_treated: int, x_holdout: int, n_holdout: int) -> float:
    """Hypergeometric by hand: sum of tables no more likely than the observed one."""
    buyers, total = x_treated + x_holdout, n_treated + n_holdout

    def prob(k: int) -> float:  # k buyers in the holdout
        return math.comb(n_holdout, k) * math.comb(n_treated, buyers - k) / math.comb(total, buyers)

    observed = prob(x_holdout)
    ks = range(max(0, buyers - n_treated), min(buyers, n_holdout) + 1)
    return sum(prob(k) for k in ks if prob(k) <= observed * (1 + 1e-7))


def _sent_days_ago(campaign: Campaign, days: float) -> None:
    shift = timedelta(days=days)
    Campaign.objects.filter(pk=campaign.pk).update(send_started_at=F("send_started_at") - shift)
    Recipient.objects.filter(campaign=campaign, sent_at__isnull=False).update(
        sent_at=F("sent_at") - shift)


@pytest.fixture
def measured(smtp_server, settings):
    settings.CAMPAIGN_TRACK_OPENS = True
    make_customers(40)
    campaign = make_campaign(holdout_share=0.10)  # 36 emailed, 4 held out
    run_send_inline(campaign)
    _sent_days_ago(campaign, 10)  # the whole 7-day window has passed
    campaign = Campaign.objects.get(pk=campaign.pk)
    treated = list(Recipient.objects.filter(campaign=campaign, group=RecipientGroup.TREATMENT)
                   .select_related("customer").order_by("id"))
    held = list(Recipient.objects.filter(campaign=campaign, group=RecipientGroup.HOLDOUT)
                .select_related("customer").order_by("id"))
    start = campaign.send_started_at
    # 9 emailed customers buy within the week, one of them twice
    for i, r in enumerate(treated[:9]):
        OrderFactory(customer=r.customer, ordered_at=r.sent_at + timedelta(days=1 + i % 5),
                     net_total=Decimal("50.00"))
    OrderFactory(customer=treated[0].customer, ordered_at=treated[0].sent_at + timedelta(days=6),
                 net_total=Decimal("20.00"))
    # not counted: after the window, and before the email
    OrderFactory(customer=treated[10].customer, ordered_at=treated[10].sent_at + timedelta(days=8))
    OrderFactory(customer=treated[11].customer, ordered_at=start - timedelta(days=1))
    # held out: nobody buys within the window, one buys too late
    OrderFactory(customer=held[0].customer, ordered_at=start + timedelta(days=9))
    return campaign


def test_the_report_counts_conversions_and_revenue_per_group_as_computed_by_hand(measured):
    report = campaign_report(measured)

    treatment, holdout = report.groups
    assert (treatment.recipients, treatment.conversions) == (36, 9)
    assert treatment.conversion_rate == pytest.approx(0.25)
    assert treatment.revenue == pytest.approx(470.0)  # 9 x 50 + 20
    assert treatment.revenue_per_recipient == pytest.approx(470 / 36)
    assert (holdout.recipients, holdout.conversions, holdout.revenue) == (4, 0, 0.0)
    assert (report.sent, report.failed, report.unknown, report.pending) == (36, 0, 0, 0)


def test_a_return_or_an_order_of_nothing_in_the_window_is_no_conversion_but_its_money_counts(
        measured):
    # given: within the week, one held-out customer only sends something back and another
    # gets an order of 0.00; neither is a purchase on the overview or their profile
    held = list(Recipient.objects.filter(campaign=measured, group=RecipientGroup.HOLDOUT)
                .select_related("customer").order_by("id"))
    start = measured.send_started_at
    make_return_order(held[1].customer, start + timedelta(days=2), "30.00")
    make_free_order(held[2].customer, start + timedelta(days=3))

    # when
    report = campaign_report(measured)

    # then
    holdout = report.groups[1]
    assert (holdout.recipients, holdout.conversions, holdout.revenue) == (4, 0, -30.0)
    assert report.chart["data"][1]["customdata"] == [0] * 7


def test_the_audiences_buying_rate_counts_purchases_as_the_report_does():
    from datetime import UTC, datetime

    from campaigns.selectors import audience_summary

    # given: within the last week one customer buys, one only sends something back and
    # one gets an order of 0.00
    buyer, returner, free, *_rest = make_customers(10)
    day = datetime(2026, 9, 30, 12, tzinfo=UTC)
    OrderFactory(customer=buyer, ordered_at=day)
    make_return_order(returner, day)
    make_free_order(free, day)

    # then: 1 buyer-week in 8 weeks of 10 customers
    assert audience_summary(kind="all", key="all").baseline_rate == pytest.approx(1 / 80)


def test_the_lift_has_a_named_test_a_confidence_interval_and_a_small_sample_warning(measured):
    lift = campaign_report(measured).lift

    assert lift.absolute_lift_points == pytest.approx(25.0)
    assert lift.test_name == "Fisher's exact test"  # expected cells below 5
    assert lift.p_value == pytest.approx(fisher_two_sided(9, 36, 0, 4), rel=1e-6)
    assert lift.absolute_lift_ci_points.low < 25 < lift.absolute_lift_ci_points.high
    assert lift.relative_lift is None  # nobody held out bought: the ratio is undefined
    assert lift.small_sample
    assert campaign_report(measured).small_sample_warning.startswith("Small sample")


def test_the_chart_shows_cumulative_conversions_per_day_for_both_groups(measured):
    chart = campaign_report(measured).chart

    emailed, held = chart["data"]
    assert emailed["x"] == [1, 2, 3, 4, 5, 6, 7]
    # first purchases on days 1..5 (i % 5 + 1), two per day for days 1-4, one on day 5
    assert emailed["customdata"] == [2, 4, 6, 8, 9, 9, 9]
    assert emailed["y"][-1] == pytest.approx(25.0)
    assert held["customdata"] == [0] * 7
    # y holds percentages: ticks read "20%", and a report where nobody bought yet shows
    # "0.4%", not a bare "0.4" under a "%" title
    assert chart["layout"]["yaxis"]["ticksuffix"] == "%"


def test_the_chart_draws_only_the_days_that_have_begun(smtp_server):
    make_customers(20)
    campaign = make_campaign(holdout_share=0.2)
    run_send_inline(campaign)
    _sent_days_ago(campaign, 2.5)  # days 1 and 2 are over, day 3 has begun

    emailed, held = campaign_report(Campaign.objects.get(pk=campaign.pk)).chart["data"]

    assert emailed["x"] == held["x"] == [1, 2, 3]


def test_the_report_page_shows_the_numbers_the_test_and_the_opens_caveat(owner_client, measured):
    page = html_lib.unescape(
        owner_client.get(reverse("campaign-report", args=[measured.pk])).content.decode()
    )

    assert "Fisher's exact test" in page
    assert page.count("Share who bought") == 2  # the by-segment table's two rate columns
    assert "25.0%" in page and "470.00" in page
    assert "Opens are unreliable" in page
    assert "Small sample" in page
    assert "vendor/plotly/plotly.min.js" in page and 'id="conversion-chart-data"' in page


def test_the_report_follows_new_orders_after_an_import(measured):
    before = campaign_report(measured).groups[1].conversions
    held = Recipient.objects.filter(campaign=measured, group=RecipientGroup.HOLDOUT).first()
    OrderFactory(customer=held.customer, ordered_at=measured.send_started_at + timedelta(days=2))

    after = campaign_report(measured).groups[1].conversions

    assert (before, after) == (0, 1)
    assert campaign_report(measured).lift.relative_lift == pytest.approx((9 / 36) / (1 / 4) - 1)


def test_clicks_opens_and_unsubscribes_are_counted_in_the_report(client, measured, smtp_server):
    import re

    message = smtp_server.messages[0]
    body = message.get_body(preferencelist=("html",)).get_content()
    client.get(re.search(r"https://shop\.example\.com(/t/c/[^\"]+)", body).group(1))
    client.get(re.search(r"https://shop\.example\.com(/t/o/[^\"]+)", body).group(1))
    client.post(message["List-Unsubscribe"].strip("<>").replace("https://shop.example.com", ""))

    report = campaign_report(measured)

    assert (report.clicked, report.opened, report.unsubscribed) == (1, 1, 1)
