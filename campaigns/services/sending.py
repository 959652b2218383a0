"""The sending run: outbox rows -> SMTP, at most once per recipient.

Guarantees, and how:

* Two runs never send the same row. A run reads a batch of `pending` rows and
  builds their messages (nothing is taken yet: a crash now loses nothing);
  then it takes the batch, ``pending -> sending`` with its run id, in one
  UPDATE over a ``SELECT ... FOR UPDATE SKIP LOCKED`` whose commit is flushed
  (synchronous) *before* the batch's first SMTP conversation. Rows another run
  took meanwhile are not taken and their messages are dropped unsent.
* A run that dies leaves its batch in ``sending``. The next run turns such rows
  into ``unknown`` and never sends them again (the report counts them): the
  server may have accepted a message before the worker died, and a second copy
  is worse than a missing one. (Rows an older version left ``claimed`` had no
  SMTP traffic and go back to ``pending``.)
* Trade-off of taking and confirming per batch (``CAMPAIGN_BATCH_SIZE``, capped
  at about a second of sending by the rate limit): a worker *killed* mid-batch
  leaves the whole batch ``unknown`` -- the rows it had not reached yet and the
  ones sent but not yet confirmed -- where marking each row alone left one. It
  still never sends anyone twice, and it saves commits per message, which were
  most of the run's cost. A run that stops on an error (not a kill) gives the
  rows it never reached back to ``pending`` and records the answers it has.
* Answers are written per batch in one UPDATE with an asynchronous commit: if
  PostgreSQL lost it, the rows would stay ``sending`` and become ``unknown``.
* Answers: 2xx -> ``sent`` (with the server's answer); 4xx -> retried after a
  bounded backoff, then ``failed``; 5xx -> ``failed`` with the reason; a
  dropped connection before the message data was sent -> reconnect and retry;
  dropped *while* the data was in flight -> ``unknown`` (maybe delivered).
* Pause and cancel: taking a batch checks, in the same statement, that the
  campaign is still ``sending``; so they act between two batches.

Speed: an SMTP conversation is ping-pong, and while the server works on our
last command the sender has nothing to do. The bookkeeping is done in those
gaps, one small step per wait (``_Background``): reading the next batch and
building its messages, writing the previous batch's answers, progress. No
thread (with the GIL it would delay reading the server's replies), and no
step changes the guarantees above: the next batch stays ``pending`` while it
is prepared, and it is taken -- the flushed commit -- between two batches,
never while a message is in flight. Answers may be written one batch later;
until then the rows are ``sending``, which a crash turns into ``unknown``.
Each message costs two row updates (taken, answered) and no round trip of
its own.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from campaigns import conf
from campaigns.emails.message import _ADDRESS_RE
from campaigns.models import (
    CAP_COUNTED_STATUSES,
    Campaign,
    CampaignSend,
    CampaignStatus,
    Recipient,
    RecipientGroup,
    RecipientStatus,
    SkipReason,
    Suppression,
    SuppressionReason,
)
from campaigns.selectors import segment_recommendations
from campaigns.services.rendering import CampaignRenderer, RenderedEmail
from ingest.models import Customer
from ingest.services.privacy import erase_lock_shared
from profiler_site.core.jobs import job_progress

logger = logging.getLogger(__name__)

CANDIDATE_PAGE = 5000  # pending rows read at a time, taken a batch at a time
PROGRESS_EVERY = 1.0  # seconds between progress writes (also the job's heartbeat)


class SmtpUnavailable(Exception):
    """The mail server cannot be reached; the run stops and the rest stays pending."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    status: str  # RecipientStatus.SENT / FAILED / UNKNOWN
    detail: str
    attempts: int
    # The server refused the address itself for good (a hard bounce): it goes on the
    # suppression list, so no later campaign tries it again.
    bounced: bool = False


# Permanent refusals of the recipient at RCPT: no such mailbox (550), not local (551),
# address not allowed (553). Other 5xx (policy, content, size) say nothing of the address.
HARD_BOUNCE_CODES = frozenset({550, 551, 553})


