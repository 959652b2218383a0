"""The sending run: outbox rows -> SMTP, at most once per recipient.

Guarantees, and how:

* Two runs never send the same row. Rows are claimed in batches with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (state ``claimed`` plus the run's id).
  Each batch's messages are rendered while the rows are only claimed; then the
  whole batch moves ``claimed -> sending`` in one conditional UPDATE whose
  commit is flushed (synchronous) *before* the batch's first SMTP conversation.
  Rows another run took back fail that update and are skipped.
* A run that dies leaves its batch in ``sending``. The next run turns such rows
  into ``unknown`` and never sends them again (the report counts them): the
  server may have accepted a message before the worker died, and a second copy
  is worse than a missing one. Rows still only ``claimed`` had no SMTP traffic
  and go back to ``pending``.
* Trade-off of marking and confirming per batch (``CAMPAIGN_BATCH_SIZE``, capped
  at about a second of sending by the rate limit): a worker *killed* mid-batch
  leaves the whole batch ``unknown`` -- the rows it had not reached yet and the
  ones sent but not yet confirmed -- where marking each row alone left one. It
  still never sends anyone twice, and it saves two commits per message, which
  were most of the run's cost. A run that stops on an error (not a kill) gives
  the rows it never reached back to ``pending`` and records the answers it has.
* Answers are written per batch in one UPDATE with an asynchronous commit: if
  PostgreSQL lost it, the rows would stay ``sending`` and become ``unknown``.
* Answers: 2xx -> ``sent`` (with the server's answer); 4xx -> retried after a
  bounded backoff, then ``failed``; 5xx -> ``failed`` with the reason; a
  dropped connection before the message data was sent -> reconnect and retry;
  dropped *while* the data was in flight -> ``unknown`` (maybe delivered).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import conf
from campaigns.models import (
    Campaign,
    CampaignSend,
    CampaignStatus,
    Recipient,
    RecipientGroup,
    RecipientStatus,
)
from campaigns.selectors import segment_recommendations
from campaigns.services.rendering import CampaignRenderer, RenderedEmail
from profiler_site.core.jobs import job_progress

logger = logging.getLogger(__name__)

CANDIDATE_PAGE = 5000  # pending ids read at a time, claimed a batch at a time
PROGRESS_EVERY = 1.0  # seconds between progress writes (also the job's heartbeat)


class SmtpUnavailable(Exception):
    """The mail server cannot be reached; the run stops and the rest stays pending."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    status: str  # RecipientStatus.SENT / FAILED / UNKNOWN
    detail: str
    attempts: int


class _Refused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


class _InFlight(Exception):
    """The connection broke after the message data was handed over."""


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


_EOL_RE = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
_DOT_RE = re.compile(rb"(?m)^\.")


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
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.use_ssl = use_tls, use_ssl
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
        )

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
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

    def _transaction(self, from_address: str, to_address: str, payload: bytes) -> str:
        conn = self._connection()
        code, reply = conn.mail(from_address)
        if code != 250:
            raise _Refused(code, _text(reply))
        code, reply = conn.rcpt(to_address)
        if code not in (250, 251):
            raise _Refused(code, _text(reply))
        # DATA by hand (as smtplib does) to know whether the message left us.
        conn.putcmd("data")
        code, reply = conn.getreply()
        if code != 354:
            raise _Refused(code, _text(reply))
        body = _DOT_RE.sub(b"..", _EOL_RE.sub(b"\r\n", payload))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            conn.send(body + b".\r\n")
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _InFlight(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= code < 300:
            raise _Refused(code, _text(reply))
        return f"{code} {_text(reply)}"

    def deliver(self, *, from_address: str, to_address: str, payload: bytes) -> Delivery:
        """Send one message; raises SmtpUnavailable when the server cannot be reached."""
        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt <= len(self.retry_delays)
            try:
                answer = self._transaction(from_address, to_address, payload)
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
                return Delivery(status=RecipientStatus.FAILED, detail=reason, attempts=attempt)
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
    claimed rows fail their claimed->sending update and are skipped, and its
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


def outbox_pending_ids(*, campaign_id: int, after_id: int, limit: int) -> list[int]:
    """The next `limit` pending treatment ids above `after_id`, in order (candidates to claim)."""
    return list(
        Recipient.objects.filter(
            campaign_id=campaign_id, group=RecipientGroup.TREATMENT,
            status=RecipientStatus.PENDING, id__gt=after_id,
        ).order_by("id").values_list("id", flat=True)[:limit]
    )


def outbox_claim(*, campaign_id: int, run_id: str, among: list[int]) -> list[Recipient]:
    """Those of the rows `among` that are still pending, `pending -> claimed`, in id order.

    One statement (UPDATE over a SKIP LOCKED sub-select by primary key; a run
    reads its candidates with `outbox_pending_ids` a few thousand at a time, so
    claiming never walks past done rows). Its commit may be asynchronous:
    nothing is sent for a row until `outbox_mark_sending` commits with a flush,
    and PostgreSQL flushes the log in order, so by then this claim is durable
    too; lost before that, the rows are simply `pending` again.
    """
    if not among:
        return []
    table = Recipient._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {table} SET status = %s, claimed_by = %s, claimed_at = %s "
            # By primary key alone: `among` came from this campaign's treatment rows
            # (neither ever changes), and a campaign or group condition here lets a
            # planner with stale statistics walk the whole campaign instead.
            f"WHERE id IN (SELECT id FROM {table} WHERE id = ANY(%s) AND status = %s "
            "FOR UPDATE SKIP LOCKED) "
            "RETURNING id, customer_id, email, first_name, last_name",
            [RecipientStatus.CLAIMED, run_id, timezone.now(), list(among),
             RecipientStatus.PENDING],
        )
        found = sorted(cursor.fetchall())
    return [
        Recipient(pk=pk, campaign_id=campaign_id, customer_id=customer_id, email=email,
                  first_name=first_name, last_name=last_name, group=RecipientGroup.TREATMENT,
                  status=RecipientStatus.CLAIMED, claimed_by=run_id)
        for pk, customer_id, email, first_name, last_name in found
    ]


