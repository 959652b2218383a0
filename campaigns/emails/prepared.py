"""A campaign's email composed once, then filled in per recipient.

``compose_email`` + ``build_message`` + ``as_bytes`` cost a few milliseconds a
message (two sanitiser passes, two HTML walks, CSS inlining, the ``email``
package), which is most of a sending run's time. Within one campaign every
message is the same template with other customer values and tokens, so
``prepare_email`` runs that full pipeline *once* with sentinels (unique
placeholder words and URLs) where the per-recipient values go, and
``PreparedEmail.fill`` substitutes the real values into the finished HTML and
text and writes the message bytes directly.

The substitution is exact only where a value lands in a known context, so
``prepare_email`` checks where every sentinel ended up and returns ``None``
(use the full pipeline) unless:

* names and the email address appear only as text, outside links (as text,
  the sanitiser and the CSS inliner write a value escaped as ``&``, ``<``,
  ``>`` -> entities, nothing else; a name inside a link or an attribute could
  change the plain-text part or a tracked URL);
* the unsubscribe, click and open-pixel URLs appear as whole ``href``/``src``
  values (or, the unsubscribe URL, as text).

``fill`` returns ``None`` for a recipient it cannot do exactly (an empty value,
which makes the template's fallback appear; an unusual URL or header), and the
caller uses the full pipeline for that one. ``tests/campaigns/emails/
test_prepared.py`` holds the two paths to the same parsed message.
"""

from __future__ import annotations

import binascii
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import format_datetime
from html.parser import HTMLParser

from campaigns.emails.compose import compose_email
from campaigns.emails.merge import (
    MergeContext,
    ProductLink,
    clean_value,
)
from campaigns.emails.message import (
    _ADDRESS_RE,
    _CONTROL_RE,
    HEADER_POLICY,
    build_message,
    inline_css,
    message_id_for,
)

# URLs we generate (base URL + signed token) need no escaping anywhere: not in
# HTML, not in a header, not in List-Unsubscribe. Anything else takes the slow path.
# (A letter or digit right after "//" is a host name, so is_safe_web_url holds too.)
_PLAIN_URL_RE = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9._~:/%+-]{0,880}")
# A display name or subject the email package would write unchanged.
_PLAIN_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 '-]{0,200}[A-Za-z0-9])?")
_PLAIN_SUBJECT_RE = re.compile(r"[!-~](?:[ -~]{0,900}[!-~])?")
# full_name is written as the first and the last name sentinels with a space between.
_TEXT_TAGS = ("first_name", "last_name", "email")


def _html_text(value: str) -> str:
    # How html5ever (nh3, css_inline) serialises a text node; clean_value already
    # turned U+00A0 (the only other escaped character) into a space.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _qp(text: str) -> bytes:
    body = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


_clock: tuple[int, str] = (0, "")  # (second, its Date value): one format_datetime a second


def _date_header(date: datetime | None) -> str:
    global _clock
    if date is not None:
        return format_datetime(date)
    second = int(time.time())
    if _clock[0] != second:
        _clock = (second, format_datetime(datetime.fromtimestamp(second, UTC)))
    return _clock[1]


def _header(name: str, value: object) -> str:
    return HEADER_POLICY.fold(name, HEADER_POLICY.header_factory(name, value))


