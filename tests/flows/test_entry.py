from datetime import timedelta
from decimal import Decimal

import pytest

from flows.models import Enrolment, EnrolmentState
from flows.services.triggers import flows_evaluate
from tests.factories import CustomerFactory, OrderFactory
from tests.flows.conftest import T0, make_flow, make_run

pytestmark = pytest.mark.django_db


def test_customers_who_move_into_at_risk_enter_once_and_others_do_not():
    # given
    mover, stayer, new_at_risk, elsewhere = (CustomerFactory() for _ in range(4))
    make_run({mover: "loyal", stayer: "at_risk", elsewhere: "loyal"}, current=False)
    make_run({mover: "at_risk", stayer: "at_risk", new_at_risk: "cant_lose", elsewhere: "lost"})
    flow = make_flow()
    # when
    first = flows_evaluate()
    again = flows_evaluate()
    # then
    entered = set(Enrolment.objects.values_list("customer_id", flat=True))
    assert entered == {mover.pk, new_at_risk.pk}
    assert first[0].entered == 2 and again[0].entered == 0
    row = Enrolment.objects.get(customer=mover)
    assert row.state == EnrolmentState.WAITING
    assert row.due_at == T0 + timedelta(hours=24)
    assert row.entered_version == flow.version == 1


def test_from_keys_limit_entry_to_moves_between_named_segments():
    was_champion, was_loyal = CustomerFactory(), CustomerFactory()
    make_run({was_champion: "champions", was_loyal: "loyal"}, current=False)
    make_run({was_champion: "at_risk", was_loyal: "at_risk"})
    make_flow(trigger_params={"segment_kind": "rfm", "to_keys": ["at_risk"],
                              "from_keys": ["champions"]})
    flows_evaluate()
    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [was_champion.pk]


def test_cluster_moves_are_read_from_the_cluster_column():
    a, b = CustomerFactory(), CustomerFactory()
    make_run({a: ("loyal", "c1"), b: ("loyal", "c2")}, current=False)
    make_run({a: ("loyal", "c2"), b: ("loyal", "c2")})
    make_flow(trigger_params={"segment_kind": "cluster", "to_keys": ["c2"]})
    flows_evaluate()
    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [a.pk]


def test_a_switched_off_flow_enrols_nobody_and_a_first_run_alone_enrols_nobody():
    a = CustomerFactory()
    make_run({a: "at_risk"})
    make_flow()
    assert flows_evaluate()[0].entered == 0  # no earlier run to move from
    make_run({a: "loyal"}, current=False)
    make_flow(on=False)
    assert Enrolment.objects.count() == 0


def test_re_entry_waits_for_the_re_entry_period(fixed_clock):
    a = CustomerFactory()
    make_run({a: "loyal"}, current=False)
    make_run({a: "at_risk"})
    make_flow(reentry_days=30)
    flows_evaluate()
    # the customer recovers and lapses again ten days later: too soon
    make_run({a: "loyal"})
    make_run({a: "at_risk"})
    fixed_clock.set_now(T0 + timedelta(days=10))
    assert flows_evaluate()[0].entered == 0
    make_run({a: "loyal"})
    make_run({a: "at_risk"})
    fixed_clock.set_now(T0 + timedelta(days=31))
    assert flows_evaluate()[0].entered == 1
    assert Enrolment.objects.filter(customer=a).count() == 2