def outbox_release(*, campaign_id: int, run_id: str) -> None:
    Recipient.objects.filter(
        campaign_id=campaign_id, status=RecipientStatus.CLAIMED, claimed_by=run_id
    ).update(status=RecipientStatus.PENDING, claimed_by="", claimed_at=None)


def outbox_mark_sending(*, recipient_ids: list[int], run_id: str) -> set[int]:
    """claimed -> sending for a whole batch, committed now with a flushed commit.

    Returns the ids this run still held (only those may be sent). This commit is
    the promise not to send twice, so it is never asynchronous: were it lost in a
    crash after some of the batch went out, a later run would see those rows as
    merely `claimed`, give them back to `pending` and send them again.
    """
    if not recipient_ids:
        return set()
    table = Recipient._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sending_at = %s "
            f"WHERE id = ANY(%s) AND status = %s AND claimed_by = %s RETURNING id",
            [RecipientStatus.SENDING, timezone.now(), list(recipient_ids),
             RecipientStatus.CLAIMED, run_id],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    recipient_id: int
    delivery: Delivery
    message_id: str


def outbox_record(outcomes: list[Outcome]) -> None:
    """Write a batch's answers in one statement, with an asynchronous commit.

    If PostgreSQL itself crashed in the next fraction of a second the rows would
    stay `sending` and become `unknown`, which is safe. The `sending` mark, which
    prevents a resend, is always a normal (flushed) commit.
    """
    if not outcomes:
        return
    now = timezone.now()
    values = []
    params: list = []
    for outcome in outcomes:
        d = outcome.delivery
        sent = d.status == RecipientStatus.SENT
        values.append("(%s, %s, %s, %s::timestamptz, %s, %s, %s)")
        params += [outcome.recipient_id, d.status, d.attempts, now if sent else None,
                   d.detail[:2000] if sent else "", "" if sent else d.detail[:2000],
                   outcome.message_id]
    table = Recipient._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {table} AS r SET status = v.status, attempts = v.attempts, "
            "sent_at = COALESCE(v.sent_at, r.sent_at), "
            "smtp_response = CASE WHEN v.sent_at IS NULL THEN r.smtp_response "
            "ELSE v.smtp_response END, error = v.error, "
            "message_id = CASE WHEN v.message_id = '' THEN r.message_id ELSE v.message_id END "
            f"FROM (VALUES {', '.join(values)}) "
            "AS v(id, status, attempts, sent_at, smtp_response, error, message_id) "
            "WHERE r.id = v.id",
            params,
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
        status__in=[RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.UNKNOWN],
    ).count()


