"""Entry: every active flow's trigger evaluated as one INSERT ... SELECT, idempotently.

Called after every segmentation run (flows.receivers) and by beat. Two evaluators
at once insert the same (flow, customer, entry key) rows and the unique
constraint keeps one of each (``ON CONFLICT DO NOTHING``): one enrolment, hence
at most one email.

The holdout is drawn here and stored: a hash of the flow's seed, the customer and
the entry key, uniform on [0, 1), below the flow's share means held out. Entries
arrive a few at a time, so a per-entrant draw keeps the share right where
campaigns' exact-size split (`campaigns.analysis.holdout`) would round a batch of
three to nobody held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from flows import clock
from flows.models import Enrolment, EnrolmentState, Flow
from flows.triggers_sql import EVALUATION_LOOKBACK, eligible_entrants_query, run_pair

# md5 -> first 32 bits -> [0, 1): stable across processes and PostgreSQL versions.
HOLDOUT_DRAW_SQL = ("(('x' || substr(md5(%s || ':' || t.customer_id || ':' || t.entry_key), 1, 8))"
                    "::bit(32)::bigint / 4294967296.0)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    flow_id: int
    entered: int
    held_out: int


def flow_enrol(*, flow: Flow, now: datetime, lookback: timedelta = EVALUATION_LOOKBACK,
               runs=None) -> Evaluation:
    """Enrol the flow's new entrants in one statement; how many entered (and were held out)."""
    query = eligible_entrants_query(flow, now=now, lookback=lookback, runs=runs)
    if query is None:
        return Evaluation(flow_id=flow.pk, entered=0, held_out=0)
    table = Enrolment._meta.db_table
    with connection.cursor() as cursor:
        # Counted in the database: an evaluation can enrol tens of thousands at once.
        cursor.execute(
            f"WITH entered AS (INSERT INTO {table} (flow_id, customer_id, entry_key, entered_at, "
            "due_at, holdout, "
            "state, skip_reason, entered_version, sent_version, recipient_id, decided_at) "
            "SELECT %s, t.customer_id, t.entry_key, %s, %s, h.holdout, "
            "CASE WHEN h.holdout THEN %s ELSE %s END, '', %s, NULL, NULL, "
            "CASE WHEN h.holdout THEN %s::timestamptz END "
            f"FROM ({query.sql}) t CROSS JOIN LATERAL (SELECT {HOLDOUT_DRAW_SQL} < %s AS holdout) h "
            "ORDER BY t.customer_id "
            "ON CONFLICT (flow_id, customer_id, entry_key) DO NOTHING RETURNING holdout) "
            "SELECT count(*), count(*) FILTER (WHERE holdout) FROM entered",
            [flow.pk, now, now + timedelta(hours=flow.wait_hours),
             EnrolmentState.HELD_OUT, EnrolmentState.WAITING, flow.version, now,
             *query.params, str(flow.seed), flow.holdout_share],
        )
        entered, held_out = cursor.fetchone()
    return Evaluation(flow_id=flow.pk, entered=entered, held_out=held_out)


def flows_evaluate(*, now: datetime | None = None, flow_ids: list[int] | None = None
                   ) -> list[Evaluation]:
    """Evaluate every active flow's trigger (or the given ones), each in its own transaction."""
    now = now or clock.now()
    runs = run_pair()
    flows = Flow.objects.filter(is_active=True).order_by("pk")
    if flow_ids is not None:
        flows = flows.filter(pk__in=flow_ids)
    results = []
    for flow in flows:
        with transaction.atomic():
            results.append(flow_enrol(flow=flow, now=now, runs=runs))
    return results
