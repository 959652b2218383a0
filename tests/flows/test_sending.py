from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaigns.models import Recipient, RecipientStatus, Suppression, SuppressionReason
from flows.models import Enrolment, EnrolmentState, SkipReason
from flows.services.flows import flow_switch, flow_update
from flows.services.sending import flows_hand_over, in_sending_window
from flows.services.triggers import flows_evaluate
from ingest.services.privacy import customer_erase
from profiler_site.core.audit import Actor
from segments.models import SegmentLabel
from tests.campaigns.conftest import html_part
from tests.factories import CustomerFactory, OrderFactory
from tests.flows.conftest import T0, make_flow, make_run, run_queued_sends

pytestmark = pytest.mark.django_db


def enter(n: int, **flow_fields):
    people = [CustomerFactory() for _ in range(n)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    flow = make_flow(**flow_fields)
    flows_evaluate()
    return flow, people


def test_nobody_is_emailed_before_the_wait_is_over(fixed_clock, smtp_server):
    enter(3)
    fixed_clock.set_now(T0 + timedelta(hours=23, minutes=59))
    assert flows_hand_over().emailed == 0
    assert run_queued_sends() == [] and smtp_server.messages == []


def test_after_the_wait_each_entrant_gets_one_email_through_the_outbox(fixed_clock, smtp_server):
    flow, people = enter(3)
    fixed_clock.set_now(T0 + timedelta(hours=24))
    assert flows_hand_over().emailed == 3
    assert flows_hand_over().emailed == 0  # handed over once
    run_queued_sends()
    received = Counter(smtp_server.handler.received_to())
    assert received == Counter({c.email: 1 for c in people})
    message = smtp_server.messages[0]
    # the campaigns outbox's guarantees: RFC 8058 one-click unsubscribe, tracked links
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://shop.example.com/" in message["List-Unsubscribe"]
    assert "beans.example" not in html_part(message).split("href=")[1][:60]
    assert message["Subject"].startswith("We miss you, First")
    rows = Enrolment.objects.filter(flow=flow)
    assert set(rows.values_list("state", flat=True)) == {EnrolmentState.EMAILED}
    assert set(rows.values_list("sent_version", flat=True)) == {1}
    assert set(rows.values_list("recipient__status", flat=True)) == {RecipientStatus.SENT}


def test_holdout_entrants_are_never_emailed(fixed_clock, smtp_server):
    _flow, _people = enter(60, holdout_share=0.3)
    held = set(Enrolment.objects.filter(holdout=True).values_list("customer__email", flat=True))
    assert held
    fixed_clock.set_now(T0 + timedelta(days=2))
    flows_hand_over()
    run_queued_sends()
    received = set(smtp_server.handler.received_to())
    assert not received & held
    assert len(received) == 60 - len(held)


@pytest.mark.parametrize("what", ["orders", "unsubscribes", "is erased", "cancelled order only",
                                  "return only", "order of 0.00 only"])
def test_a_customer_who_changes_between_entry_and_send_gets_nothing(what, fixed_clock,
                                                                    smtp_server):
    _flow, (changed, other) = enter(2)
    if what == "orders":
        OrderFactory(customer=changed, ordered_at=T0 + timedelta(hours=2))
    elif what == "unsubscribes":
        Suppression.objects.create(email=changed.email.lower(),
                                   reason=SuppressionReason.UNSUBSCRIBED)
    elif what == "is erased":
        customer_erase(customer_id=changed.pk, actor=Actor(name="test"))
    elif what == "return only":  # a return exported as its own order is no purchase either
        OrderFactory(customer=changed, ordered_at=T0 + timedelta(hours=2),
                     gross_total=Decimal("0.00"), returned_total=Decimal("9.50"),
                     net_total=Decimal("-9.50"))
    elif what == "order of 0.00 only":
        OrderFactory(customer=changed, ordered_at=T0 + timedelta(hours=2),
                     gross_total=Decimal("0.00"), net_total=Decimal("0.00"))
    else:  # a cancelled order is no purchase: still emailed
        OrderFactory(customer=changed, ordered_at=T0 + timedelta(hours=2), is_cancelled=True)
    fixed_clock.set_now(T0 + timedelta(hours=25))
    flows_hand_over()
    run_queued_sends()
    received = set(smtp_server.handler.received_to())
    row = Enrolment.objects.get(customer=changed)
    if what in ("cancelled order only", "return only", "order of 0.00 only"):
        assert received == {changed.email, other.email}
        return
    assert received == {other.email}
    expected = {"orders": SkipReason.ORDERED, "unsubscribes": SkipReason.UNSUBSCRIBED,
                "is erased": SkipReason.ERASED}[what]
    assert (row.state, row.skip_reason) == (EnrolmentState.SKIPPED, expected)


def test_a_flow_edited_while_people_wait_sends_the_new_version_and_records_it(fixed_clock,
                                                                              smtp_server):
    flow, _people = enter(2)
    flow_update(flow_id=flow.pk, subject="Fresh beans for you", wait_hours=30)
    fixed_clock.set_now(T0 + timedelta(hours=25))
    assert flows_hand_over().emailed == 0  # the new wait applies to those waiting
    fixed_clock.set_now(T0 + timedelta(hours=30))
    flows_hand_over()
    run_queued_sends()
    assert {m["Subject"] for m in smtp_server.messages} == {"Fresh beans for you"}
    rows = Enrolment.objects.filter(flow=flow)
    assert set(rows.values_list("entered_version", "sent_version")) == {(1, 2)}
    assert flow.versions.get(number=1).subject.startswith("We miss you")


def test_a_flow_switched_off_stops_its_pending_sends(fixed_clock, smtp_server):
    flow, _people = enter(3)
    flow_switch(flow_id=flow.pk, on=False)
    fixed_clock.set_now(T0 + timedelta(days=2))
    flows_hand_over()
    run_queued_sends()
    assert smtp_server.messages == []
    assert set(Enrolment.objects.values_list("skip_reason", flat=True)) == {SkipReason.FLOW_OFF}


def test_a_renamed_trigger_segment_still_triggers_and_one_that_disappears_enrols_nobody():
    a, b = CustomerFactory(), CustomerFactory()
    make_run({a: ("loyal", "c1"), b: ("loyal", "c1")}, current=False)
    SegmentLabel.objects.create(kind="cluster", key="c2", name="Lapsed espresso fans")
    make_run({a: ("loyal", "c2"), b: ("loyal", "c1")})
    flow = make_flow(trigger_params={"segment_kind": "cluster", "to_keys": ["c2"]})
    assert flows_evaluate()[0].entered == 1
    # next run: cluster c2 is gone (k changed); nobody enters, nothing breaks
    make_run({a: ("loyal", "c1"), b: ("loyal", "c3")})
    assert flows_evaluate()[0].entered == 0
    assert Enrolment.objects.filter(flow=flow).count() == 1


def test_outside_the_sending_window_people_wait_for_it(fixed_clock, smtp_server, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    _flow, _people = enter(2, window_start_hour=9, window_end_hour=18)
    fixed_clock.set_now(datetime(2026, 10, 6, 17, 0, tzinfo=UTC))  # 19:00 in Berlin
    assert flows_hand_over().emailed == 0
    fixed_clock.set_now(datetime(2026, 10, 7, 6, 59, tzinfo=UTC))  # 08:59
    assert flows_hand_over().emailed == 0
    fixed_clock.set_now(datetime(2026, 10, 7, 7, 0, tzinfo=UTC))  # 09:00
    assert flows_hand_over().emailed == 2


@pytest.mark.parametrize(("instant", "inside"), [
    # 29 March 2026, Berlin springs from +01:00 to +02:00 at 01:00 UTC
    (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), True),    # 09:00 CEST: opens
    (datetime(2026, 3, 29, 6, 59, tzinfo=UTC), False),  # 08:59 CEST (a fixed +1 said 07:59)
    (datetime(2026, 3, 29, 15, 59, tzinfo=UTC), True),  # 17:59 CEST
    (datetime(2026, 3, 29, 16, 0, tzinfo=UTC), False),  # 18:00 CEST: closed (+1 said 17:00)
    # 25 October 2026, back to +01:00 at 01:00 UTC
    (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), True),   # 09:00 CET
    (datetime(2026, 10, 25, 7, 30, tzinfo=UTC), False),  # 08:30 CET (a fixed +2 said 09:30)
    (datetime(2026, 10, 25, 16, 59, tzinfo=UTC), True),  # 17:59 CET
])
def test_the_window_follows_the_shops_clock_across_daylight_saving(instant, inside):
    flow = make_flow(window_start_hour=9, window_end_hour=18, on=False)
    assert in_sending_window(flow, now=instant, time_zone="Europe/Berlin") is inside


