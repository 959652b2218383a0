"""Which recipients bought within the attribution window, and for how much.

Rules (the page states them next to the numbers):

* An order counts when ``reference < ordered_at <= reference + window_days``.
  An order at exactly the reference instant is excluded: it was placed before the
  email could have been read. An order exactly at the window's end is included.
* Emailed customers are measured from their own ``sent_at``; one whose send
  failed or never happened is measured from the campaign's send start and stays in
  the treatment group (intention to treat: dropping failures would bias the
  comparison towards reachable, i.e. more engaged, customers).
* Held-out customers were never emailed, so they are measured from the campaign's
  send start.
* A conversion is a purchase: an order with something bought in it (``gross_total``
  above 0), as the overview and the profiles count orders. A return or refund exported
  as its own order, or an order of 0.00, converts nobody; its money still counts in
  the revenue, which is net.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from campaigns.analysis.lift import ConversionLift, conversion_lift

TREATMENT = "treatment"
HOLDOUT = "holdout"
GROUPS = (TREATMENT, HOLDOUT)
DEFAULT_WINDOW_DAYS = 7


@dataclass(frozen=True, kw_only=True, slots=True)
class Attribution:
    window_days: int
    # one row per recipient: customer_id, group, reference_at, orders, revenue,
    # converted, first_order_at (+ the segment column when given)
    per_recipient: pd.DataFrame
    # index: group (both always present); recipients, conversions, conversion_rate,
    # revenue, revenue_per_recipient
    summary: pd.DataFrame
    # long format for a chart: day (1..window_days), group, cumulative_conversions,
    # cumulative_rate
    daily: pd.DataFrame
    # same columns as summary, indexed by (segment, group); None without segments
    by_segment: pd.DataFrame | None


def attribute_orders(
    recipients: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    send_started_at: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    segment_column: str | None = "segment",
) -> Attribution:
    """Attribute ``orders`` to ``recipients`` of one campaign.

    ``recipients``: customer_id, group ('treatment' | 'holdout'), optional sent_at,
    optional segment column. ``orders``: customer_id, ordered_at, net_total, and
    gross_total (purchases are the rows above 0; every row when it is absent).
    All timestamps must be timezone-aware.
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    start = _aware_timestamp(send_started_at, "send_started_at")
    _require_columns(recipients, {"customer_id", "group"}, "recipients")
    _require_columns(orders, {"customer_id", "ordered_at", "net_total"}, "orders")
    if recipients["customer_id"].duplicated().any():
        raise ValueError("a customer appears twice among the recipients")
    unknown_groups = set(recipients["group"]) - set(GROUPS)
    if unknown_groups:
        raise ValueError(f"unknown groups: {sorted(map(str, unknown_groups))}")
    has_segments = segment_column is not None and segment_column in recipients.columns

    people = recipients.copy()
    sent_at = (
        _aware_series(people["sent_at"], "recipients.sent_at")
        if "sent_at" in people.columns
        else pd.Series(pd.NaT, index=people.index, dtype=f"datetime64[ns, {start.tz}]")
    )
    is_treated = people["group"] == TREATMENT
    people["reference_at"] = sent_at.where(is_treated & sent_at.notna(), start)

    placed = orders[["customer_id", "ordered_at", "net_total"]].copy()
    placed["ordered_at"] = _aware_series(placed["ordered_at"], "orders.ordered_at")
    # Decimal from the database becomes float: analysis, not bookkeeping.
    placed["net_total"] = placed["net_total"].astype(float)
    placed["purchase"] = (orders["gross_total"].astype(float) > 0 if "gross_total" in orders
                          else True)
    joined = placed.merge(people[["customer_id", "reference_at"]], on="customer_id")
    window = pd.Timedelta(days=window_days)
    in_window = joined[
        (joined["ordered_at"] > joined["reference_at"])
        & (joined["ordered_at"] <= joined["reference_at"] + window)
    ]
    purchases = in_window[in_window["purchase"]]
    per_customer = purchases.groupby("customer_id").agg(
        orders=("ordered_at", "size"), first_order_at=("ordered_at", "min"),
    ).join(in_window.groupby("customer_id").agg(revenue=("net_total", "sum")), how="outer")
    people = people.merge(per_customer, how="left", left_on="customer_id", right_index=True)
    people["orders"] = people["orders"].fillna(0).astype(int)
    people["revenue"] = people["revenue"].fillna(0.0).astype(float)
    people["converted"] = people["orders"] > 0

    columns = [
        "customer_id",
        "group",
        "reference_at",
        "orders",
        "revenue",
        "converted",
        "first_order_at",
    ]
    if has_segments:
        columns.append(segment_column)
    per_recipient = people[columns].reset_index(drop=True)
    return Attribution(
        window_days=window_days,
        per_recipient=per_recipient,
        summary=_summarise(per_recipient, ["group"]).reindex(GROUPS, fill_value=0),
        daily=_daily(per_recipient, window_days),
        by_segment=_summarise(per_recipient, [segment_column, "group"]) if has_segments else None,
    )


