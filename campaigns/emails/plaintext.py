"""Plain-text alternative generated from sanitised HTML.

Spam filters penalise HTML-only mail and some readers prefer text, so every
message carries both. The input is our own sanitiser's output, so a small
``html.parser`` walker covering the allowed tags is enough.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "blockquote", "table", "ul", "ol", "hr"})
_SKIPPED_TAGS = frozenset({"style", "script", "head", "title"})
_SPACES_RE = re.compile(r"[ \t\r\n\f\v]+")


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (paragraph, list number): items of one top-level list share a number so
        # they are joined by single newlines; 0 means "not a list item".
        self.blocks: list[tuple[str, int]] = []
        self.list_number = 0
        self.item_prefix = ""
        self.line: list[str] = []  # inline text of the current paragraph
        self.lists: list[list[int]] = []  # one counter per open list; [-1] for <ul>
        self.link_href: str | None = None
        self.link_text_start = 0
        self.skip_depth = 0

    # Paragraph bookkeeping -------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self.line)
        lines = [_SPACES_RE.sub(" ", part).strip() for part in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            in_list = bool(self.item_prefix) and bool(self.lists)
            self.blocks.append((self.item_prefix + text, self.list_number if in_list else 0))
        self.line = []
        self.item_prefix = ""

    def _prefix_for_item(self) -> str:
        indent = "  " * max(0, len(self.lists) - 1)
        if not self.lists or self.lists[-1][0] < 0:
            return f"{indent}- "
        self.lists[-1][0] += 1
        return f"{indent}{self.lists[-1][0]}. "

    # HTMLParser hooks --------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in {"ul", "ol"}:
                if not self.lists:
                    self.list_number += 1
                self.lists.append([-1 if tag == "ul" else 0])
        elif tag == "li":
            self._flush()
            self.item_prefix = self._prefix_for_item()
        elif tag == "br" or tag == "tr":
            self.line.append("\n")
        elif tag in {"td", "th"}:
            self.line.append(" ")
        elif tag == "a":
            self.link_href = dict(attrs).get("href")
            self.link_text_start = len(self.line)
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.line.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "img", "hr"}:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS or tag == "li":
            self._flush()
            if tag in {"ul", "ol"} and self.lists:
                self.lists.pop()
        elif tag == "a":
            self._close_link()

    def _close_link(self) -> None:
        href, self.link_href = self.link_href, None
        if not href:
            return
        text = _SPACES_RE.sub(" ", "".join(self.line[self.link_text_start :])).strip()
        shown = href.removeprefix("mailto:")
        # "Shop now (https://...)"; a link whose text is its URL is not repeated.
        if shown != text:
            self.line.append(f" ({shown})" if text else shown)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            # Source line breaks are just whitespace in HTML; only <br> breaks a line.
            self.line.append(_SPACES_RE.sub(" ", data))


def html_to_text(html: str) -> str:
    """Plain text for ``html``: paragraphs separated by blank lines."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    writer._flush()
    out: list[str] = []
    previous_list = 0
    for text, list_number in writer.blocks:
        if out:
            # Items of one list sit on consecutive lines; all else gets a blank line.
            same_list = list_number and list_number == previous_list
            out.append("\n" if same_list else "\n\n")
        out.append(text)
        previous_list = list_number
    return "".join(out) + "\n" if out else ""