def test_a_customer_who_re_enters_gets_a_second_email(fixed_clock, smtp_server):
    flow, (person,) = enter(1)
    flow_update(flow_id=flow.pk, reentry_days=5)
    fixed_clock.set_now(T0 + timedelta(days=1))
    flows_hand_over()
    make_run({person: "loyal"})
    make_run({person: "at_risk"})
    fixed_clock.set_now(T0 + timedelta(days=6))
    assert flows_evaluate()[0].entered == 1
    fixed_clock.set_now(T0 + timedelta(days=7))
    flows_hand_over()
    run_queued_sends()
    assert smtp_server.handler.received_to() == [person.email, person.email]
    assert Recipient.objects.filter(customer=person).values("campaign").distinct().count() == 2


def test_handed_over_but_unsent_emails_are_withdrawn_when_the_flow_is_switched_off(
        fixed_clock, smtp_server):
    flow, _people = enter(3)
    fixed_clock.set_now(T0 + timedelta(days=1))
    assert flows_hand_over().emailed == 3  # in the outbox; the sender has not run yet
    flow_switch(flow_id=flow.pk, on=False)
    run_queued_sends()
    assert smtp_server.messages == []
    assert set(Enrolment.objects.values_list("state", "skip_reason")) == {
        (EnrolmentState.SKIPPED, SkipReason.FLOW_OFF)}


