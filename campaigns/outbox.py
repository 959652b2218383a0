"""The Outbox page's reads: the Maildir that the local inbox (`make run`) writes.

Listing sorts the folder by file time and parses only the headers of the page's
messages, so a busy local inbox (a whole campaign lands here) pages quickly.
Headers are decoded (RFC 2047) by the standard library's modern email policy,
so a subject reads "Chloé, …" and not "=?utf-8?q?Chlo=C3=A9…".
"""

from __future__ import annotations

import email.policy
import mailbox
import os
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.core.paginator import Page, Paginator

from campaigns.local_inbox import inbox_dir

OUTBOX_PAGE_SIZE = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxRow:
    key: str
    subject: str
    to: str
    sent_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxMessage:
    key: str
    subject: str
    html: str
    text: str
    headers: str  # the raw header block, as received (encoded words left as sent)


def _maildir() -> mailbox.Maildir | None:
    directory = inbox_dir()
    if not (directory / "cur").is_dir() or not (directory / "new").is_dir():
        return None
    return mailbox.Maildir(str(directory), factory=None, create=False)


def _keys_newest_first(directory: Path) -> list[str]:
    entries: list[tuple[float, str]] = []
    for sub in ("new", "cur"):
        with os.scandir(directory / sub) as found:
            for entry in found:
                if entry.is_file() and not entry.name.startswith("."):
                    # A Maildir key is the file name up to the info suffix (":2,S").
                    entries.append((entry.stat().st_mtime, entry.name.split(":", 1)[0]))
    entries.sort(reverse=True)
    return [key for _mtime, key in entries]


def _header(headers, name: str) -> str:
    try:
        return str(headers.get(name, "") or "")
    except (ValueError, TypeError, IndexError):  # a malformed header stays raw
        return str(headers.get_all(name, [""])[0])


def _sent_at(headers) -> datetime | None:
    try:
        value = parsedate_to_datetime(str(headers.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo is not None else None


def outbox_page(*, page_number: int | str | None) -> Page | None:
    """The page's rows, newest first; None when the local inbox was never started."""
    maildir = _maildir()
    if maildir is None:
        return None
    page = Paginator(_keys_newest_first(inbox_dir()), OUTBOX_PAGE_SIZE).get_page(page_number)
    parser = BytesHeaderParser(policy=email.policy.default)
    rows = []
    for key in page.object_list:
        try:
            with maildir.get_file(key) as handle:
                headers = parser.parse(handle)
        except (KeyError, FileNotFoundError):  # removed since the listing
            continue
        rows.append(OutboxRow(key=key, subject=_header(headers, "Subject"),
                              to=_header(headers, "To"), sent_at=_sent_at(headers)))
    page.object_list = rows
    return page


def outbox_message(*, key: str) -> OutboxMessage | None:
    maildir = _maildir()
    if maildir is None:
        return None
    try:
        with maildir.get_file(key) as handle:  # looks the key up in the folder listing only
            raw = handle.read()
    except (KeyError, ValueError, FileNotFoundError):
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = text = ""
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        content = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        if part.get_content_type() == "text/html" and not html:
            html = content
        elif part.get_content_type() == "text/plain" and not text:
            text = content
    headers, _sep, _body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return OutboxMessage(key=key, subject=_header(message, "Subject"), html=html, text=text,
                         headers=headers.decode("utf-8", errors="replace"))
