"""Reads for flow pages and the API: the list ranked by earnings, a flow's report, previews.

Measurement (stated on the report page): every entrant is measured from their
entry, emailed or held out alike, for the flow's conversion window; an order
counts when ``entered_at < ordered_at <= entered_at + window`` and is not
cancelled. Entrants who were skipped (they bought before the email, unsubscribed)
stay in their group: dropping them from one group only would bias the comparison
(intention to treat, as the campaign report does). The lift and its interval are
the campaigns analysis (`campaigns.analysis.lift.conversion_lift`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from campaigns.analysis.lift import ConversionLift, conversion_lift
from campaigns.models import RecipientStatus
from campaigns.models import SkipReason as OutboxSkipReason
from campaigns.verdicts import LiftText, lift_text
from flows import clock
from flows.models import Enrolment, EnrolmentState, Flow, SkipReason, TriggerKind
from flows.triggers_sql import PREVIEW_LOOKBACK, RunPair, entrants_query, run_pair
from ingest.models import Customer, Event, Order
from segments.analysis.rfm import RFM_SEGMENTS
from segments.models import Segment, SegmentationRun
from segments.selectors import segment_display_name

CENT = Decimal("0.01")


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupNumbers:
    entrants: int
    conversions: int
    revenue: Decimal

    @property
    def revenue_per_entrant(self) -> Decimal:
        if not self.entrants:
            return Decimal("0.00")
        return (self.revenue / self.entrants).quantize(CENT)

    @property
    def conversion_pct(self) -> float:
        return 100 * self.conversions / self.entrants if self.entrants else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class WeekRow:
    week: date  # Monday of the entry week; numbers are cumulative up to its end
    treated: GroupNumbers
    holdout: GroupNumbers


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowStats:
    flow_id: int
    entered: int
    waiting: int
    handed_over: int
    emailed: int  # accepted by the mail server
    held_out: int
    skipped: dict[str, int]
    treated: GroupNumbers
    holdout: GroupNumbers
    lift: ConversionLift | None
    weeks: tuple[WeekRow, ...]

    @property
    def earned(self) -> Decimal:
        """Revenue the emails added: (per emailed-group entrant - per held-out entrant) x group."""
        if not self.treated.entrants or not self.holdout.entrants:
            return Decimal("0.00")
        per = self.treated.revenue_per_entrant - self.holdout.revenue_per_entrant
        return (per * self.treated.entrants).quantize(CENT)

    @property
    def may_cost_sales(self) -> bool:
        """The whole 95% interval of the lift lies below zero."""
        return self.lift is not None and self.lift.absolute_lift_ci_points.high < 0

    @property
    def lift_text(self) -> LiftText | None:
        return None if self.lift is None else lift_text(self.lift)

    @property
    def skipped_rows(self) -> list[tuple[str, int]]:
        """(reason in the active language, count), largest first."""
        return [(_skip_label(reason), n)
                for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])]


def _skip_label(reason: str) -> str:
    # The flow's own reasons (decided before the hand-over), else the outbox's (the weekly
    # limit of marketing emails, decided when the email was about to go).
    if reason in SkipReason.values:
        return str(SkipReason(reason).label)
    return str(OutboxSkipReason(reason).label)


_EMPTY = GroupNumbers(entrants=0, conversions=0, revenue=Decimal("0.00"))


def _outcomes(flow_ids: list[int]) -> list[tuple]:
    """(flow id, holdout, entry week, entrants, converted, revenue) per group and week."""
    enrolments, flows, orders = (Enrolment._meta.db_table, Flow._meta.db_table,
                                 Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH per AS (
                SELECT e.flow_id, e.holdout, date_trunc('week', e.entered_at)::date AS week,
                       -- a purchase converts (not a return or an order of 0.00, as on
                       -- the overview); the money of every order counts, net
                       count(o.id) FILTER (WHERE o.gross_total > 0) > 0 AS converted,
                       coalesce(sum(o.net_total), 0) AS revenue
                FROM {enrolments} e JOIN {flows} f ON f.id = e.flow_id
                LEFT JOIN {orders} o ON o.customer_id = e.customer_id AND NOT o.is_cancelled
                    AND o.ordered_at > e.entered_at
                    AND o.ordered_at <= e.entered_at + make_interval(days => f.conversion_window_days)
                WHERE e.flow_id = ANY(%s)
                GROUP BY e.id, e.flow_id, e.holdout, e.entered_at)
            SELECT flow_id, holdout, week, count(*), sum(converted::int), sum(revenue)
            FROM per GROUP BY flow_id, holdout, week ORDER BY flow_id, week
            """, [flow_ids])
        return cursor.fetchall()


