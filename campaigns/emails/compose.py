"""The order of operations for one recipient's email, in one place.

sanitize the owner's template -> merge escaped customer values -> sanitize again
-> plain text -> track links -> open pixel. ``build_message`` then inlines CSS.

Sanitising before merging means customer data is never parsed as markup (it is
escaped text by then); the second pass is defence in depth and also repairs the
nesting a block-level product list creates inside a ``<p>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.emails.links import FoundLink, TrackLink, append_open_pixel, track_links
from campaigns.emails.merge import MergeContext, find_unknown_tags, render
from campaigns.emails.plaintext import html_to_text
from campaigns.emails.sanitize import sanitize_html


@dataclass(frozen=True, kw_only=True, slots=True)
class ComposedEmail:
    subject: str
    html: str  # body fragment, ready for build_message(html_body=...)
    text: str
    links: tuple[FoundLink, ...]


def template_errors(*, subject: str, html: str, text: str | None = None) -> list[str]:
    """Unknown or malformed merge tags, for the compose form; empty means OK."""
    return [
        *find_unknown_tags(subject),
        *find_unknown_tags(sanitize_html(html)),
        *find_unknown_tags(text or ""),
    ]


def compose_email(
    *,
    subject_template: str,
    html_template: str,
    context: MergeContext,
    text_template: str | None = None,
    track: TrackLink | None = None,
    open_pixel_url: str | None = None,
) -> ComposedEmail:
    """Subject, HTML fragment and text part for one recipient.

    The plain-text part carries untracked links: it is derived before tracking so
    text readers see where a link goes.
    """
    html = sanitize_html(render(sanitize_html(html_template), context, html=True))
    text = (
        render(text_template, context, html=False)
        if text_template is not None
        else html_to_text(html)
    )
    links: tuple[FoundLink, ...] = ()
    if track is not None:
        tracked = track_links(html, track, exclude={context.unsubscribe_url})
        html, links = tracked.html, tracked.links
    if open_pixel_url is not None:
        html = append_open_pixel(html, open_pixel_url)
    return ComposedEmail(
        subject=render(subject_template, context, html=False),
        html=html,
        text=text,
        links=links,
    )
