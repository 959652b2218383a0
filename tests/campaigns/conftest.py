"""A real SMTP server (aiosmtpd) per test, with switchable misbehaviour, and campaign helpers."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from campaigns.models import Campaign, CampaignSend, Recipient
from campaigns.services.campaigns import campaign_create, campaign_send_start
from campaigns.services.sending import campaign_send_run
from profiler_site.core.jobs import execute_job
from tests.factories import CustomerFactory

DROP = "DROP"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    """Keeps every accepted message. Hooks decide a RCPT/DATA answer per call:
    None (accept), an SMTP reply like "451 try later", or DROP (close the connection)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpt_calls = 0
        self.data_calls = 0
        self.connections = 0
        self.on_rcpt = None  # callable(call_number, address) -> None | str
        self.on_data = None  # callable(call_number) -> None | str
        self.hold_data_at: int | None = None  # DATA call number to hold until released
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls += 1
        verdict = self.on_rcpt(self.rcpt_calls, address) if self.on_rcpt else None
        if verdict == DROP:
            server.transport.close()
            return "421 closing"
        if verdict:
            return verdict
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        number = self.data_calls
        if self.hold_data_at == number:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        verdict = self.on_data(number) if self.on_data else None
        if verdict == DROP:
            server.transport.close()
            return "421 closing"
        if verdict:
            return verdict
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        with self._lock:
            self.messages.append(message)
        return f"250 OK queued as {number}"

    def received_to(self) -> list[str]:
        return [str(m["To"].addresses[0].addr_spec) for m in self.messages]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer()
    server.controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.CAMPAIGN_RETRY_DELAYS = (0.01, 0.02, 0.05)
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    yield server
    server.handler.release.set()
    server.controller.stop()


def make_customers(n: int, **fields) -> list:
    return [CustomerFactory(**fields) for _ in range(n)]


def make_campaign(**fields) -> Campaign:
    values = {
        "name": "Autumn beans",
        "subject": 'Hello {{ first_name | "there" }}',
        "from_name": "Bean Shop",
        "from_address": "shop@beans.example",
        "html_body": '<p>Hi {{ first_name }}</p><p><a href="https://beans.example/autumn">'
                     "Autumn beans</a></p>",
        "audience_kind": "all",
        "audience_key": "all",
        "holdout_share": 0.10,
    }
    values.update(fields)
    return campaign_create(**values)


def run_send_inline(campaign: Campaign) -> CampaignSend:
    """Start the campaign and run its sending job in this process (no broker)."""
    job = campaign_send_start(campaign_id=campaign.pk)
    job.refresh_from_db()
    execute_job(model=CampaignSend, job_id=job.pk, task_id=job.task_id, work=campaign_send_run)
    job.refresh_from_db()
    return job


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def sent(smtp_server, settings):
    """One campaign sent to 12 customers: its first email's tracking and unsubscribe paths."""
    settings.CAMPAIGN_TRACK_OPENS = True
    make_customers(12)
    campaign = make_campaign()
    run_send_inline(campaign)
    message = smtp_server.messages[0]
    html = html_part(message)
    click_path = re.search(r'href="https://shop\.example\.com(/t/c/[^"]+)"', html).group(1)
    open_path = re.search(r'src="https://shop\.example\.com(/t/o/[^"]+)"', html).group(1)
    unsubscribe_url = message["List-Unsubscribe"].strip("<>")
    to = message["To"].addresses[0].addr_spec
    recipient = Recipient.objects.get(campaign=campaign, email=to)
    return {"campaign": campaign, "click": click_path, "open": open_path,
            "one_click": unsubscribe_url.replace("https://shop.example.com", ""),
            "recipient": recipient}
