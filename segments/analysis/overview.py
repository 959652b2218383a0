"""The overview page's shop totals and monthly revenue, from the orders already in memory.

The same numbers as the live SQL in ``segments.selectors`` (overview_kpis,
monthly_revenue), computed from the frame the refresh read anyway: aggregating half a
million orders again inside PostgreSQL cost the refresh ≈ 2.7 s of a core.

Money is summed in integer cents and divided once, so each total is the float nearest
to the exact decimal sum, as PostgreSQL's ``SUM(numeric)::float8`` gives: the stored
figures equal the live ones exactly, not just to a rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

ACTIVE_DAYS = 90


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderTotals:
    revenue: float  # net of everything, returns and refunds included
    orders: int  # purchases (gross value above 0): not returns, refunds or 0.00 orders
    active_customers: int  # last purchase within ACTIVE_DAYS before the newest order
    repeat_rate: float  # share of buyers with 2+ purchases


def _cents(values: pd.Series) -> np.ndarray:
    return np.rint(values.to_numpy(dtype=float) * 100).astype(np.int64)


def order_totals(orders: pd.DataFrame, *, newest: datetime | pd.Timestamp) -> OrderTotals:
    """``orders``: one row per order (customer_id, ordered_at UTC, net_total, and
    gross_total: purchases are the rows above 0; every row when it is absent)."""
    if orders.empty:
        return OrderTotals(orders=0, revenue=0.0, active_customers=0, repeat_rate=0.0)
    # A customer who bought once and sent it back bought once, as their profile says.
    purchases = orders.loc[orders["gross_total"] > 0] if "gross_total" in orders else orders
    per = purchases.groupby("customer_id", sort=False)["ordered_at"].agg(["size", "max"])
    cutoff = pd.Timestamp(newest) - pd.Timedelta(days=ACTIVE_DAYS)
    return OrderTotals(
        orders=len(purchases),
        revenue=int(_cents(orders["net_total"]).sum()) / 100,
        active_customers=int((per["max"] > cutoff).sum()),
        repeat_rate=float((per["size"] > 1).sum()) / max(len(per), 1),
    )


def monthly_revenue(orders: pd.DataFrame, *, time_zone: str = "UTC") -> list[dict]:
    """Per calendar month in the shop's ``time_zone`` (the months its file and pages date
    orders in): revenue, orders, and new vs returning customers' share.

    ``orders`` as for ``order_totals``; a month's orders are its purchases, as the
    overview's figure counts them, and its revenue nets everything.
    A customer's orders at their first order's time are "new"; later ones "returning".
    """
    if orders.empty:
        return []
    at = orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    first = at.groupby(orders["customer_id"].to_numpy(), sort=False).transform("min")
    is_first = (at == first).to_numpy()
    later = (at > first).to_numpy()
    local = orders["ordered_at"].dt.tz_convert(time_zone).dt.tz_localize(None)
    cents = _cents(orders["net_total"])
    purchase = (orders["gross_total"].to_numpy() > 0 if "gross_total" in orders
                else np.ones(len(orders), dtype=bool))
    frame = pd.DataFrame({
        "month": local.to_numpy().astype("datetime64[M]"),
        "cents": cents,
        "purchase": purchase,
        "new_cents": np.where(is_first, cents, 0),
        "new_customer": np.where(is_first, orders["customer_id"].to_numpy(), -1),
        "returning_customer": np.where(later, orders["customer_id"].to_numpy(), -1),
    })
    grouped = frame.groupby("month", sort=True)
    sums = grouped.agg(cents=("cents", "sum"), orders=("purchase", "sum"),
                       new_cents=("new_cents", "sum"))
    # Distinct customers per month, leaving out the -1 placeholders.
    new_customers = (frame[frame["new_customer"] >= 0]
                     .groupby("month")["new_customer"].nunique())
    returning = (frame[frame["returning_customer"] >= 0]
                 .groupby("month")["returning_customer"].nunique())
    rows = []
    for month, row in sums.iterrows():
        revenue = int(row["cents"]) / 100
        new_revenue = int(row["new_cents"]) / 100
        rows.append({
            "month": pd.Timestamp(month).strftime("%Y-%m"),
            "revenue": revenue,
            "orders": int(row["orders"]),
            "new_revenue": new_revenue,
            "returning_revenue": revenue - new_revenue,
            "new_customers": int(new_customers.get(month, 0)),
            "returning_customers": int(returning.get(month, 0)),
        })
    return rows