def _parts(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    """`text` cut at each sentinel: literal, sentinel, literal, ..., literal."""
    parts: list[str] = []
    at = 0
    for match in pattern.finditer(text):
        parts += (text[at:match.start()], match.group(0))
        at = match.end()
    parts.append(text[at:])
    return tuple(parts)


def _join(parts: tuple[str, ...], values: dict[str, str]) -> str:
    """`_parts` put back together with each sentinel replaced: one pass, as `re.sub` does."""
    filled = list(parts)
    filled[1::2] = [values[sentinel] for sentinel in parts[1::2]]
    return "".join(filled)


@dataclass(frozen=True, kw_only=True, slots=True)
class FilledEmail:
    message_id: str
    payload: bytes


class _Placement(HTMLParser):
    """Where each sentinel landed: (sentinel, context) for text and attributes."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.pattern = pattern
        self.found: list[tuple[str, str]] = []
        self.in_link = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.in_link += 1
        for name, value in attrs:
            for match in self.pattern.finditer(value or ""):
                exact = match.group(0) == value
                self.found.append((match.group(0), f"{tag}.{name}" if exact else "attribute"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.in_link -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.in_link = max(0, self.in_link - 1)

    def handle_data(self, data: str) -> None:
        for match in self.pattern.finditer(data):
            self.found.append((match.group(0), "link text" if self.in_link else "text"))


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedEmail:
    subject_template: str
    html: str  # the finished, CSS-inlined document, with sentinels
    text: str  # the plain-text part, with sentinels
    subject: str  # the rendered subject, with sentinels
    # The three above cut at their sentinels (`_parts`): filling in is a join.
    html_parts: tuple[str, ...]
    text_parts: tuple[str, ...]
    subject_parts: tuple[str, ...]
    links: tuple[str, ...]  # tracked target URLs, by index
    sentinels: dict[str, str]  # role -> sentinel ("first_name", "unsubscribe", "click3", ...)
    pattern: re.Pattern[str]
    empty: frozenset[str]  # text tags prepared as empty (their fallback is in the template)
    shop_name: str
    from_header: str
    domain: str
    boundary: str
    one_click: bool
    open_pixel: bool

    def fill(
        self,
        *,
        first_name: str,
        last_name: str,
        to_name: str,
        to_address: str,
        message_id_seed: str,
        unsubscribe_url: str,
        unsubscribe_post_url: str | None,
        open_pixel_url: str | None,
        click_urls: Sequence[str],
        date: datetime | None = None,
    ) -> FilledEmail | None:
        """This recipient's message bytes, or None when only the full pipeline is exact."""
        urls = [unsubscribe_url, *click_urls]
        if unsubscribe_post_url is not None:
            urls.append(unsubscribe_post_url)
        if open_pixel_url is not None:
            urls.append(open_pixel_url)
        if (
            len(click_urls) != len(self.links)
            or (unsubscribe_post_url is not None) != self.one_click
            or (open_pixel_url is not None) != self.open_pixel
            or not all(_PLAIN_URL_RE.fullmatch(url) for url in urls)
            or not _ADDRESS_RE.fullmatch(to_address)
        ):
            return None
        if unsubscribe_post_url is not None and not unsubscribe_post_url.startswith("https://"):
            return None
        values = {
            "first_name": clean_value(first_name),
            "last_name": clean_value(last_name),
            "email": clean_value(to_address),
        }
        if {tag for tag, value in values.items() if not value} != self.empty:
            return None  # another variant: a fallback shows where this one has a sentinel

        in_text = {self.sentinels[tag]: values[tag] for tag in _TEXT_TAGS}
        in_text[self.sentinels["unsubscribe"]] = unsubscribe_url
        in_html = {sentinel: _html_text(value) for sentinel, value in in_text.items()}
        in_html[self.sentinels["unsubscribe"]] = unsubscribe_url
        for index, url in enumerate(click_urls):
            in_html[self.sentinels[f"click{index}"]] = url
        if open_pixel_url is not None:
            in_html[self.sentinels["open"]] = open_pixel_url
        # One pass each: a customer value that happens to contain a sentinel stays as is.
        html = _join(self.html_parts, in_html)
        text = _join(self.text_parts, in_text)
        # The subject's merge tags are text tags (values cleaned, as `render` does;
        # an empty one is this variant's fallback) or the unsubscribe URL.
        subject = _join(self.subject_parts, in_text)
        if _CONTROL_RE.search(subject):
            return None
        name = clean_value(to_name)
        message_id = message_id_for(message_id_seed, self.domain)
        headers = [
            f"Subject: {subject}\r\n" if _PLAIN_SUBJECT_RE.fullmatch(subject) and "=?" not in
            subject and "  " not in subject else _header("Subject", subject),
            self.from_header,
            (f"To: {name} <{to_address}>\r\n" if name else f"To: {to_address}\r\n")
            if not name or _PLAIN_NAME_RE.fullmatch(name)
            else _header("To", Address(display_name=name, addr_spec=to_address)),
            f"Date: {_date_header(date)}\r\n",
            f"Message-ID: {message_id}\r\n",
            "MIME-Version: 1.0\r\n",
            f"List-Unsubscribe: <{unsubscribe_post_url or unsubscribe_url}>\r\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" if self.one_click else "",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n',
        ]
        part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        marker = f"--{self.boundary}\r\n"
        payload = b"".join((
            "".join(headers).encode("ascii"),
            (marker + part.format("plain")).encode("ascii"),
            _qp(text if text.endswith("\n") else text + "\n"),
            ("\r\n" + marker + part.format("html")).encode("ascii"),
            _qp(html if html.endswith("\n") else html + "\n"),
            f"\r\n--{self.boundary}--\r\n".encode("ascii"),
        ))
        return FilledEmail(message_id=message_id, payload=payload)


def prepare_email(
    *,
    subject_template: str,
    html_template: str,
    shop_name: str,
    from_name: str,
    from_address: str,
    domain: str,
    products: tuple[ProductLink, ...] = (),
    one_click: bool,
    open_pixel: bool,
    empty: frozenset[str] = frozenset(),
) -> PreparedEmail | None:
    """The campaign's message with sentinels, or None when filling it in would not be exact.

    ``empty`` names the text tags (first_name, last_name, email) whose value is
    empty for the recipients this variant is for: the template's fallbacks for
    them are rendered by the real pipeline.

    Raises what ``compose_email`` and ``build_message`` raise for a bad template
    or sender (the full pipeline would raise the same for every recipient).
    """
    tag = f"zq{secrets.token_hex(6)}"
    if tag in html_template or tag in subject_template:  # pragma: no cover - 2**-48
        return None
    sentinels = {name: f"{tag}{name.replace('_', '')}" for name in _TEXT_TAGS}
    unknown = set(empty) - set(_TEXT_TAGS)
    if unknown:
        raise ValueError(f"not a text tag: {sorted(unknown)}")
    sentinels["unsubscribe"] = f"https://{tag}unsubscribe.invalid/"
    sentinels["open"] = f"https://{tag}open.invalid/"
    context = MergeContext(
        unsubscribe_url=sentinels["unsubscribe"],
        first_name="" if "first_name" in empty else sentinels["first_name"],
        last_name="" if "last_name" in empty else sentinels["last_name"],
        email="" if "email" in empty else sentinels["email"],
        shop_name=shop_name,
        recommended_products=products,
    )
    links: list[str] = []

    def track(index: int, url: str) -> str:
        links.append(url)
        sentinels[f"click{index}"] = f"https://{tag}click{index}.invalid/"
        return sentinels[f"click{index}"]

    composed = compose_email(
        subject_template=subject_template,
        html_template=html_template,
        context=context,
        track=track,
        open_pixel_url=sentinels["open"] if open_pixel else None,
    )
    # The header checks of the full pipeline, once: the sender and the subject template.
    build_message(
        subject=subject_template, from_name=from_name, from_address=from_address,
        to_name="", to_address="check@example.com", html_body="", text_body="",
        message_id_seed="check", domain=domain, unsubscribe_url="https://example.com/u/",
    )
    html = inline_css(composed.html)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(sentinels.values(), key=len,
                                                                reverse=True)))
    placement = _Placement(pattern)
    placement.feed(html)
    placement.close()
    allowed = {sentinels[name]: {"text"} for name in _TEXT_TAGS}
    allowed[sentinels["unsubscribe"]] = {"text", "link text", "a.href"}
    allowed[sentinels["open"]] = {"img.src"}
    for index in range(len(links)):
        allowed[sentinels[f"click{index}"]] = {"a.href"}
    if len(placement.found) != len(pattern.findall(html)) or any(
        where not in allowed[sentinel] for sentinel, where in placement.found
    ):
        return None
    if any(pattern.search(url) for url in links):
        return None  # a merge tag inside a link target: one Link row per recipient
    text_sentinels = {sentinels[name] for name in (*_TEXT_TAGS, "unsubscribe")}
    text_found = pattern.findall(composed.text)
    if any(sentinel not in text_sentinels for sentinel in text_found):
        return None  # pragma: no cover - the text part is made before links are tracked
    boundary = f"=_{secrets.token_hex(16)}"
    subject_found = pattern.findall(composed.subject)
    if any(sentinel not in text_sentinels for sentinel in subject_found):
        return None  # pragma: no cover - only text tags and URLs render into a subject
    return PreparedEmail(
        subject_template=subject_template,
        html=html,
        text=composed.text,
        subject=composed.subject,
        html_parts=_parts(pattern, html),
        text_parts=_parts(pattern, composed.text),
        subject_parts=_parts(pattern, composed.subject),
        links=tuple(links),
        sentinels=sentinels,
        pattern=pattern,
        empty=frozenset(empty),
        shop_name=shop_name,
        from_header=_header("From", Address(display_name=from_name, addr_spec=from_address)),
        domain=domain,
        boundary=boundary,
        one_click=one_click,
        open_pixel=open_pixel,
    )

