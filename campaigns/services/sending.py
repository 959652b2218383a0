"""The sending run: outbox rows -> SMTP, at most once per recipient.

Guarantees, and how:

* Two runs never send the same row. Rows are claimed in batches with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (state ``claimed`` plus the run's id),
  and each row moves ``claimed -> sending`` with a conditional UPDATE that
  commits *before* the SMTP conversation. A run that lost its claim (another
  run gave it back) sees zero rows updated and skips it.
* A run that dies mid-conversation leaves its row in ``sending``. The next run
  turns such rows into ``unknown`` and never sends them again: the server may
  have accepted the message before the connection died, and a second copy is
  worse than a missing one. Rows still only ``claimed`` had no SMTP traffic and
  go back to ``pending``.
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
from campaigns.services.rendering import CampaignRenderer
from profiler_site.core.jobs import job_progress

logger = logging.getLogger(__name__)


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


def outbox_claim(*, campaign_id: int, run_id: str, limit: int) -> list[Recipient]:
    with transaction.atomic():
        rows = list(
            Recipient.objects.select_for_update(skip_locked=True)
            .filter(
                campaign_id=campaign_id,
                group=RecipientGroup.TREATMENT,
                status=RecipientStatus.PENDING,
            )
            .order_by("id")[:limit]
        )
        if rows:
            Recipient.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=RecipientStatus.CLAIMED, claimed_by=run_id, claimed_at=timezone.now()
            )
    return rows


def outbox_release(*, campaign_id: int, run_id: str) -> None:
    Recipient.objects.filter(
        campaign_id=campaign_id, status=RecipientStatus.CLAIMED, claimed_by=run_id
    ).update(status=RecipientStatus.PENDING, claimed_by="", claimed_at=None)


def outbox_mark_sending(*, recipient_id: int, run_id: str) -> bool:
    """claimed -> sending, committed now (autocommit), only if this run still holds it."""
    return bool(
        Recipient.objects.filter(
            pk=recipient_id, status=RecipientStatus.CLAIMED, claimed_by=run_id
        ).update(status=RecipientStatus.SENDING, sending_at=timezone.now())
    )


def outbox_record(*, recipient_id: int, status: str, detail: str, attempts: int,
                  message_id: str = "") -> None:
    now = timezone.now()
    fields: dict = {"status": status, "attempts": attempts}
    if status == RecipientStatus.SENT:
        fields.update(sent_at=now, smtp_response=detail[:2000], error="")
    else:
        fields.update(error=detail[:2000])
    if message_id:
        fields["message_id"] = message_id
    with transaction.atomic():
        # The answer may be written with an asynchronous commit: if PostgreSQL itself
        # crashed in the next fraction of a second the row would stay `sending` and
        # become `unknown`, which is safe. The `sending` mark, which prevents a
        # resend, is always a normal (flushed) commit.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        Recipient.objects.filter(pk=recipient_id).update(**fields)


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
    try:
        while True:
            status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
            if status != CampaignStatus.SENDING:
                stopped = status
                break
            rows = outbox_claim(campaign_id=campaign.pk, run_id=run_id, limit=batch)
            if not rows:
                break
            products = segment_recommendations([r.customer_id for r in rows])
            for row in rows:
                try:  # built while the row is only claimed: a crash here loses nothing
                    message = renderer.message(row, products.get(row.customer_id, ()))
                    payload = message.as_bytes()
                except ValueError as exc:  # bad address or header: this row can never go
                    if Recipient.objects.filter(
                        pk=row.pk, status=RecipientStatus.CLAIMED, claimed_by=run_id
                    ).update(status=RecipientStatus.FAILED, error=f"not sendable: {exc}"[:2000]):
                        failed += 1
                    continue
                pacer.wait()
                if not outbox_mark_sending(recipient_id=row.pk, run_id=run_id):
                    continue  # another run took it back; it is theirs now
                try:
                    delivery = sender.deliver(
                        from_address=campaign.from_address, to_address=row.email, payload=payload
                    )
                except SmtpUnavailable:
                    # Nothing of this message reached a server: give the row back.
                    Recipient.objects.filter(pk=row.pk, status=RecipientStatus.SENDING).update(
                        status=RecipientStatus.PENDING, claimed_by="", claimed_at=None
                    )
                    raise
                outbox_record(recipient_id=row.pk, status=delivery.status, detail=delivery.detail,
                              attempts=delivery.attempts, message_id=message["Message-ID"])
                if delivery.status == RecipientStatus.SENT:
                    sent += 1
                elif delivery.status == RecipientStatus.FAILED:
                    failed += 1
                else:
                    unknown += 1
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


def _campaign_finish_if_done(campaign_id: int) -> None:
    open_rows = Recipient.objects.filter(campaign_id=campaign_id).filter(
        Q(status=RecipientStatus.PENDING) | Q(status=RecipientStatus.CLAIMED)
        | Q(status=RecipientStatus.SENDING)
    )
    if not open_rows.exists():
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, sent_at=timezone.now()
        )