def _add(a: GroupNumbers, entrants: int, conversions: int, revenue: Decimal) -> GroupNumbers:
    return GroupNumbers(entrants=a.entrants + entrants, conversions=a.conversions + conversions,
                        revenue=a.revenue + Decimal(revenue))


def flow_stats_many(flow_ids: list[int]) -> dict[int, FlowStats]:
    states = {fid: {} for fid in flow_ids}
    for fid, state, reason, n in (Enrolment.objects.filter(flow_id__in=flow_ids)
                                  .values_list("flow_id", "state", "skip_reason")
                                  .annotate(n=Count("id")).values_list("flow_id", "state",
                                                                       "skip_reason", "n")):
        states[fid][(state, reason)] = states[fid].get((state, reason), 0) + n
    sent = dict(Enrolment.objects.filter(flow_id__in=flow_ids,
                                         recipient__status=RecipientStatus.SENT)
                .values_list("flow_id").annotate(n=Count("id")).values_list("flow_id", "n"))
    # Handed over, then held back by the outbox (the weekly limit): skipped, not emailed.
    held_back = Counter()
    for fid, reason, n in (Enrolment.objects.filter(flow_id__in=flow_ids,
                                                    recipient__status=RecipientStatus.SKIPPED)
                           .values_list("flow_id", "recipient__skip_reason")
                           .annotate(n=Count("id"))):
        held_back[fid, reason] += n
    groups: dict[int, dict[bool, GroupNumbers]] = {fid: {True: _EMPTY, False: _EMPTY}
                                                   for fid in flow_ids}
    weeks: dict[int, list[WeekRow]] = {fid: [] for fid in flow_ids}
    for fid, holdout, week, n, converted, revenue in _outcomes(flow_ids):
        groups[fid][holdout] = _add(groups[fid][holdout], n, converted, revenue)
        rows = weeks[fid]
        if rows and rows[-1].week == week:
            rows[-1] = WeekRow(week=week, treated=groups[fid][False], holdout=groups[fid][True])
        else:
            rows.append(WeekRow(week=week, treated=groups[fid][False], holdout=groups[fid][True]))
    result = {}
    for fid in flow_ids:
        counts = states[fid]
        treated, holdout = groups[fid][False], groups[fid][True]
        lift = None
        if treated.entrants and holdout.entrants:
            lift = conversion_lift(
                treated_n=treated.entrants, treated_conversions=treated.conversions,
                holdout_n=holdout.entrants, holdout_conversions=holdout.conversions,
                treated_revenue=float(treated.revenue), holdout_revenue=float(holdout.revenue))
        result[fid] = FlowStats(
            flow_id=fid,
            entered=sum(counts.values()),
            waiting=counts.get((EnrolmentState.WAITING, ""), 0),
            handed_over=counts.get((EnrolmentState.EMAILED, ""), 0),
            emailed=sent.get(fid, 0),
            held_out=counts.get((EnrolmentState.HELD_OUT, ""), 0),
            skipped={**{reason: n for (state, reason), n in counts.items()
                        if state == EnrolmentState.SKIPPED},
                     **{reason: n for (f, reason), n in held_back.items() if f == fid}},
            treated=treated, holdout=holdout, lift=lift, weeks=tuple(weeks[fid]),
        )
    return result


def flow_stats(flow: Flow) -> FlowStats:
    return flow_stats_many([flow.pk])[flow.pk]


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowRow:
    flow: Flow
    stats: FlowStats


def flow_list() -> list[FlowRow]:
    """Every flow with its numbers, the ones that earn most first."""
    flows = list(Flow.objects.all())
    stats = flow_stats_many([f.pk for f in flows])
    rows = [FlowRow(flow=f, stats=stats[f.pk]) for f in flows]
    rows.sort(key=lambda r: (-r.stats.earned, not r.flow.is_active, r.flow.name))
    return rows


# --- previews and trigger choices ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Preview:
    count: int
    sample: tuple[Customer, ...]