class _Refused(Exception):
    def __init__(self, code: int, text: str, *, at_recipient: bool = False) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text
        self.at_recipient = at_recipient


class _InFlight(Exception):
    """The connection broke after the message data was handed over."""


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


_EOL_RE = re.compile(rb"(?:\r\n|\n|\r(?!\n))")


def _quoted(address: str) -> str:
    """`smtplib.quoteaddr`, without its address parser for a plain addr-spec (the usual case)."""
    if _ADDRESS_RE.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def smtp_data(payload: bytes) -> bytes:
    """A message as sent after DATA: CRLF line ends, leading dots doubled, ending "."."""
    crlf = payload.count(b"\r\n")
    if payload.count(b"\r") != crlf or payload.count(b"\n") != crlf:  # (the usual case is
        payload = _EOL_RE.sub(b"\r\n", payload)  # CRLF throughout: counting is cheaper)
    body = payload.replace(b"\n.", b"\n..")  # a dot starting a line is doubled
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


class SmtpSender:
    """One SMTP connection, reused for every message, reopened when it drops."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        use_ssl: bool = False,
        timeout: float = 30,
        retry_delays: tuple[float, ...] = (1.0, 4.0, 15.0),
        sleep: Callable[[float], None] = time.sleep,
        allow_plaintext_login: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.allow_plaintext_login = allow_plaintext_login
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.sleep = sleep
        self._conn: smtplib.SMTP | None = None
        self.connections_opened = 0

    @classmethod
    def from_settings(cls) -> SmtpSender:
        return cls(
            host=settings.EMAIL_HOST,
            port=int(settings.EMAIL_PORT),
            username=settings.EMAIL_HOST_USER or "",
            password=settings.EMAIL_HOST_PASSWORD or "",
            use_tls=bool(getattr(settings, "EMAIL_USE_TLS", False)),
            use_ssl=bool(getattr(settings, "EMAIL_USE_SSL", False)),
            timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30,
            retry_delays=conf.retry_delays(),
            allow_plaintext_login=bool(getattr(settings, "EMAIL_ALLOW_PLAINTEXT_LOGIN", False)),
        )

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            if self.username and not (self.use_tls or self.use_ssl or self.allow_plaintext_login):
                # Refused before connecting: the password never crosses the network in clear.
                raise SmtpUnavailable(
                    "EMAIL_URL has a user name and password but no TLS (smtp+tls:// or "
                    "smtp+ssl://); they would be sent in plain text. Use TLS, or set "
                    "EMAIL_ALLOW_PLAINTEXT_LOGIN=true if this server is on a trusted network.")
            context = ssl.create_default_context()
            if self.use_ssl:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo_or_helo_if_needed()
            if self.use_tls and not self.use_ssl:
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password)
            self._conn = conn
            self.connections_opened += 1
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            try:
                conn.close()
            except OSError:
                pass

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _transaction(
        self, from_address: str, to_address: str, data: bytes, idle: Callable[[], None] | None
    ) -> str:
        # smtplib's mail() / rcpt() / data(), command by command, so that `idle` can
        # run while the server works on each one (the replies wait in the socket).
        conn = self._connection()
        conn.putcmd("mail", f"FROM:{_quoted(from_address)}")
        if idle is not None:
            idle()
        code, reply = conn.getreply()
        if code != 250:
            raise _Refused(code, _text(reply))
        conn.putcmd("rcpt", f"TO:{_quoted(to_address)}")
        if idle is not None:
            idle()
        code, reply = conn.getreply()
        if code not in (250, 251):
            raise _Refused(code, _text(reply), at_recipient=True)
        # DATA by hand (as smtplib does) to know whether the message left us.
        conn.putcmd("data")
        code, reply = conn.getreply()
        if code != 354:
            raise _Refused(code, _text(reply))
        try:
            conn.send(data)
            if idle is not None:
                idle()
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _InFlight(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= code < 300:
            raise _Refused(code, _text(reply))
        return f"{code} {_text(reply)}"

    def deliver(
        self,
        *,
        from_address: str,
        to_address: str,
        payload: bytes,
        data: bytes | None = None,
        idle: Callable[[], None] | None = None,
    ) -> Delivery:
        """Send one message; raises SmtpUnavailable when the server cannot be reached.

        `data` is `smtp_data(payload)` when the caller made it ahead of time. `idle`
        is called while a reply is awaited (at most three times a try); it must
        not raise and must not use this connection.
        """
        if data is None:
            data = smtp_data(payload)
        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt <= len(self.retry_delays)
            try:
                answer = self._transaction(from_address, to_address, data, idle)
                return Delivery(status=RecipientStatus.SENT, detail=answer, attempts=attempt)
            except _InFlight as exc:
                self._drop()
                return Delivery(
                    status=RecipientStatus.UNKNOWN,
                    detail=f"connection lost after the message was sent: {exc}",
                    attempts=attempt,
                )
            except _Refused as exc:
                if exc.code == 421:  # the server is closing this connection
                    self._drop()
                else:
                    self._reset()
                if 400 <= exc.code < 500 and can_retry:
                    self.sleep(self.retry_delays[attempt - 1])
                    continue
                reason = str(exc)
                if 400 <= exc.code < 500:
                    reason = f"temporary failure, gave up after {attempt} tries: {reason}"
                return Delivery(status=RecipientStatus.FAILED, detail=reason, attempts=attempt,
                                bounced=exc.at_recipient and exc.code in HARD_BOUNCE_CODES)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                self._reset()
                return Delivery(status=RecipientStatus.FAILED, detail=str(exc), attempts=attempt)
            except (smtplib.SMTPException, OSError) as exc:
                # Nothing of the message was sent: reconnecting and retrying is safe.
                self._drop()
                if can_retry:
                    self.sleep(self.retry_delays[attempt - 1])
                    continue
                raise SmtpUnavailable(f"{type(exc).__name__}: {exc}") from exc


class Pacer:
    """At most `per_second` sends per second for this run (0: no limit)."""

    def __init__(self, per_second: int, *, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at = clock()

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at > now:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = max(self.next_at, now - self.interval) + self.interval


# --- outbox row states ----------------------------------------------------------------


def outbox_recover(*, campaign_id: int) -> int:
    """Rows a dead run left behind: `sending` -> `unknown`, `claimed` -> `pending`.

    Returns how many became unknown. A live run racing this one is unharmed: its
    in-flight rows get their true answer written over `unknown`.
    """
    with transaction.atomic():
        unknown = Recipient.objects.filter(
            campaign_id=campaign_id, status=RecipientStatus.SENDING
        ).update(
            status=RecipientStatus.UNKNOWN,
            error="The sender stopped during the SMTP conversation; the message may or may "
            "not have been delivered, so it is not sent again automatically.",
        )
        Recipient.objects.filter(campaign_id=campaign_id, status=RecipientStatus.CLAIMED).update(
            status=RecipientStatus.PENDING, claimed_by="", claimed_at=None
        )
    return unknown


# What str.strip() strips (every character whose isspace() is true), for the SQL
# below; tests/campaigns/test_snapshot.py checks it against Python.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def outbox_fill(
    *, campaign_id: int, treatment_ids: Sequence[int], holdout_ids: Sequence[int]
) -> int:
    """The audience snapshot: one row per customer, in one INSERT ... SELECT.

    Treatment rows are `pending`, holdout rows `held_out`; address and names are
    copied from the customer (the address trimmed as ``str.strip`` trims it), in
    customer id order, so that is the sending order. A customer who already has a
    row keeps it. Every other column gets its model default. Returns rows added.
    """
    customer = Customer._meta
    is_holdout = "h.id IS NOT NULL"
    columns: list[str] = []
    values: list[str] = []
    params: list = []
    for field in Recipient._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "campaign":
            values.append("%s")
            params.append(campaign_id)
        elif field.name == "customer":
            values.append("c.id")
        elif field.name in ("group", "status"):
            choices = ((RecipientGroup.HOLDOUT, RecipientGroup.TREATMENT) if field.name == "group"
                       else (RecipientStatus.HELD_OUT, RecipientStatus.PENDING))
            values.append(f"CASE WHEN {is_holdout} THEN %s ELSE %s END")
            params += [str(choice) for choice in choices]
        elif field.name == "email":
            values.append(f"btrim(c.{customer.get_field('email').column}, %s)")
            params.append(PY_WHITESPACE)
        elif field.name in ("first_name", "last_name"):
            values.append(f"c.{customer.get_field(field.name).column}")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Recipient._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {customer.db_table} AS c "
            "JOIN unnest(%s::bigint[]) AS e(id) ON e.id = c.id "
            "LEFT JOIN unnest(%s::bigint[]) AS h(id) ON h.id = c.id "
            "ORDER BY c.id ON CONFLICT DO NOTHING",
            [*params, [*treatment_ids, *holdout_ids], list(holdout_ids)],
        )
        return cursor.rowcount


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxRow:
    """What sending needs of a `Recipient` row (a model instance costs more to make)."""

    pk: int
    customer_id: int
    email: str
    first_name: str
    last_name: str


def outbox_pending_page(*, campaign_id: int, after_id: int, limit: int) -> list[OutboxRow]:
    """The next `limit` pending treatment rows above `after_id`, in id order.

    Candidates to take, read a few thousand at a time; nothing is taken here. A
    row may be taken by another run before this one gets to it: `outbox_take`
    then skips it, and the message built for it is dropped unsent.
    """
    return [
        OutboxRow(pk=pk, customer_id=customer_id, email=email, first_name=first_name,
                  last_name=last_name)
        for pk, customer_id, email, first_name, last_name in Recipient.objects.filter(
            campaign_id=campaign_id, group=RecipientGroup.TREATMENT,
            status=RecipientStatus.PENDING, id__gt=after_id,
        ).order_by("id").values_list(
            "id", "customer_id", "email", "first_name", "last_name"
        )[:limit]
    ]


def _write(sql: str, params: list, *, flush: bool) -> list[tuple]:
    """One statement in its own transaction and one round trip; its rows, if it returns any.

    With ``flush=False`` the commit does not wait for the log to reach the disk
    (``SET LOCAL`` in the same query string, which PostgreSQL runs as one
    implicit transaction). Inside a caller's transaction the statement joins it
    and that commit decides.
    """
    with connection.cursor() as cursor:
        if flush or connection.in_atomic_block:
            cursor.execute(sql, params)
        else:
            cursor.execute("SET LOCAL synchronous_commit TO OFF; " + sql, params)
        return cursor.fetchall() if cursor.description else []


CAP_WINDOW = timedelta(days=7)
# First key of the two-key advisory locks that serialise taking per customer (the
# second is the customer id); other advisory locks in the project use one key.
CAP_LOCK_SPACE = 0x0CA9


def outbox_take(
    *, recipient_ids: list[int], run_id: str, while_campaign_sending: int | None = None,
    now: datetime | None = None,
) -> set[int]:
    """pending -> sending for a whole batch: claimed and marked in one statement,
    committed now with a flushed commit.

    Returns the ids this run got (only those may be sent): rows another run has
    locked are skipped (``FOR UPDATE SKIP LOCKED``) and rows it already took are
    no longer pending, so two runs never get the same row. This commit is the
    promise not to send twice, so it is never asynchronous: were it lost in a
    crash after some of the batch went out, a later run would see those rows
    `pending` and send them again.

    With `while_campaign_sending` (a campaign id) nothing is taken unless that
    campaign is still `sending`: the pause/cancel check, in the same round trip.

    The frequency cap (Settings: marketing emails per customer per week) is
    applied here, where every sender (campaigns, flows) takes its rows: a row
    whose customer already has that many emails taken in the last 7 days
    becomes `skipped` (reason `frequency_cap`) instead of `sending`. Two senders
    racing for one customer are serialised by a transaction-level advisory lock
    per customer, taken in customer-id order (no deadlock) in a first statement;
    the second statement then counts with a fresh snapshot (READ COMMITTED), so
    it sees what the other sender committed while this one waited. Both run as
    one query string: one implicit transaction, one round trip.
    """
    if not recipient_ids:
        return set()
    table = Recipient._meta.db_table
    condition, params = "", []
    if while_campaign_sending is not None:
        condition = (f" AND EXISTS (SELECT 1 FROM {Campaign._meta.db_table} "
                     "WHERE id = %s AND status = %s)")
        params = [while_campaign_sending, CampaignStatus.SENDING]
    now = now or timezone.now()
    cap = conf.weekly_cap()
    lock = "" if not cap else (
        f"SELECT count(pg_advisory_xact_lock(%s, (customer_id %% 2147483647)::integer)) FROM "
        f"(SELECT DISTINCT customer_id FROM {table} WHERE id = ANY(%s) "
        "AND customer_id IS NOT NULL ORDER BY customer_id) AS c; "
    )
    taken = _write(
        lock
        # By primary key alone. `(status = ...) IS TRUE` keeps the (campaign, status)
        # index out of it: right after the snapshot the statistics still call the
        # campaign's rows few, and the planner then read every pending row of the
        # campaign per batch (5-10 ms a batch instead of 2).
        + f"WITH batch AS (SELECT id, customer_id FROM {table} "
        "WHERE id = ANY(%s) AND (status = %s) IS TRUE FOR UPDATE SKIP LOCKED), "
        # `go`: no cap, or the customer's emails taken in the window plus this
        # batch's earlier rows for them (a flow may hold one customer twice) fit.
        "decided AS (SELECT b.id, %s = 0 OR b.customer_id IS NULL OR "
        "recent.n + row_number() OVER (PARTITION BY b.customer_id ORDER BY b.id) <= %s AS go "
        "FROM batch AS b LEFT JOIN LATERAL (SELECT count(*) AS n FROM "
        f"{table} AS r WHERE r.customer_id = b.customer_id AND r.status = ANY(%s) "
        "AND r.sending_at > %s) AS recent ON TRUE) "
        f"UPDATE {table} AS t SET "
        "status = CASE WHEN d.go THEN %s ELSE %s END, "
        "skip_reason = CASE WHEN d.go THEN '' ELSE %s END, "
        "claimed_by = %s, claimed_at = %s, "
        "sending_at = CASE WHEN d.go THEN %s ELSE NULL END "
        f"FROM decided AS d WHERE t.id = d.id{condition} RETURNING t.id, d.go",
        [*([CAP_LOCK_SPACE, list(recipient_ids)] if cap else []),
         list(recipient_ids), RecipientStatus.PENDING, cap, cap,
         [str(s) for s in CAP_COUNTED_STATUSES], now - CAP_WINDOW,
         RecipientStatus.SENDING, RecipientStatus.SKIPPED, SkipReason.FREQUENCY_CAP,
         run_id, now, now, *params],
        flush=True,
    )
    return {row_id for row_id, go in taken if go}


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    recipient_id: int
    delivery: Delivery
    message_id: str


def outbox_record(outcomes: list[Outcome]) -> None:
    """Write a batch's answers in one statement, with an asynchronous commit.

    If PostgreSQL itself crashed in the next fraction of a second the rows would
    stay `sending` and become `unknown`, which is safe. The `sending` mark, which
    prevents a resend, is always a normal (flushed) commit. The answers travel as
    one JSON parameter: adapting hundreds of separate parameters cost more than
    the update itself.
    """
    if not outcomes:
        return
    answers = json.dumps([
        {"id": o.recipient_id, "status": o.delivery.status, "attempts": o.delivery.attempts,
         "detail": o.delivery.detail[:2000].replace("\x00", ""), "message_id": o.message_id}
        for o in outcomes
    ])
    table = Recipient._meta.db_table
    _write(
        f"UPDATE {table} AS r SET status = v.status, attempts = v.attempts, "
        "sent_at = CASE WHEN v.status = %s THEN %s ELSE r.sent_at END, "
        "smtp_response = CASE WHEN v.status = %s THEN v.detail ELSE r.smtp_response END, "
        "error = CASE WHEN v.status = %s THEN '' ELSE v.detail END, "
        "message_id = CASE WHEN v.message_id = '' THEN r.message_id ELSE v.message_id END "
        "FROM json_to_recordset(%s::json) "
        "AS v(id bigint, status text, attempts integer, detail text, message_id text) "
        "WHERE r.id = v.id",
        [RecipientStatus.SENT, timezone.now(), RecipientStatus.SENT, RecipientStatus.SENT,
         answers],
        flush=False,
    )
    bounced = [o.recipient_id for o in outcomes if o.delivery.bounced]
    if bounced:
        _write(
            f"INSERT INTO {Suppression._meta.db_table} (email, reason, campaign_id, created_at) "
            f"SELECT lower(email), %s, campaign_id, now() FROM {table} "
            "WHERE id = ANY(%s) AND email <> '' ON CONFLICT (email) DO NOTHING",
            [SuppressionReason.BOUNCED, bounced],
            flush=False,
        )


def outbox_give_back(*, recipient_ids: list[int], run_id: str) -> None:
    """`sending` rows this (live) run knows it never started: back to `pending`."""
    if recipient_ids:
        Recipient.objects.filter(
            pk__in=recipient_ids, status=RecipientStatus.SENDING, claimed_by=run_id
        ).update(status=RecipientStatus.PENDING, claimed_by="", claimed_at=None, sending_at=None)


# --- the run -----------------------------------------------------------------------------


def _treatment_done(campaign_id: int) -> int:
    return Recipient.objects.filter(
        campaign_id=campaign_id,
        group=RecipientGroup.TREATMENT,
        status__in=[RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.UNKNOWN,
                    RecipientStatus.SKIPPED],
    ).count()


def _campaign_status(campaign_id: int) -> str:
    return Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)


def campaign_send_run(job: CampaignSend, *, sender: SmtpSender | None = None) -> str:
    """Send every pending row of the job's campaign (resumable; safe to run twice)."""
    campaign = Campaign.objects.get(pk=job.campaign_id)
    became_unknown = outbox_recover(campaign_id=campaign.pk)
    if became_unknown:
        CampaignSend.objects.filter(pk=job.pk).update(unknown=became_unknown)
    total = Recipient.objects.filter(
        campaign_id=campaign.pk, group=RecipientGroup.TREATMENT
    ).count()
    job_progress(job=job, total=total, processed=_treatment_done(campaign.pk),
                 phase=gettext_noop("Sending"))
    run = _SendingRun(job=job, campaign=campaign, sender=sender or SmtpSender.from_settings())
    try:
        stopped = run.send_all()
    finally:
        run.sender.close()
        CampaignSend.objects.filter(pk=job.pk).update(
            sent=run.sent, failed=run.failed, unknown=became_unknown + run.unknown
        )
    job_progress(job=job, processed=_treatment_done(campaign.pk))
    if stopped:
        return f"Stopped ({stopped}) after {run.sent} sent in this run."
    _campaign_finish_if_done(campaign.pk)
    parts = [f"{run.sent} sent", f"{run.failed} failed"]
    if became_unknown + run.unknown:
        parts.append(f"{became_unknown + run.unknown} unknown (not resent)")
    return ", ".join(parts) + "."


