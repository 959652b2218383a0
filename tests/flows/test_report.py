from datetime import timedelta
from decimal import Decimal

import pytest

from flows.charts import weeks_chart
from flows.models import Enrolment
from flows.selectors import flow_list, flow_preview, flow_stats
from flows.services.triggers import flows_evaluate
from tests.factories import CustomerFactory, OrderFactory, make_free_order, make_return_order
from tests.flows.conftest import T0, make_flow, make_run

pytestmark = pytest.mark.django_db


def _entered(n: int, share: float, name: str = "Win back"):
    people = [CustomerFactory() for _ in range(n)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    flow = make_flow(name=name, holdout_share=share, conversion_window_days=14)
    flows_evaluate(flow_ids=[flow.pk])
    return flow, list(Enrolment.objects.filter(flow=flow, holdout=False)), list(
        Enrolment.objects.filter(flow=flow, holdout=True))


def test_report_counts_orders_within_the_window_after_entry_to_the_cent():
    flow, treated, held = _entered(200, 0.3)
    # every treated entrant buys once for 10.01 inside the window; one held-out does too
    for e in treated:
        OrderFactory(customer=e.customer, ordered_at=T0 + timedelta(days=3),
                     net_total=Decimal("10.01"))
    OrderFactory(customer=held[0].customer, ordered_at=T0 + timedelta(days=3),
                 net_total=Decimal("10.01"))
    # outside the window, before entry, or cancelled: not counted
    OrderFactory(customer=held[1].customer, ordered_at=T0 + timedelta(days=15))
    OrderFactory(customer=held[2].customer, ordered_at=T0 - timedelta(days=1))
    OrderFactory(customer=held[3].customer, ordered_at=T0 + timedelta(days=1), is_cancelled=True)
    stats = flow_stats(flow)
    assert stats.entered == 200 and stats.held_out == len(held)
    assert stats.treated.conversions == len(treated)
    assert stats.treated.revenue == Decimal("10.01") * len(treated)
    assert stats.treated.revenue_per_entrant == Decimal("10.01")
    assert stats.holdout.conversions == 1
    assert stats.lift.significant and stats.lift.absolute_lift_ci_points.low > 0
    assert stats.earned == ((Decimal("10.01") - (Decimal("10.01") / len(held)).quantize(
        Decimal("0.01"))) * len(treated)).quantize(Decimal("0.01"))
    assert not stats.may_cost_sales
    assert len(stats.weeks) == 1 and stats.weeks[0].treated.entrants == len(treated)
    chart = weeks_chart(stats.weeks, "EUR")
    assert chart["layout"]["yaxis"]["title"]["text"] == "Revenue per entrant EUR"
    assert chart["data"][0]["y"] == [10.01]


def test_a_return_or_an_order_of_nothing_after_entry_is_no_conversion_but_its_money_counts():
    flow, treated, _held = _entered(40, 0.25)
    # one entrant only sends something back within the window, another gets an order of 0.00
    make_return_order(treated[0].customer, T0 + timedelta(days=2), "30.00")
    make_free_order(treated[1].customer, T0 + timedelta(days=3))

    stats = flow_stats(flow)

    assert stats.treated.conversions == 0
    assert stats.treated.revenue == Decimal("-30.00")


def test_the_list_ranks_by_earnings_and_flags_a_flow_that_costs_sales():
    _good, good_t, _ = _entered(200, 0.3, name="Good")
    _bad, _bad_t, bad_h = _entered(200, 0.3, name="Bad")
    for e in good_t:
        OrderFactory(customer=e.customer, ordered_at=T0 + timedelta(days=2))
    for e in bad_h:  # the held-out buy, the emailed do not
        OrderFactory(customer=e.customer, ordered_at=T0 + timedelta(days=2))
    rows = flow_list()
    assert [r.flow.name for r in rows] == ["Good", "Bad"]
    assert rows[1].stats.may_cost_sales and not rows[0].stats.may_cost_sales
    assert rows[1].stats.earned < 0 < rows[0].stats.earned


def test_preview_shows_who_would_have_entered_in_30_days_without_enrolling_anyone(fixed_clock):
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    fixed_clock.set_now(T0 - timedelta(days=40))
    make_run({a: "loyal", b: "at_risk", c: "loyal"}, current=False)
    make_run({a: "loyal", b: "at_risk", c: "at_risk"})  # c moved 40 days ago: too long ago
    fixed_clock.set_now(T0 - timedelta(days=10))
    make_run({a: "at_risk", b: "at_risk", c: "at_risk"})  # a moved 10 days ago
    fixed_clock.set_now(T0)
    make_run({a: "at_risk", b: "at_risk", c: "at_risk"})  # nobody moved in the latest run
    flow = make_flow(on=False)
    preview = flow_preview(flow)
    assert preview.count == 1 and [x.pk for x in preview.sample] == [a.pk]
    assert Enrolment.objects.count() == 0