def _recent_run_pairs(since: datetime) -> list[RunPair]:
    """Each succeeded run finished since `since` with the succeeded run before it."""
    runs = list(SegmentationRun.objects.filter(status="succeeded").order_by("pk")
                .values_list("pk", "finished_at"))
    return [RunPair(current_id=pk, previous_id=runs[i - 1][0])
            for i, (pk, finished) in enumerate(runs)
            if i > 0 and finished is not None and finished >= since]


def flow_preview(flow: Flow, *, now: datetime | None = None, sample: int = 10) -> Preview:
    """Who would have entered in the last 30 days (before the re-entry rule).

    For a segment trigger: everyone who moved as it says between any two successive
    runs of those 30 days (the latest pair alone is often empty right after a run).
    """
    now = now or clock.now()
    if flow.trigger_kind == TriggerKind.SEGMENT_ENTER:
        queries = [entrants_query(flow, now=now, runs=pair)
                   for pair in _recent_run_pairs(now - PREVIEW_LOOKBACK)]
    else:
        queries = [entrants_query(flow, now=now, lookback=PREVIEW_LOOKBACK)]
    queries = [q for q in queries if q is not None]
    if not queries:
        return Preview(count=0, sample=())
    sql = " UNION ".join(f"SELECT customer_id FROM ({q.sql}) t{i}" for i, q in enumerate(queries))
    params = [p for q in queries for p in q.params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) u", params)
        count = cursor.fetchone()[0]
        cursor.execute(f"SELECT customer_id FROM ({sql}) u ORDER BY customer_id LIMIT %s",
                       [*params, sample])
        ids = [row[0] for row in cursor.fetchall()]
    return Preview(count=count, sample=tuple(Customer.objects.filter(pk__in=ids).order_by("pk")))


def event_types() -> list[str]:
    """Event types recorded (the event trigger is offered only when there are some)."""
    return sorted(Event.objects.values_list("type", flat=True).distinct())


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentChoice:
    kind: str
    key: str
    name: str


def segment_choices(*, keep: tuple[tuple[str, str], ...] = ()) -> list[SegmentChoice]:
    """Every RFM segment (a fixed set, empty ones too: a flow waits for people to enter
    them), the current run's clusters, and `keep` (a flow's own keys, gone or not)."""
    keys = [("rfm", slug) for slug in RFM_SEGMENTS]
    run = SegmentationRun.objects.filter(is_current=True).first()
    if run is not None:
        keys += list(Segment.objects.filter(run=run, kind="cluster").order_by("key")
                     .values_list("kind", "key"))
    keys += [k for k in keep if k not in keys]
    return [SegmentChoice(kind=kind, key=key, name=str(segment_display_name(kind, key)))
            for kind, key in keys]


def trigger_segment_names(flow: Flow) -> list[str]:
    """The trigger's segments by the names the owner sees (renamed ones by their new name)."""
    if flow.trigger_kind != TriggerKind.SEGMENT_ENTER:
        return []
    p = flow.trigger_params or {}
    kind = "cluster" if p.get("segment_kind") == "cluster" else "rfm"
    return [str(segment_display_name(kind, str(k))) for k in p.get("to_keys", [])]


def waits_for_a_second_run(flow: Flow) -> bool:
    """A segment trigger reads who moved between the current analysis run and the one
    before: with a single run, nobody can have entered yet."""
    return flow.trigger_kind == TriggerKind.SEGMENT_ENTER and run_pair() is None


def missing_trigger_segments(flow: Flow) -> list[str]:
    """Trigger clusters the current run does not have (k changed and the cluster went).

    RFM segments are a fixed set: an empty one is waiting for people, not missing.
    """
    p = flow.trigger_params or {}
    if flow.trigger_kind != TriggerKind.SEGMENT_ENTER:
        return []
    if p.get("segment_kind") != "cluster":
        return [k for k in p.get("to_keys", []) if k not in RFM_SEGMENTS]
    run = SegmentationRun.objects.filter(is_current=True).first()
    if run is None:
        return []
    present = set(Segment.objects.filter(run=run, kind="cluster").values_list("key", flat=True))
    return [k for k in p.get("to_keys", []) if k not in present]


def recent_enrolments(flow: Flow, *, limit: int = 50) -> list[Enrolment]:
    return list(Enrolment.objects.filter(flow=flow).select_related("customer", "recipient")
                .order_by("-entered_at", "-id")[:limit])

