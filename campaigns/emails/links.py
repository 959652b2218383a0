"""Click tracking and the open pixel.

Every http(s) link in the finished HTML is replaced by whatever the caller's
``track`` callback returns for it. The app stores one Link row per found link and
builds tracked URLs from the row id, never from the target URL, so the tracker
cannot be abused as an open redirect.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from html.parser import HTMLParser

from campaigns.emails.merge import is_safe_web_url

TrackLink = Callable[[int, str], str]


@dataclass(frozen=True, kw_only=True, slots=True)
class FoundLink:
    index: int  # position among tracked links, 0-based, in document order
    url: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackedHtml:
    html: str
    links: tuple[FoundLink, ...]


class _AnchorFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (line, column, original tag text, attributes) for every <a ...>
        self.anchors: list[tuple[int, int, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            line, column = self.getpos()
            self.anchors.append((line, column, self.get_starttag_text() or "", attrs))


def _render_start_tag(attrs: list[tuple[str, str | None]]) -> str:
    parts = ["<a"]
    for name, value in attrs:
        parts.append(f" {name}" if value is None else f' {name}="{html_lib.escape(value)}"')
    return "".join(parts) + ">"


def track_links(html: str, track: TrackLink, *, exclude: Collection[str] = ()) -> TrackedHtml:
    """Rewrite ``<a href>`` targets through ``track(index, url)``.

    Only absolute http(s) links are tracked: mailto: links cannot go through a
    redirect, and URLs in ``exclude`` (e.g. the unsubscribe link, which must work
    even if the tracker is down) are left alone. The same URL appearing twice gets
    two indexes so clicks can be told apart by position.
    """
    finder = _AnchorFinder()
    finder.feed(html)
    finder.close()

    # HTMLParser counts lines by "\n" only, so map positions the same way.
    line_starts = [0]
    line_starts.extend(i + 1 for i, char in enumerate(html) if char == "\n")

    found: list[FoundLink] = []
    pieces: list[str] = []
    cursor = 0
    for line, column, original, attrs in finder.anchors:
        href = dict(attrs).get("href")
        if href is None or not is_safe_web_url(href) or href in exclude:
            continue
        index = len(found)
        tracked = track(index, href)
        if not is_safe_web_url(tracked):
            raise ValueError(f"track() returned a non-http(s) URL for link {index}")
        found.append(FoundLink(index=index, url=href))
        start = line_starts[line - 1] + column
        new_attrs = [(name, tracked if name == "href" else value) for name, value in attrs]
        pieces.append(html[cursor:start])
        pieces.append(_render_start_tag(new_attrs))
        cursor = start + len(original)
    pieces.append(html[cursor:])
    return TrackedHtml(html="".join(pieces), links=tuple(found))


def open_pixel_html(url: str) -> str:
    """A 1x1 image that reports an open when the client loads images."""
    if not is_safe_web_url(url):
        raise ValueError("open pixel URL must be an absolute http(s) URL")
    return (
        f'<img src="{html_lib.escape(url)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )


def append_open_pixel(html: str, url: str) -> str:
    """``html`` with the open pixel placed last in the body."""
    pixel = open_pixel_html(url)
    closing = html.lower().rfind("</body>")
    if closing < 0:
        return html + pixel
    return html[:closing] + pixel + html[closing:]