def test_holdout_is_drawn_at_entry_near_the_share_and_stored():
    people = [CustomerFactory() for _ in range(400)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    make_flow(holdout_share=0.25)
    result = flows_evaluate()[0]
    held = Enrolment.objects.filter(holdout=True)
    assert result.entered == 400 and result.held_out == held.count()
    assert 70 <= held.count() <= 130
    assert set(held.values_list("state", flat=True)) == {EnrolmentState.HELD_OUT}
    assert not Enrolment.objects.filter(holdout=False).exclude(state=EnrolmentState.WAITING).exists()


def test_p_alive_below_threshold_enters_once_per_purchase_cycle():
    from segments.models import CustomerScore

    low, high = CustomerFactory(), CustomerFactory()
    run = make_run({low: "at_risk", high: "loyal"})
    for customer, p in ((low, 0.1), (high, 0.9)):
        CustomerScore.objects.create(
            customer=customer, run=run, first_order_at=T0 - timedelta(days=400),
            last_order_at=T0 - timedelta(days=200), recency_days=200, frequency=3, monetary=90,
            avg_order_value=30, tenure_days=400, mean_days_between_orders=100, p_alive=p,
            r_score=1, f_score=3, m_score=3, rfm_key="at_risk", cluster_key="c0")
    make_flow(trigger_kind="p_alive_below", trigger_params={"threshold": 0.3})
    flows_evaluate()
    flows_evaluate()
    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [low.pk]


def test_days_after_first_order_enters_first_time_buyers_only():
    first_timer, repeat = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=first_timer, ordered_at=T0 - timedelta(days=8))
    OrderFactory(customer=repeat, ordered_at=T0 - timedelta(days=60))
    OrderFactory(customer=repeat, ordered_at=T0 - timedelta(days=8))
    make_flow(trigger_kind="after_first_order", trigger_params={"days": 7})
    make_flow(name="Cross-sell", trigger_kind="after_order", trigger_params={"days": 7})
    flows_evaluate()
    welcome = Enrolment.objects.filter(flow__trigger_kind="after_first_order")
    cross = Enrolment.objects.filter(flow__trigger_kind="after_order")
    assert list(welcome.values_list("customer_id", flat=True)) == [first_timer.pk]
    assert sorted(cross.values_list("customer_id", flat=True)) == sorted([first_timer.pk, repeat.pk])


def test_event_without_an_order_enters_and_an_order_after_the_event_keeps_them_out():
    from ingest.models import Event

    abandoned, bought = CustomerFactory(), CustomerFactory()
    for i, customer in enumerate((abandoned, bought)):
        Event.objects.create(customer=customer, type="cart", occurred_at=T0 - timedelta(hours=6),
                             dedupe_key=f"e{i}")
    OrderFactory(customer=bought, ordered_at=T0 - timedelta(hours=5))
    make_flow(trigger_kind="event_no_order", trigger_params={"event_type": "cart", "hours": 4})
    flows_evaluate()
    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [abandoned.pk]


def test_a_return_or_an_order_of_nothing_is_no_order_to_follow_up_or_to_welcome():
    # A return exported as its own order, and a free sample, are no purchase.
    returner, sampled, buyer = CustomerFactory(), CustomerFactory(), CustomerFactory()
    OrderFactory(customer=returner, ordered_at=T0 - timedelta(days=60))
    OrderFactory(customer=returner, ordered_at=T0 - timedelta(days=8), gross_total=Decimal("0"),
                 returned_total=Decimal("50.00"), net_total=Decimal("-50.00"))
    OrderFactory(customer=sampled, ordered_at=T0 - timedelta(days=30), gross_total=Decimal("0"),
                 net_total=Decimal("0"))
    OrderFactory(customer=sampled, ordered_at=T0 - timedelta(days=8))
    OrderFactory(customer=buyer, ordered_at=T0 - timedelta(days=8))
    make_flow(trigger_kind="after_first_order", trigger_params={"days": 7})
    make_flow(name="Cross-sell", trigger_kind="after_order", trigger_params={"days": 7})

    flows_evaluate()

    welcome = Enrolment.objects.filter(flow__trigger_kind="after_first_order")
    cross = Enrolment.objects.filter(flow__trigger_kind="after_order")
    # The sample before it does not make the customer's first purchase a second one.
    assert sorted(welcome.values_list("customer_id", flat=True)) == sorted([sampled.pk, buyer.pk])
    assert sorted(cross.values_list("customer_id", flat=True)) == sorted([sampled.pk, buyer.pk])


def test_a_return_after_a_cart_event_does_not_keep_the_customer_out():
    from ingest.models import Event

    returned = CustomerFactory()
    Event.objects.create(customer=returned, type="cart", occurred_at=T0 - timedelta(hours=6),
                         dedupe_key="e-returned")
    OrderFactory(customer=returned, ordered_at=T0 - timedelta(hours=5), gross_total=Decimal("0"),
                 returned_total=Decimal("50.00"), net_total=Decimal("-50.00"))
    make_flow(trigger_kind="event_no_order", trigger_params={"event_type": "cart", "hours": 4})

    flows_evaluate()

    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [returned.pk]