def test_a_customer_who_orders_after_hand_over_but_before_the_send_gets_nothing(
        fixed_clock, smtp_server):
    _flow, (buyer, other) = enter(2)
    fixed_clock.set_now(T0 + timedelta(days=1))
    flows_hand_over()
    OrderFactory(customer=buyer, ordered_at=T0 + timedelta(days=1, minutes=1))
    from ingest.signals import import_finished

    import_finished.send(sender=None, job_id=0, kind="orders")  # what an import announces
    run_queued_sends()
    assert smtp_server.handler.received_to() == [other.email]
    row = Enrolment.objects.get(customer=buyer)
    assert (row.state, row.skip_reason) == (EnrolmentState.SKIPPED, SkipReason.ORDERED)


def test_erasing_a_waiting_customer_skips_them_at_once_and_their_archive_lists_their_flows():
    from ingest.services.privacy import customer_archive_parts

    flow, (person, other) = enter(2)
    parts = {p.name: p for p in customer_archive_parts(customer_id=other.pk)}
    rows = list(parts["flows.csv"].rows)
    assert parts["flows.csv"].header[0] == "flow_name"
    assert rows and rows[0][0] == flow.name
    customer_erase(customer_id=person.pk, actor=Actor(name="test"))
    row = Enrolment.objects.get(customer=person)
    assert (row.state, row.skip_reason) == (EnrolmentState.SKIPPED, SkipReason.ERASED)


def test_a_flow_campaign_paused_on_its_campaign_page_stays_paused(fixed_clock, smtp_server):
    from campaigns.models import Campaign, CampaignStatus
    from campaigns.services.campaigns import campaign_pause

    flow, _people = enter(2)
    fixed_clock.set_now(T0 + timedelta(days=1))
    flows_hand_over()
    campaign = Campaign.objects.get(flow_link__flow=flow)
    campaign_pause(campaign_id=campaign.pk)
    run_queued_sends()
    fixed_clock.set_now(T0 + timedelta(days=1, minutes=1))
    flows_hand_over()  # the next beat tick must not undo the owner's pause
    run_queued_sends()
    assert smtp_server.messages == []
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED


def test_on_the_day_clocks_go_forward_the_window_opens_at_nine_local_time(
        fixed_clock, smtp_server, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    fixed_clock.set_now(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    enter(2, window_start_hour=9, window_end_hour=18)
    # 29 March 2026: 06:30 UTC is 08:30 CEST (a fixed +01:00 would call it 07:30, closed
    # either way); 07:30 UTC is 09:30 CEST, open (a fixed +01:00 would say 08:30, closed)
    fixed_clock.set_now(datetime(2026, 3, 29, 6, 30, tzinfo=UTC))
    assert flows_hand_over().emailed == 0
    fixed_clock.set_now(datetime(2026, 3, 29, 7, 30, tzinfo=UTC))
    assert flows_hand_over().emailed == 2


def test_a_flow_email_held_back_by_the_weekly_limit_is_reported_as_skipped(fixed_clock,
                                                                           smtp_server):
    from django.utils import translation

    from flows.selectors import flow_stats
    from tests.campaigns.conftest import make_campaign, run_send_inline
    from tests.campaigns.test_frequency_cap import set_weekly_cap

    flow, people = enter(3)
    set_weekly_cap(1)
    run_send_inline(make_campaign(holdout_share=0))  # this week's one email, to all three
    assert len(smtp_server.messages) == 3
    fixed_clock.set_now(T0 + timedelta(days=2))

    assert flows_hand_over().emailed == 3  # handed over; the outbox holds them back
    run_queued_sends()

    assert len(smtp_server.messages) == 3
    stats = flow_stats(flow)
    assert (stats.emailed, stats.skipped) == (0, {"frequency_cap": 3})
    with translation.override("en"):
        assert stats.skipped_rows == [("Reached the weekly limit of marketing emails", 3)]
