"""Merge tags: ``{{ first_name | "there" }}`` and friends, and nothing more.

Deliberately not Django templates: a template language can loop, call methods and
include files, and an owner's email needs none of that. The syntax is one regex
against a fixed whitelist of names, so:

* unknown or malformed tags are found before sending (``find_unknown_tags``);
* substitution is a single pass: a value is never scanned again, so a customer
  named ``{{ unsubscribe_url }}`` or ``{% debug %}`` is printed literally;
* in HTML every value is escaped, so ``<script>`` in a name is text.

``render`` is therefore not idempotent; render each template exactly once.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A fallback is a double-quoted literal. In attribute values the sanitiser has
# already turned `"` into `&quot;`, so both spellings are accepted.
_FALLBACK = r'(?:"(?P<fallback>[^"{}]*)"|&quot;(?P<fallback_entity>[^"{}]*?)&quot;)'
MERGE_TAG_RE = re.compile(r"\{\{\s*(?P<name>[a-z_]+)\s*(?:\|\s*" + _FALLBACK + r"\s*)?\}\}")
# Anything that looks like a template construct, for error reporting: ours
# (`{{ ... }}`) and other engines' (`{% ... %}`) that an owner may paste in.
_ANY_TAG_RE = re.compile(r"\{\{[^{}]*\}\}|\{%.*?%\}", re.DOTALL)

URL_TAGS: frozenset[str] = frozenset({"unsubscribe_url"})
TEXT_TAGS: frozenset[str] = frozenset(
    {"first_name", "last_name", "full_name", "email", "shop_name"}
)
KNOWN_TAGS: frozenset[str] = TEXT_TAGS | URL_TAGS | {"recommended_products"}

# A URL attribute that is exactly one URL tag survives sanitising (see sanitize.py).
MERGE_TAG_ONLY_RE = re.compile(r"\{\{\s*(?:" + "|".join(sorted(URL_TAGS)) + r")\s*\}\}")

# Names come from CSV imports: collapse newlines, tabs and other control or
# separator characters (including U+2028) so a value can never start a new line
# in a subject or a plain-text body.
_UNSAFE_WHITESPACE_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class UnknownMergeTagError(ValueError):
    def __init__(self, tags: list[str]) -> None:
        super().__init__(f"Unknown or malformed merge tags: {', '.join(tags)}")
        self.tags = tags


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductLink:
    name: str
    url: str | None = None
    price: str = ""  # already written in the shop's currency; empty when unknown


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeContext:
    """Everything a template may refer to for one recipient."""

    unsubscribe_url: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    shop_name: str = ""
    recommended_products: tuple[ProductLink, ...] = ()

    def __post_init__(self) -> None:
        if not is_safe_web_url(self.unsubscribe_url):
            raise ValueError("unsubscribe_url must be an absolute http(s) URL")


def is_safe_web_url(url: str | None) -> bool:
    if not url or _UNSAFE_WHITESPACE_RE.search(url):
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def clean_value(value: str) -> str:
    return _UNSAFE_WHITESPACE_RE.sub(" ", value).strip()


def find_unknown_tags(text: str) -> list[str]:
    """Every tag-like construct in ``text`` that ``render`` would not accept."""
    unknown: list[str] = []
    for match in _ANY_TAG_RE.finditer(text):
        tag = MERGE_TAG_RE.fullmatch(match.group(0))
        if tag is None or tag.group("name") not in KNOWN_TAGS:
            unknown.append(match.group(0))
    return unknown


def render(text: str, context: MergeContext, *, html: bool) -> str:
    """Substitute merge tags in ``text`` (HTML-escaping values when ``html``).

    ``text`` is trusted template text written by the owner (already sanitised when
    ``html``); only the context values are untrusted.
    """
    unknown = find_unknown_tags(text)
    if unknown:
        raise UnknownMergeTagError(unknown)

    def substitute(match: re.Match[str]) -> str:
        value = _value_for(match.group("name"), context, html=html)
        if value:
            return value
        fallback = match.group("fallback")
        if fallback is None:
            fallback = match.group("fallback_entity") or ""
        # The fallback is template text, not customer data: it is inserted as the
        # owner wrote it (in HTML it went through the sanitiser with the template).
        return fallback

    return MERGE_TAG_RE.sub(substitute, text)


def _value_for(name: str, context: MergeContext, *, html: bool) -> str:
    if name == "recommended_products":
        return _products(context.recommended_products, html=html)
    if name == "full_name":
        raw = f"{clean_value(context.first_name)} {clean_value(context.last_name)}"
    else:
        raw = getattr(context, name)
    value = clean_value(raw)
    return html_lib.escape(value, quote=True) if html else value


def _products(products: tuple[ProductLink, ...], *, html: bool) -> str:
    items: list[tuple[str, str | None, str]] = []
    for product in products:
        name = clean_value(product.name)
        if name:
            # A product URL from an import with another scheme is dropped, not linked.
            items.append((name, product.url if is_safe_web_url(product.url) else None,
                          clean_value(product.price)))
    if not items:
        return ""
    if not html:
        return "\n".join(f"- {name}{f' — {price}' if price else ''}{f' ({url})' if url else ''}"
                         for name, url, price in items)
    escape = html_lib.escape
    rows = "".join(
        "<li>"
        + (f'<a href="{escape(url, quote=True)}">{escape(name)}</a>' if url else escape(name))
        + (f" — {escape(price)}" if price else "")
        + "</li>"
        for name, url, price in items
    )
    return f"<ul>{rows}</ul>"
