from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from campaigns.analysis.attribution import attribute_orders, attribution_lift

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def recipients(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "group", "sent_at", "segment"])
    frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
    return frame


def orders(rows):
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "net_total"])


def converted(attribution):
    table = attribution.per_recipient.set_index("customer_id")
    return {cid: bool(flag) for cid, flag in table["converted"].items()}


SENT = START + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("ordered_at", "counts"),
    [
        (SENT - timedelta(seconds=1), False),
        (SENT, False),  # at the send instant: placed before the email could be read
        (SENT + timedelta(seconds=1), True),
        (SENT + 7 * DAY, True),  # the window's last instant is inside
        (SENT + 7 * DAY + timedelta(seconds=1), False),
    ],
)
def test_an_order_counts_only_strictly_after_the_send_and_up_to_the_window_end(ordered_at, counts):
    people = recipients([(1, "treatment", SENT, "a")])

    result = attribute_orders(
        people, orders([(1, ordered_at, Decimal("10.00"))]), send_started_at=START
    )

    assert converted(result) == {1: counts}


def test_the_holdout_is_measured_from_the_campaigns_send_start():
    people = recipients([(1, "holdout", None, "a"), (2, "holdout", None, "a")])
    bought = orders(
        [(1, START + timedelta(minutes=1), 5), (2, START + 7 * DAY + timedelta(minutes=1), 5)]
    )

    result = attribute_orders(people, bought, send_started_at=START)

    assert converted(result) == {1: True, 2: False}


def test_an_emailed_customer_whose_send_failed_is_kept_and_measured_from_the_send_start():
    people = recipients([(1, "treatment", None, "a")])

    result = attribute_orders(
        people, orders([(1, START + timedelta(hours=1), 5)]), send_started_at=START
    )

    assert converted(result) == {1: True}
    assert result.summary.loc["treatment", "recipients"] == 1


def test_revenue_sums_every_order_in_the_window_and_ignores_other_customers():
    people = recipients([(1, "treatment", SENT, "a"), (2, "holdout", None, "a")])
    bought = orders(
        [
            (1, SENT + timedelta(hours=1), Decimal("10.50")),
            (1, SENT + 2 * DAY, Decimal("4.50")),
            (1, SENT + 30 * DAY, Decimal("99.00")),
            (99, SENT + timedelta(hours=1), Decimal("1000.00")),
        ]
    )

    result = attribute_orders(people, bought, send_started_at=START)

    table = result.per_recipient.set_index("customer_id")
    assert table.loc[1, "revenue"] == 15.0
    assert table.loc[1, "orders"] == 2
    assert table.loc[2, "revenue"] == 0.0
    assert result.summary.loc["treatment", "revenue_per_recipient"] == 15.0


def test_cumulative_conversions_per_day_count_each_customer_once_on_their_first_order_day():
    people = recipients(
        [
            (1, "treatment", SENT, "a"),
            (2, "treatment", SENT, "a"),
            (3, "treatment", SENT, "a"),
            (4, "holdout", None, "a"),
            (5, "holdout", None, "a"),
        ]
    )
    bought = orders(
        [
            (1, SENT + timedelta(hours=2), 1),
            (1, SENT + 3 * DAY, 1),  # second order: not a new conversion
            (2, SENT + DAY, 1),  # exactly 24h: still day 1
            (3, SENT + 3 * DAY + timedelta(hours=1), 1),  # day 4
            (4, START + 6 * DAY + timedelta(hours=1), 1),  # day 7
        ]
    )

    daily = attribute_orders(people, bought, send_started_at=START).daily

    treatment = daily[daily["group"] == "treatment"].set_index("day")["cumulative_conversions"]
    holdout = daily[daily["group"] == "holdout"].set_index("day")["cumulative_conversions"]
    assert treatment.tolist() == [2, 2, 2, 3, 3, 3, 3]
    assert holdout.tolist() == [0, 0, 0, 0, 0, 0, 1]
    assert daily[daily["group"] == "holdout"]["cumulative_rate"].iloc[-1] == 0.5


def test_a_longer_window_adds_days_to_the_chart_and_counts_later_orders():
    people = recipients([(1, "treatment", SENT, "a")])
    bought = orders([(1, SENT + 10 * DAY, 1)])

    result = attribute_orders(people, bought, send_started_at=START, window_days=14)

    assert converted(result) == {1: True}
    assert result.daily["day"].max() == 14


def test_results_are_broken_down_by_segment_when_present():
    people = recipients(
        [
            (1, "treatment", SENT, "loyal"),
            (2, "treatment", SENT, "new"),
            (3, "holdout", None, "loyal"),
            (4, "holdout", None, "new"),
        ]
    )
    bought = orders([(1, SENT + DAY, 20), (3, START + DAY, 8)])

    by_segment = attribute_orders(people, bought, send_started_at=START).by_segment

    assert by_segment.loc[("loyal", "treatment"), "conversions"] == 1
    assert by_segment.loc[("loyal", "holdout"), "revenue"] == 8
    assert by_segment.loc[("new", "treatment"), "conversion_rate"] == 0.0


def test_without_a_segment_column_there_is_no_breakdown():
    people = recipients([(1, "treatment", SENT, "a")]).drop(columns=["segment"])

    assert attribute_orders(people, orders([]), send_started_at=START).by_segment is None


def test_no_orders_at_all_gives_zero_conversions_for_both_groups():
    people = recipients([(1, "treatment", SENT, "a"), (2, "holdout", None, "a")])

    summary = attribute_orders(people, orders([]), send_started_at=START).summary

    assert summary["conversions"].tolist() == [0, 0]
    assert summary["recipients"].tolist() == [1, 1]


def test_the_attribution_feeds_the_lift_analysis():
    people = recipients(
        [(cid, "treatment", SENT, "a") for cid in range(100)]
        + [(cid, "holdout", None, "a") for cid in range(100, 150)]
    )
    bought = orders([(cid, SENT + DAY, 10) for cid in range(20)] + [(100, START + DAY, 10)])

    lift = attribution_lift(attribute_orders(people, bought, send_started_at=START))

    assert (lift.treated_n, lift.treated_conversions, lift.holdout_n, lift.holdout_conversions) == (
        100,
        20,
        50,
        1,
    )
    assert lift.treated_revenue_per_recipient == 2.0
    assert lift.holdout_revenue_per_recipient == 0.2


@pytest.mark.parametrize(
    ("people", "purchases", "start"),
    [
        (recipients([(1, "treatment", SENT, "a")]), orders([]), datetime(2025, 3, 1)),
        (recipients([(1, "control", SENT, "a")]), orders([]), START),
        (recipients([(1, "treatment", SENT, "a"), (1, "holdout", None, "a")]), orders([]), START),
        (recipients([(1, "treatment", SENT, "a")]), orders([(1, datetime(2025, 3, 2), 1)]), START),
        (recipients([(1, "treatment", SENT, "a")]), pd.DataFrame({"customer_id": [1]}), START),
    ],
)
def test_naive_times_unknown_groups_duplicates_and_missing_columns_are_refused(
    people, purchases, start
):
    with pytest.raises(ValueError):
        attribute_orders(people, purchases, send_started_at=start)