def campaign_send_run(job: CampaignSend, *, sender: SmtpSender | None = None) -> str:
    """Send every pending row of the job's campaign (resumable; safe to run twice)."""
    campaign = Campaign.objects.get(pk=job.campaign_id)
    run_id = uuid.uuid4().hex
    became_unknown = outbox_recover(campaign_id=campaign.pk)
    if became_unknown:
        CampaignSend.objects.filter(pk=job.pk).update(unknown=became_unknown)
    total = Recipient.objects.filter(
        campaign_id=campaign.pk, group=RecipientGroup.TREATMENT
    ).count()
    job_progress(job=job, total=total, processed=_treatment_done(campaign.pk), phase="Sending")
    renderer = CampaignRenderer(campaign)
    sender = sender or SmtpSender.from_settings()
    rate = campaign.max_per_second if campaign.max_per_second is not None else conf.max_per_second()
    pacer = Pacer(rate)
    # About a second of work per batch, so pause and cancel act quickly.
    batch = max(1, min(conf.batch_size(), rate or conf.batch_size()))
    sent = failed = unknown = 0
    stopped = ""
    progress_at = time.monotonic() + PROGRESS_EVERY

    candidates: deque[int] = deque()
    checkpoint = 0  # the last candidate id read (listmonk's last_subscriber_id)
    claimed_since_start = False  # in this pass over the ids, from 0 up

    def claim() -> _Batch:
        # At the end of the ids, read again from 0 (rows another run gave back
        # behind us) unless a whole pass claimed nothing.
        nonlocal checkpoint, claimed_since_start
        while True:
            if not candidates:
                page = outbox_pending_ids(campaign_id=campaign.pk, after_id=checkpoint,
                                          limit=CANDIDATE_PAGE)
                if not page:
                    if checkpoint == 0 or not claimed_since_start:
                        return _Batch([], {}, renderer)
                    checkpoint, claimed_since_start = 0, False
                    continue
                candidates.extend(page)
                checkpoint = page[-1]
            take = [candidates.popleft() for _ in range(min(batch, len(candidates)))]
            rows = outbox_claim(campaign_id=campaign.pk, run_id=run_id, among=take)
            if rows:
                claimed_since_start = True
                products = segment_recommendations([r.customer_id for r in rows])
                return _Batch(rows, products, renderer)

    try:
        while True:
            status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
            if status != CampaignStatus.SENDING:
                stopped = status
                break
            current = claim()
            if not current.rows:
                break
            current.render()  # built while the rows are only claimed: a crash loses nothing
            failed += _outbox_fail_unsendable(current.unsendable, run_id)
            # The whole batch is marked `sending` (flushed commit) before its first
            # SMTP call: a worker killed now leaves up to a batch `unknown`, never resent.
            held = outbox_mark_sending(recipient_ids=list(current.rendered), run_id=run_id)
            ready = [(row, current.rendered[row.pk]) for row in current.rows if row.pk in held]
            outcomes: list[Outcome] = []
            try:
                for row, rendered in ready:
                    pacer.wait()
                    delivery = sender.deliver(from_address=campaign.from_address,
                                              to_address=row.email, payload=rendered.payload)
                    outcomes.append(Outcome(recipient_id=row.pk, delivery=delivery,
                                            message_id=rendered.message_id))
                    if delivery.status == RecipientStatus.SENT:
                        sent += 1
                    elif delivery.status == RecipientStatus.FAILED:
                        failed += 1
                    else:
                        unknown += 1
            except BaseException as exc:
                # Alive, so we know which rows never reached a server: the ones after
                # the current one, and the current one too when the server was not
                # reachable at all. The current one otherwise stays `sending` -> `unknown`.
                done = len(outcomes) + (0 if isinstance(exc, SmtpUnavailable) else 1)
                _settle_quietly(outcomes, [row.pk for row, _ in ready[done:]], run_id)
                raise
            outbox_record(outcomes)
            if time.monotonic() >= progress_at:  # counting the done rows is not free
                progress_at = time.monotonic() + PROGRESS_EVERY
                CampaignSend.objects.filter(pk=job.pk).update(sent=sent, failed=failed)
                job_progress(job=job, processed=_treatment_done(campaign.pk))
    finally:
        outbox_release(campaign_id=campaign.pk, run_id=run_id)
        sender.close()
        CampaignSend.objects.filter(pk=job.pk).update(
            sent=sent, failed=failed, unknown=became_unknown + unknown
        )
    job_progress(job=job, processed=_treatment_done(campaign.pk))
    if stopped:
        return f"Stopped ({stopped}) after {sent} sent in this run."
    _campaign_finish_if_done(campaign.pk)
    parts = [f"{sent} sent", f"{failed} failed"]
    if became_unknown + unknown:
        parts.append(f"{became_unknown + unknown} unknown (not resent)")
    return ", ".join(parts) + "."


class _Batch:
    """Claimed rows and the messages built for them."""

    def __init__(self, rows: list[Recipient], products: dict[int, tuple],
                 renderer: CampaignRenderer) -> None:
        self.rows, self.products, self.renderer = rows, products, renderer
        self.rendered: dict[int, RenderedEmail] = {}
        self.unsendable: dict[int, str] = {}

    def render(self) -> None:
        for row in self.rows:
            try:
                self.rendered[row.pk] = self.renderer.payload(
                    row, self.products.get(row.customer_id, ())
                )
            except ValueError as exc:  # bad address or header: this row can never go
                self.unsendable[row.pk] = f"not sendable: {exc}"[:2000]


def _outbox_fail_unsendable(errors: dict[int, str], run_id: str) -> int:
    failed = 0
    for recipient_id, error in errors.items():
        failed += Recipient.objects.filter(
            pk=recipient_id, status=RecipientStatus.CLAIMED, claimed_by=run_id
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