class _Background:
    """Bookkeeping done a step at a time while the SMTP server works on our command.

    A job is a generator that yields after each database round trip or message
    built. `step` is the sender's `idle`: it runs one step and keeps an error for
    `raise_error`, which raises it outside the SMTP conversation (inside, it
    would pass for a failed delivery).
    """

    def __init__(self) -> None:
        self.jobs: deque[Iterator[None]] = deque()
        self.error: BaseException | None = None

    def add(self, job: Iterator[None]) -> None:
        self.jobs.append(job)

    def step(self) -> None:
        while self.jobs and self.error is None:
            try:
                next(self.jobs[0])
                return
            except StopIteration:
                self.jobs.popleft()
            except BaseException as exc:  # noqa: BLE001 - raised by raise_error
                self.error = exc
                self.abandon()

    def raise_error(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def finish(self) -> None:
        """Run what is left, now."""
        self.raise_error()
        while self.jobs:
            for _ in self.jobs[0]:
                pass
            self.jobs.popleft()

    def abandon(self) -> None:
        while self.jobs:
            self.jobs.popleft().close()


class _SendingRun:
    """One run: the batch being sent, the next one being prepared meanwhile, the counts.

    Per batch: take it (`pending -> sending`, with the pause/cancel check; a
    flushed commit, between batches), then send it; while the server answers,
    write the previous batch's answers, read the next batch and build its
    messages, and report progress.
    """

    def __init__(self, *, job: CampaignSend, campaign: Campaign, sender: SmtpSender) -> None:
        self.job, self.campaign, self.sender = job, campaign, sender
        self.run_id = uuid.uuid4().hex
        self.renderer = CampaignRenderer(campaign)
        rate = (campaign.max_per_second if campaign.max_per_second is not None
                else conf.max_per_second())
        self.pacer = Pacer(rate)
        # About a second of work per batch, so pause and cancel act quickly.
        self.batch_size = max(1, min(conf.batch_size(), rate or conf.batch_size()))
        self.sent = self.failed = self.unknown = 0
        self.background = _Background()
        self.upcoming: _Batch | None = None
        self.unrecorded: list[Outcome] = []  # answers not written yet
        self.progress_at = time.monotonic() + PROGRESS_EVERY
        self.candidates: deque[OutboxRow] = deque()  # read, not taken yet
        self.products: dict[int, tuple] = {}  # recommended products of the candidates
        self.checkpoint = 0  # the last candidate id read (listmonk's last_subscriber_id)
        self.taken_in_pass = False  # whether this pass over the ids, from 0 up, took any

    def send_all(self) -> str:
        """Send until no row is left ("") or the campaign stops `sending` (its status)."""
        try:
            stopped = self._batches()
        except BaseException:
            self.background.abandon()
            _settle_quietly(self.unrecorded, [], self.run_id)
            self.unrecorded = []
            raise
        outbox_record(self.unrecorded)
        self.unrecorded = []
        return stopped

    def _batches(self) -> str:
        self.background.add(self._prepare())
        while True:
            self.background.finish()  # the next batch is read and built
            current, self.upcoming = self.upcoming, None
            assert current is not None
            if not current.rows:
                status = _campaign_status(self.campaign.pk)
                return "" if status == CampaignStatus.SENDING else status
            self.failed += _outbox_fail_unsendable(current.unsendable)
            # From taking the batch to its last answer, an erasure waits (see
            # ingest.services.privacy): it then deletes the person's untaken rows.
            with erase_lock_shared():
                # The whole batch is taken as `sending` (flushed commit) before its first
                # SMTP call: a worker killed now leaves up to a batch `unknown`, never resent.
                held = outbox_take(recipient_ids=list(current.rendered), run_id=self.run_id,
                                   while_campaign_sending=self.campaign.pk)
                if held:
                    self.taken_in_pass = True
                else:  # paused or cancelled, or another run took these rows
                    status = _campaign_status(self.campaign.pk)
                    if status != CampaignStatus.SENDING:
                        return status
                self.background.add(self._record())
                self.background.add(self._prepare())
                if time.monotonic() >= self.progress_at:  # counting the done rows is not free
                    self.progress_at = time.monotonic() + PROGRESS_EVERY
                    self.background.add(self._progress())
                self._send([(row, *current.rendered[row.pk]) for row in current.rows
                            if row.pk in held])

    def _send(self, ready: list[tuple[OutboxRow, RenderedEmail, bytes]]) -> None:
        from_address = self.campaign.from_address
        done = 0
        in_flight = False
        try:
            for row, rendered, data in ready:
                self.background.raise_error()
                self.pacer.wait()
                in_flight = True
                delivery = self.sender.deliver(from_address=from_address, to_address=row.email,
                                               payload=rendered.payload, data=data,
                                               idle=self.background.step)
                in_flight = False
                done += 1
                self.unrecorded.append(Outcome(recipient_id=row.pk, delivery=delivery,
                                               message_id=rendered.message_id))
                if delivery.status == RecipientStatus.SENT:
                    self.sent += 1
                elif delivery.status == RecipientStatus.FAILED:
                    self.failed += 1
                else:
                    self.unknown += 1
            self.background.raise_error()
        except BaseException as exc:
            # Alive, so we know which rows never reached a server: the ones after
            # the current one, and the current one too when the server was not
            # reachable at all. The current one otherwise stays `sending` -> `unknown`.
            self.background.abandon()
            if in_flight and not isinstance(exc, SmtpUnavailable):
                done += 1
            _settle_quietly(self.unrecorded, [row.pk for row, _, _ in ready[done:]],
                            self.run_id)
            self.unrecorded = []
            raise

    # Background jobs (see _Background): each yields after a round trip or a message.

    def _prepare(self) -> Iterator[None]:
        """Take the next batch of candidates and build its messages (`self.upcoming`)."""
        while not self.candidates:
            # At the end of the ids, read again from 0 (rows another run gave back
            # behind us) unless a whole pass took nothing.
            page = outbox_pending_page(campaign_id=self.campaign.pk, after_id=self.checkpoint,
                                       limit=CANDIDATE_PAGE)
            yield
            if not page:
                if self.checkpoint == 0 or not self.taken_in_pass:
                    break
                self.checkpoint, self.taken_in_pass = 0, False
                continue
            self.candidates.extend(page)
            self.checkpoint = page[-1].pk
            self.products = {}
            if self.renderer.uses_products:
                self.products = segment_recommendations([r.customer_id for r in page])
                yield
        rows = [self.candidates.popleft()
                for _ in range(min(self.batch_size, len(self.candidates)))]
        # Built before the rows are taken: a crash now loses nothing.
        batch = self.upcoming = _Batch(rows, self.products, self.renderer)
        for row in rows:
            batch.render(row)
            yield

    def _record(self) -> Iterator[None]:
        answers = list(self.unrecorded)
        outbox_record(answers)
        del self.unrecorded[:len(answers)]
        yield

    def _progress(self) -> Iterator[None]:
        CampaignSend.objects.filter(pk=self.job.pk).update(sent=self.sent, failed=self.failed)
        yield
        processed = _treatment_done(self.campaign.pk)
        yield
        job_progress(job=self.job, processed=processed)
        yield


class _Batch:
    """Claimed rows and the messages built for them (with their SMTP DATA bytes)."""

    def __init__(self, rows: list[OutboxRow], products: dict[int, tuple],
                 renderer: CampaignRenderer) -> None:
        self.rows, self.products, self.renderer = rows, products, renderer
        self.rendered: dict[int, tuple[RenderedEmail, bytes]] = {}
        self.unsendable: dict[int, str] = {}

    def render(self, row: OutboxRow) -> None:
        try:
            rendered = self.renderer.payload(row, self.products.get(row.customer_id, ()))
        except ValueError as exc:  # bad address or header: this row can never go
            self.unsendable[row.pk] = f"not sendable: {exc}"[:2000]
            return
        self.rendered[row.pk] = (rendered, smtp_data(rendered.payload))


def _outbox_fail_unsendable(errors: dict[int, str]) -> int:
    failed = 0
    for recipient_id, error in errors.items():
        failed += Recipient.objects.filter(
            pk=recipient_id, status=RecipientStatus.PENDING
        ).update(status=RecipientStatus.FAILED, error=error)
    return failed


def _settle_quietly(outcomes: list[Outcome], untouched: list[int], run_id: str) -> None:
    """On the way out after an error: keep what is known; rows left `sending` become unknown."""
    try:
        outbox_record(outcomes)
        outbox_give_back(recipient_ids=untouched, run_id=run_id)
    except Exception:  # the database may be what failed; the next run recovers the rows
        logger.exception("could not record the batch's answers")


def _campaign_finish_if_done(campaign_id: int) -> None:
    open_rows = Recipient.objects.filter(campaign_id=campaign_id).filter(
        Q(status=RecipientStatus.PENDING) | Q(status=RecipientStatus.CLAIMED)
        | Q(status=RecipientStatus.SENDING)
    )
    if not open_rows.exists():
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, sent_at=timezone.now()
        )