def attribution_lift(attribution: Attribution, *, alpha: float = 0.05) -> ConversionLift:
    """The lift analysis for an attribution's two groups."""
    treated = attribution.summary.loc[TREATMENT]
    holdout = attribution.summary.loc[HOLDOUT]
    return conversion_lift(
        treated_n=int(treated["recipients"]),
        treated_conversions=int(treated["conversions"]),
        holdout_n=int(holdout["recipients"]),
        holdout_conversions=int(holdout["conversions"]),
        treated_revenue=float(treated["revenue"]),
        holdout_revenue=float(holdout["revenue"]),
        alpha=alpha,
    )


def _summarise(per_recipient: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    summary = per_recipient.groupby(keys, observed=True).agg(
        recipients=("customer_id", "size"),
        conversions=("converted", "sum"),
        revenue=("revenue", "sum"),
    )
    summary["conversions"] = summary["conversions"].astype(int)
    summary["conversion_rate"] = summary["conversions"] / summary["recipients"]
    summary["revenue_per_recipient"] = summary["revenue"] / summary["recipients"]
    return summary


def _daily(per_recipient: pd.DataFrame, window_days: int) -> pd.DataFrame:
    converters = per_recipient[per_recipient["converted"]]
    elapsed = converters["first_order_at"] - converters["reference_at"]
    # Day 1 is (reference, reference + 24h]; an order at exactly 24h is still day 1.
    day = -(-elapsed // pd.Timedelta(days=1))
    counts = (
        pd.DataFrame({"group": converters["group"], "day": day.astype(int)})
        .groupby(["group", "day"])
        .size()
    )
    index = pd.MultiIndex.from_product([GROUPS, range(1, window_days + 1)], names=["group", "day"])
    cumulative = counts.reindex(index, fill_value=0).groupby(level="group").cumsum()
    sizes = per_recipient.groupby("group").size().reindex(GROUPS, fill_value=0)
    daily = cumulative.rename("cumulative_conversions").reset_index()
    group_sizes = daily["group"].map(sizes)
    daily["cumulative_rate"] = (
        daily["cumulative_conversions"] / group_sizes.where(group_sizes > 0)
    ).fillna(0.0)
    return daily[["day", "group", "cumulative_conversions", "cumulative_rate"]]


def _require_columns(frame: pd.DataFrame, needed: set[str], name: str) -> None:
    missing = needed - set(frame.columns)
    if missing:
        raise ValueError(f"{name} is missing columns: {sorted(missing)}")


def _aware_timestamp(value: datetime, name: str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tz is None:
        raise ValueError(f"{name} must be timezone-aware")
    return stamp


def _aware_series(values: pd.Series, name: str) -> pd.Series:
    if values.isna().all():
        # An empty or all-missing column carries no zone to check; give it UTC.
        return pd.to_datetime(values, utc=True)
    converted = pd.to_datetime(values)
    if converted.dt.tz is None:
        raise ValueError(f"{name} must be timezone-aware")
    return converted
