"""Each trigger as one SQL query of entrants: (customer_id, entry_key) rows, set-wise.

The entry key names what caused the entry (the run, the order, the event), so the
same cause evaluated twice -- by beat and after a run, or by two processes at
once -- makes the same key and the enrolment's unique constraint keeps one row.
Time-based triggers look back `lookback` from `now`: a week when evaluating (so a
beat that was down catches up), 30 days for the page's "who would have entered".
One customer enters at most once per evaluation (DISTINCT ON), and only if their
last entry into this flow is older than its re-entry period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.models import Enrolment, Flow, TriggerKind
from ingest.models import Customer, Event, Order
from segments.models import CustomerScore, SegmentationRun, SegmentMembership

EVALUATION_LOOKBACK = timedelta(days=7)
# An order that is a purchase, as the overview counts them: not cancelled, with goods. A
# return exported as its own order, or a free sample, is no order to follow up, welcome,
# or leave a flow for. `{o}` is the order table's alias.
PURCHASE = "NOT {o}.is_cancelled AND {o}.gross_total > 0"
PREVIEW_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True, kw_only=True, slots=True)
class EntrantsQuery:
    sql: str  # SELECT customer_id, entry_key
    params: list


@dataclass(frozen=True, kw_only=True, slots=True)
class RunPair:
    current_id: int
    previous_id: int


def run_pair() -> RunPair | None:
    """The current run and the succeeded run before it: who moved is read between the two."""
    current = SegmentationRun.objects.filter(is_current=True).values_list("pk", flat=True).first()
    if current is None:
        return None
    previous = (SegmentationRun.objects.filter(status="succeeded", pk__lt=current)
                .order_by("-pk").values_list("pk", flat=True).first())
    return None if previous is None else RunPair(current_id=current, previous_id=previous)


def _float(params: dict, name: str, default: float) -> float:
    try:
        return float(params.get(name, default))
    except (TypeError, ValueError):
        return default


def entrants_query(flow: Flow, *, now: datetime, lookback: timedelta = EVALUATION_LOOKBACK,
                   runs: RunPair | None = None) -> EntrantsQuery | None:
    """The flow's trigger as a query (before the re-entry rule); None when it can find nobody."""
    p = flow.trigger_params or {}
    kind = flow.trigger_kind
    orders, events = Order._meta.db_table, Event._meta.db_table
    since = now - lookback
    if kind == TriggerKind.SEGMENT_ENTER:
        runs = runs or run_pair()
        to_keys = [str(k) for k in p.get("to_keys", [])]
        if runs is None or not to_keys:
            return None
        column = "cluster_key" if p.get("segment_kind") == "cluster" else "rfm_key"
        from_keys = [str(k) for k in p.get("from_keys", [])]
        members = SegmentMembership._meta.db_table
        moved_from = ("prev.customer_id IS NOT NULL AND prev.{c} = ANY(%s)" if from_keys
                      else "prev.customer_id IS NULL OR NOT prev.{c} = ANY(%s)").format(c=column)
        return EntrantsQuery(
            sql=f"SELECT cur.customer_id, %s AS entry_key FROM {members} cur "
                f"LEFT JOIN {members} prev ON prev.run_id = %s "
                "AND prev.customer_id = cur.customer_id "
                f"WHERE cur.run_id = %s AND cur.{column} = ANY(%s) AND ({moved_from})",
            params=[f"run:{runs.current_id}", runs.previous_id, runs.current_id, to_keys,
                    from_keys or to_keys],
        )
    if kind in (TriggerKind.P_ALIVE_BELOW, TriggerKind.OVERDUE):
        scores = CustomerScore._meta.db_table
        # One entry per purchase cycle: the key is the last order's time, so the
        # customer can enter again only after buying again (and lapsing again).
        key = "%s || floor(extract(epoch FROM s.last_order_at))::bigint"
        if kind == TriggerKind.P_ALIVE_BELOW:
            return EntrantsQuery(
                sql=f"SELECT s.customer_id, {key} AS entry_key FROM {scores} s "
                    "WHERE s.p_alive < %s",
                params=["alive:", _float(p, "threshold", 0.3)],
            )
        # Overdue: gone `factor` times their usual gap, and crossed that line within
        # the lookback (so switching the flow on does not enrol years of lapsed buyers).
        return EntrantsQuery(
            sql=f"SELECT s.customer_id, {key} AS entry_key FROM {scores} s "
                "WHERE s.mean_days_between_orders > 0 "
                "AND s.last_order_at + make_interval(secs => %s * s.mean_days_between_orders "
                "* 86400) BETWEEN %s AND %s",
            params=["overdue:", _float(p, "factor", 2.0), since, now],
        )
    if kind in (TriggerKind.AFTER_FIRST_ORDER, TriggerKind.AFTER_ORDER):
        days = timedelta(days=_float(p, "days", 7))
        first_only = ""
        if kind == TriggerKind.AFTER_FIRST_ORDER:
            # The customer's first order, read from the (customer, ordered_at) index per
            # candidate: a NOT EXISTS here was planned as a hash of every order.
            first_only = (f"AND o.id = (SELECT b.id FROM {orders} b WHERE b.customer_id = "
                          f"o.customer_id AND {PURCHASE.format(o='b')} "
                          "ORDER BY b.ordered_at, b.id LIMIT 1)")
        return EntrantsQuery(
            sql=f"SELECT DISTINCT ON (o.customer_id) o.customer_id, %s || o.id AS entry_key "
                f"FROM {orders} o WHERE {PURCHASE.format(o='o')} AND o.ordered_at > %s "
                f"AND o.ordered_at <= %s {first_only} "
                "ORDER BY o.customer_id, o.ordered_at DESC, o.id DESC",
            params=["order:", since - days, now - days],
        )
    if kind == TriggerKind.EVENT_NO_ORDER:
        event_type = str(p.get("event_type", ""))
        hours = timedelta(hours=_float(p, "hours", 4))
        if not event_type:
            return None
        return EntrantsQuery(
            sql=f"SELECT DISTINCT ON (e.customer_id) e.customer_id, %s || e.id AS entry_key "
                f"FROM {events} e WHERE e.type = %s AND e.occurred_at > %s "
                "AND e.occurred_at <= %s "
                f"AND NOT EXISTS (SELECT 1 FROM {orders} o WHERE o.customer_id = e.customer_id "
                f"AND {PURCHASE.format(o='o')} AND o.ordered_at > e.occurred_at) "
                "ORDER BY e.customer_id, e.occurred_at DESC, e.id DESC",
            params=["event:", event_type, since - hours, now - hours],
        )
    return None


def eligible_entrants_query(flow: Flow, *, now: datetime, lookback: timedelta = EVALUATION_LOOKBACK,
                            runs: RunPair | None = None) -> EntrantsQuery | None:
    """Entrants minus those inside the re-entry period, erased customers excluded."""
    base = entrants_query(flow, now=now, lookback=lookback, runs=runs)
    if base is None:
        return None
    customers, enrolments = Customer._meta.db_table, Enrolment._meta.db_table
    return EntrantsQuery(
        # Erased customers are few and their keys share a prefix (a range of the key
        # index, which is in byte order): read them, rather than every customer.
        sql=f"SELECT t.customer_id, t.entry_key FROM ({base.sql}) t "
            f"WHERE t.customer_id NOT IN (SELECT c.id FROM {customers} c "
            "WHERE c.key LIKE 'erased:%%') "
            f"AND NOT EXISTS (SELECT 1 FROM {enrolments} p WHERE p.flow_id = %s "
            "AND p.customer_id = t.customer_id "
            "AND (p.entered_at > %s OR p.entry_key = t.entry_key))",
        params=[*base.params, flow.pk, now - timedelta(days=flow.reentry_days)],
    )
