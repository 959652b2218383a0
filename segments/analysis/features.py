"""Per-customer behavioural features computed from orders.

This pandas version is the reference implementation. The database version aggregates
the same numbers in SQL and must use the same column names and definitions:

Input ``orders``: one row per order (rows sharing an ``order_id`` are summed, so line
level frames also work) with ``customer_id``, ``order_id``, ``ordered_at``,
``net_total`` (net of returns) and optionally ``returned_total`` (>= 0) and
``gross_total`` (what was bought before returns and refunds; ``net_total +
returned_total`` when absent).

A *purchase* is an order whose gross value is positive. A return or refund exported
as an order of its own (gross 0, net negative) is not a purchase: it only nets money.
A customer who bought once and sent it back has 1 order and 0 spend, not 2 orders.

Only orders with ``ordered_at <= as_of`` count; ``as_of`` defaults to the newest order.
Day counts are fractional: ``(later - earlier).total_seconds() / 86400``
(SQL: ``EXTRACT(EPOCH FROM later - earlier) / 86400``).

| column | definition |
|---|---|
| ``recency_days`` | ``as_of - max(ordered_at)`` of purchases in days (of any order when there is no purchase) |
| ``frequency`` | number of purchases (orders with ``gross_total > 0``); 0 for returns only |
| ``monetary`` | ``SUM(net_total)`` over all orders, returns and refunds included |
| ``avg_order_value`` | ``monetary / max(frequency, 1)`` |
| ``tenure_days`` | ``as_of - min(ordered_at)`` of purchases in days (of any order when there is no purchase) |
| ``mean_days_between_orders`` | ``(max - min ordered_at of purchases) / (frequency - 1)`` in days; NaN when frequency < 2 |
| ``return_rate`` | ``SUM(returned_total) / (SUM(net_total) + SUM(returned_total))``; 0 when that gross is 0 or ``returned_total`` is absent |

The index is ``customer_id``, sorted ascending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Non-negative, skewed numbers that behave well after log1p + standardisation.
# ``monetary`` is left out on purpose: it equals frequency x avg_order_value, so in
# log space it would only double the weight of spend. Pages still show it.
FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "avg_order_value",
    "tenure_days",
)

ALL_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "mean_days_between_orders",
    "return_rate",
)

_SECONDS_PER_DAY = 86_400.0


def align_timestamp(moment: pd.Timestamp | str, like: pd.Series) -> pd.Timestamp:
    """Return ``moment`` in the same timezone awareness as the datetime series ``like``.

    Mixing naive and aware values would raise deep inside pandas; failing here names
    the problem instead of guessing a timezone.
    """
    ts = pd.Timestamp(moment)
    series_tz = getattr(like.dt, "tz", None)
    if series_tz is not None and ts.tzinfo is None:
        raise ValueError("orders.ordered_at is timezone-aware but the given time is naive")
    if series_tz is None and ts.tzinfo is not None:
        raise ValueError("orders.ordered_at is naive but the given time is timezone-aware")
    return ts.tz_convert(series_tz) if series_tz is not None else ts


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / _SECONDS_PER_DAY


def customer_features(orders: pd.DataFrame, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Compute the feature table defined in the module docstring."""
    if as_of is None:
        if orders.empty:
            return pd.DataFrame(columns=list(ALL_COLUMNS), index=pd.Index([], name="customer_id"))
        as_of = orders["ordered_at"].max()
    as_of = align_timestamp(as_of, orders["ordered_at"])
    orders = orders.loc[orders["ordered_at"] <= as_of]

    if "returned_total" not in orders.columns:
        orders = orders.assign(returned_total=0.0)
    if "gross_total" not in orders.columns:
        orders = orders.assign(gross_total=orders["net_total"] + orders["returned_total"])
    per_order = orders.groupby(["customer_id", "order_id"], sort=False).agg(
        ordered_at=("ordered_at", "min"),
        net_total=("net_total", "sum"),
        returned_total=("returned_total", "sum"),
        gross_total=("gross_total", "sum"),
    )
    # Purchase times only from purchases; NaT (no purchase at all) falls back below.
    purchase_at = per_order["ordered_at"].where(per_order["gross_total"] > 0)
    per_order = per_order.assign(purchase_at=purchase_at, purchase=purchase_at.notna())

    per_customer = per_order.groupby(level="customer_id").agg(
        first=("purchase_at", "min"),
        last=("purchase_at", "max"),
        first_any=("ordered_at", "min"),
        last_any=("ordered_at", "max"),
        frequency=("purchase", "sum"),
        monetary=("net_total", "sum"),
        returned=("returned_total", "sum"),
    )
    first = per_customer["first"].fillna(per_customer["first_any"])
    last = per_customer["last"].fillna(per_customer["last_any"])
    frequency = per_customer["frequency"].astype("int64")
    span_days = _days(last - first)
    gross = per_customer["monetary"] + per_customer["returned"]

    features = pd.DataFrame(
        {
            "recency_days": _days(as_of - last),
            "frequency": frequency,
            "monetary": per_customer["monetary"].astype(float),
            "avg_order_value": per_customer["monetary"] / frequency.clip(lower=1),
            "tenure_days": _days(as_of - first),
            "mean_days_between_orders": (span_days / (frequency - 1)).where(frequency > 1),
            "return_rate": np.where(
                gross > 0, per_customer["returned"] / gross.where(gross > 0), 0.0
            ),
        },
        index=per_customer.index,
    )
    features.index.name = "customer_id"
    return features.sort_index()
