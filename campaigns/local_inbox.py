"""The local inbox for `make run`: a real SMTP server that keeps every message.

Messages land in a Maildir under var/inbox, which the Outbox page reads, so the
owner sees exactly what customers would get before configuring a real server.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, directory: Path) -> None:
        # Maildir(create=True) only makes tmp/new/cur when the folder itself is new,
        # so an existing empty folder would reject every message: make all four.
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(directory), create=True)

    async def handle_DATA(self, server, session, envelope):
        message = mailbox.MaildirMessage(envelope.original_content or envelope.content)
        message["X-Profiler-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.maildir.add(message)
        return "250 Message accepted for delivery"


def inbox_dir() -> Path:
    base = Path(os.environ.get("PROFILER_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    return base / "inbox"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    controller = Controller(MaildirHandler(inbox_dir()), hostname=args.host, port=args.port)
    controller.start()
    print(f"local inbox listening on {args.host}:{args.port}, saving to {inbox_dir()}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
