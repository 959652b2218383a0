"""Sending benchmark: 10,000 campaign emails through our sender vs a bare smtplib loop.

Ours: the real service on a real database — audience snapshot into outbox rows,
claim batches with SKIP LOCKED, render them (the campaign composed once per
variant, then each recipient's values and tokens filled in), commit the batch
as `sending` before its first SMTP conversation, send, record the answers. Baseline: the same message bytes, built
before the clock starts, pushed with `smtplib.SMTP.sendmail` over one
connection, nothing else. (Also printed, as extra information: a loop that
builds each message with the full `email`-package pipeline and sends it.)
Both talk to the same local aiosmtpd server, which runs in its own process and
throws messages away, so it costs both sides the same.

    python -m benchmarks.sending                       # embedded PostgreSQL + Redis
    DATABASE_URL=postgres://postgres@/x?host=/tmp python -m benchmarks.sending
    python -m benchmarks.sending --messages 2000       # a quicker look

Without DATABASE_URL the embedded PostgreSQL of `make run` is started from its
pip wheel (see benchmarks/common.py); with it, a database `profiler_bench_sending`
is (re)created on that server. Target: throughput ratio ours/baseline >= 0.8.
Ends with one JSON line {"benchmark": "sending", "seconds", "baseline_seconds", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

SERVER_SCRIPT = r"""
import sys, threading
from aiosmtpd.controller import Controller
class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(port)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--no-build-send", action="store_true",
                        help="skip the extra build+send loop (about a minute at 10,000)")
    args = parser.parse_args()
    n = args.messages

    from benchmarks.common import machine, report, setup_django

    port = free_port()
    server = start_smtp_server(port)
    setup_django("profiler_bench_sending")
    from django.conf import settings

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.PUBLIC_BASE_URL = "https://shop.example.com"

    import smtplib

    from campaigns.models import CampaignSend, Recipient
    from campaigns.services.campaigns import campaign_create, campaign_send_start
    from campaigns.services.rendering import CampaignRenderer
    from campaigns.services.sending import campaign_send_run
    from ingest.models import Customer
    from profiler_site.core.jobs import execute_job

    Customer.objects.bulk_create(
        [Customer(key=f"c{i}@example.com", email=f"c{i}@example.com",
                  first_name=f"First{i}", last_name="Buyer", accepts_marketing=True)
         for i in range(n)], batch_size=5000)
    body = (
        '<h1>Autumn is here, {{ first_name | "friend" }}</h1>'
        "<p>Our new beans are roasted this week. <strong>Free shipping</strong> until Sunday.</p>"
        '<p><a href="https://beans.example/autumn">Shop the autumn beans</a> · '
        '<a href="https://beans.example/brewing">Brewing guide</a></p>'
        "{{ recommended_products }}"
    )
    fields = {"subject": 'Autumn beans for you, {{ first_name | "friend" }}',
              "from_name": "Bean Shop", "from_address": "shop@beans.example", "html_body": body,
              "holdout_share": 0.0, "max_per_second": 0}

    # Baselines, over one connection with smtplib.sendmail. "prebuilt" (the target's
    # baseline) sends the bytes our renderer makes for the same recipients, built
    # before the clock starts: the SMTP loop alone. "build+send" (extra information)
    # builds each message with the full compose + email-package pipeline inside
    # the loop, as a bare script sending personalised mail would.
    warm = campaign_create(name="baseline", **fields)
    campaign_send_start(campaign_id=warm.pk)
    renderer = CampaignRenderer(warm)
    rows = list(Recipient.objects.filter(campaign=warm).order_by("id"))
    renderer.message(rows[0])  # create the Link rows once, outside the timing
    build_send = float("nan")
    if not args.no_build_send:
        start = time.perf_counter()
        conn = smtplib.SMTP("127.0.0.1", port)
        for r in rows:
            conn.sendmail("shop@beans.example", [r.email], renderer.message(r).as_bytes())
        conn.quit()
        build_send = time.perf_counter() - start
    payloads = [(r.email, renderer.payload(r).payload) for r in rows]
    start = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port)
    for to, payload in payloads:
        conn.sendmail("shop@beans.example", [to], payload)
    conn.quit()
    prebuilt = time.perf_counter() - start
    Recipient.objects.filter(campaign=warm).delete()

    # Ours: snapshot + the sending run, timed end to end.
    campaign = campaign_create(name="bench", **fields)
    start = time.perf_counter()
    job = campaign_send_start(campaign_id=campaign.pk)
    snapshot = time.perf_counter() - start
    job.refresh_from_db()
    execute_job(model=CampaignSend, job_id=job.pk, task_id=job.task_id, work=campaign_send_run)
    ours = time.perf_counter() - start
    sent = Recipient.objects.filter(campaign=campaign, status="sent").count()
    server.stdin.close()
    server.wait(timeout=10)

    print(machine())
    print(f"baseline, bare smtplib loop, prebuilt bytes: {n / prebuilt:,.0f} msg/s "
          f"({prebuilt:.2f} s)")
    print(f"extra: bare smtplib loop, build+send: {n / build_send:,.0f} msg/s "
          f"({build_send:.2f} s)")
    print(f"ours (snapshot {snapshot:.2f} s + send): {n / ours:,.0f} msg/s ({ours:.2f} s), "
          f"{sent:,} sent")
    print(f"throughput ratio ours/baseline(prebuilt): {prebuilt / ours:.2f} (target >= 0.8)")
    print(f"extra: throughput ratio ours/build+send loop: {build_send / ours:.2f}")
    report("sending", ours, prebuilt, throughput=True, messages=n, sent=sent,
           snapshot_seconds=round(snapshot, 3),
           baseline="smtplib loop over one connection, the same message bytes prebuilt",
           build_send_seconds=None if args.no_build_send else round(build_send, 3),
           ratio_vs_build_send=None if args.no_build_send else round(build_send / ours, 3))


if __name__ == "__main__":
    main()
