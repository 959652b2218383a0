"""One campaign email as a standards-abiding ``EmailMessage``.

Header safety rules (the body is the caller's sanitised HTML):

* Subject, sender name, addresses, URLs and extra headers containing CR, LF or
  another control character are *rejected* with ``HeaderInjectionError``: they are
  written by the owner or the app, so a line break there is a bug to surface.
* The recipient *name* is customer data from an import; a stray newline there
  must not stop a campaign, so control characters are collapsed to spaces. The
  name is then encoded by ``email.headerregistry`` and can never start a header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import css_inline

from campaigns.emails.merge import clean_value, is_safe_web_url
from campaigns.emails.plaintext import html_to_text

# The default SMTP policy folds at 78 columns and RFC 2047-encodes any longer
# unbreakable token, which turns a long List-Unsubscribe URL into an encoded word
# that mailbox providers no longer recognise. Headers are therefore folded at the
# hard limit of 998 (RFC 5322 §2.1.1); the body parts keep the 76-column default.
HEADER_POLICY = policy.SMTP.clone(max_line_length=998)
BODY_POLICY = policy.SMTP

DEFAULT_STYLESHEET = """
body { margin: 0; padding: 0; background-color: #ffffff; }
.email-body { max-width: 600px; margin: 0 auto; padding: 16px;
  font-family: Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #222222; }
h1, h2, h3 { font-family: Helvetica, Arial, sans-serif; color: #111111; line-height: 1.25; }
a { color: #1a5fb4; }
img { max-width: 100%; height: auto; border: 0; }
table { border-collapse: collapse; }
"""

_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_ADDRESS_RE = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)$"
)
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_HEADER_NAME_RE = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext
# Headers this module owns; an "extra" header may not replace or add to them.
_RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "message-id",
        "mime-version",
        "reply-to",
        "sender",
        "subject",
        "to",
    }
)
_MAX_URL_LENGTH = 900  # keeps List-Unsubscribe under the 998-octet line limit


class HeaderInjectionError(ValueError):
    pass


class InvalidAddressError(ValueError):
    pass


def message_id_for(seed: str, domain: str) -> str:
    """Deterministic Message-ID: a retried send of the same recipient reuses it."""
    _check_domain(domain)
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{domain}>"


def build_message(
    *,
    subject: str,
    from_name: str,
    from_address: str,
    to_name: str,
    to_address: str,
    html_body: str,
    text_body: str | None = None,
    message_id_seed: str,
    domain: str,
    unsubscribe_url: str,
    unsubscribe_post_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    reply_to: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
    stylesheet: str = DEFAULT_STYLESHEET,
) -> EmailMessage:
    """A multipart/alternative message (text, then CSS-inlined HTML).

    ``html_body`` must already be sanitised, merged and link-tracked (see
    ``compose.py``); ``stylesheet`` is ours and trusted, the owner cannot add CSS
    rules other than filtered inline ``style`` attributes. ``text_body`` defaults
    to a conversion of ``html_body``.

    The one-click header pair of RFC 8058 is added only when
    ``unsubscribe_post_url`` is HTTPS, as that RFC requires; otherwise
    ``List-Unsubscribe`` points at ``unsubscribe_url`` (the page).
    """
    _reject_control_characters("subject", subject)
    _reject_control_characters("from_name", from_name)
    if date is not None and date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")

    msg = EmailMessage(policy=HEADER_POLICY)
    msg["Subject"] = subject
    msg["From"] = Address(display_name=from_name, addr_spec=_address("from_address", from_address))
    msg["To"] = Address(
        display_name=clean_value(to_name), addr_spec=_address("to_address", to_address)
    )
    if reply_to is not None:
        msg["Reply-To"] = Address(addr_spec=_address("reply_to", reply_to))
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id_for(message_id_seed, domain)
    msg["MIME-Version"] = "1.0"
    _add_unsubscribe_headers(msg, unsubscribe_url, unsubscribe_post_url, unsubscribe_mailto)
    for name, value in (extra_headers or {}).items():
        _add_extra_header(msg, name, value)

    text_part = EmailMessage(policy=BODY_POLICY)
    text_part.set_content(
        text_body if text_body is not None else html_to_text(html_body),
        cte="quoted-printable",
    )
    html_part = EmailMessage(policy=BODY_POLICY)
    html_part.set_content(inline_css(html_body, stylesheet), subtype="html", cte="quoted-printable")
    msg.make_alternative()
    # Order matters: clients show the last alternative they can render (RFC 2046).
    msg.attach(_as_part(text_part))
    msg.attach(_as_part(html_part))
    return msg


def inline_css(html_body: str, stylesheet: str = DEFAULT_STYLESHEET) -> str:
    """A full HTML document with ``stylesheet`` applied as inline styles.

    Gmail and Outlook drop or ignore many ``<style>`` rules, so styles go on the
    elements. Remote stylesheets are never fetched.
    """
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body><div class="email-body">{html_body}</div></body></html>'
    )
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, extra_css=stylesheet)
    return inliner.inline(document)


def _as_part(part: EmailMessage) -> EmailMessage:
    # A MIME part does not carry its own MIME-Version header.
    del part["MIME-Version"]
    return part


def _reject_control_characters(field: str, value: str) -> None:
    if _CONTROL_RE.search(value):
        raise HeaderInjectionError(f"{field} contains a line break or control character")


def _address(field: str, value: str) -> str:
    _reject_control_characters(field, value)
    if not _ADDRESS_RE.fullmatch(value):
        raise InvalidAddressError(f"{field} is not a plain ASCII address: {value!r}")
    return value


def _check_domain(domain: str) -> None:
    _reject_control_characters("domain", domain)
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError(f"not a host name: {domain!r}")


def _checked_url(field: str, url: str, *, schemes: set[str]) -> str:
    _reject_control_characters(field, url)
    # `<`, `>`, `,` and spaces delimit URIs inside List-Unsubscribe.
    if len(url) > _MAX_URL_LENGTH or any(char in url for char in "<>, "):
        raise HeaderInjectionError(f"{field} cannot be placed in a header: {url!r}")
    if urlsplit(url).scheme not in schemes or (schemes != {"mailto"} and not is_safe_web_url(url)):
        raise ValueError(f"{field} must use {' or '.join(sorted(schemes))}: {url!r}")
    return url


def _add_unsubscribe_headers(
    msg: EmailMessage, page_url: str, post_url: str | None, mailto: str | None
) -> None:
    _checked_url("unsubscribe_url", page_url, schemes={"http", "https"})
    targets: list[str] = []
    if post_url is not None:
        targets.append(_checked_url("unsubscribe_post_url", post_url, schemes={"http", "https"}))
    else:
        targets.append(page_url)
    if mailto is not None:
        targets.append(_checked_url("unsubscribe_mailto", mailto, schemes={"mailto"}))
    msg["List-Unsubscribe"] = ", ".join(f"<{target}>" for target in targets)
    if post_url is not None and urlsplit(post_url).scheme == "https":
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _add_extra_header(msg: EmailMessage, name: str, value: str) -> None:
    if not _HEADER_NAME_RE.fullmatch(name):
        raise HeaderInjectionError(f"invalid header name: {name!r}")
    if name.lower() in _RESERVED_HEADERS:
        raise ValueError(f"{name} is set by build_message and cannot be overridden")
    _reject_control_characters(name, value)
    msg[name] = value
