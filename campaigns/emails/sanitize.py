"""Reduce campaign HTML written by the shop owner to a small, email-safe subset.

The owner pastes HTML from wherever (an editor, another email tool). We keep the
formatting email clients render reliably and drop everything that can run code,
load remote stylesheets, or smuggle a URL scheme other than http/https/mailto.

Merge tags (``{{ unsubscribe_url }}``) survive sanitising, including inside
``href``/``src``, because merging happens *after* this step (see ``compose.py``).
"""

from __future__ import annotations

import re

import nh3

from campaigns.emails.merge import MERGE_TAG_ONLY_RE

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "small",
        "span",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)

# `style` is allowed where layout needs it; its properties are filtered below.
_STYLED = {"style"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"} | _STYLED,
    "img": {"src", "alt", "width", "height"} | _STYLED,
    "table": {"width", "cellpadding", "cellspacing", "border", "align"} | _STYLED,
    "td": {"width", "align", "valign", "colspan", "rowspan"} | _STYLED,
    "th": {"width", "align", "valign", "colspan", "rowspan"} | _STYLED,
    **{
        tag: set(_STYLED)
        for tag in (
            "p",
            "div",
            "span",
            "h1",
            "h2",
            "h3",
            "ul",
            "ol",
            "li",
            "tr",
            "blockquote",
            "strong",
            "em",
            "b",
            "i",
            "u",
            "small",
            "hr",
        )
    },
}

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

# Presentational properties only: nothing that positions content over the client's
# own UI (position, z-index) or loads resources (background-image, behavior).
ALLOWED_STYLE_PROPERTIES: frozenset[str] = frozenset(
    {
        "background-color",
        "border",
        "border-bottom",
        "border-collapse",
        "border-color",
        "border-left",
        "border-radius",
        "border-right",
        "border-style",
        "border-top",
        "border-width",
        "color",
        "display",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "height",
        "letter-spacing",
        "line-height",
        "margin",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "margin-top",
        "max-width",
        "min-width",
        "padding",
        "padding-bottom",
        "padding-left",
        "padding-right",
        "padding-top",
        "text-align",
        "text-decoration",
        "text-transform",
        "vertical-align",
        "width",
    }
)

# nh3 filters property *names*, not values: `color: expression(...)` (old IE) or
# `width: url(...)` would pass. A value may only use plain tokens and rgb()/rgba().
_SAFE_STYLE_VALUE = re.compile(r"^[\w\s#%.,'\"-]*$|^\s*rgba?\([\d\s.,%]*\)\s*$", re.ASCII)
_CONTENT_DROPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "title",
        "head",
        "iframe",
        "object",
        "embed",
        "template",
        "noscript",
        "svg",
        "math",
    }
)


def _filter_style(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "style":
        return value
    kept: list[str] = []
    for declaration in value.split(";"):
        name, sep, declared = declaration.partition(":")
        if sep and _SAFE_STYLE_VALUE.match(declared) and "\\" not in declared:
            kept.append(f"{name.strip()}:{declared.strip()}")
    return ";".join(kept) or None


def _relative_url(url: str) -> str | None:
    # A relative URL means nothing in an inbox; the only "relative" URL we keep is a
    # lone merge tag, which merging replaces with an absolute URL.
    return url if MERGE_TAG_ONLY_RE.fullmatch(url) else None


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to the email-safe subset; idempotent."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_CONTENT_DROPPED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_style,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative=_relative_url,
        filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
        strip_comments=True,
        # nh3 adds rel="noopener noreferrer" to links; harmless in email, kept.
    )
