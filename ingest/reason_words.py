"""Why the import refused a row or a whole file, in the reader's language.

The pipeline gives each reason as data (ingest.pipeline.errors): a catalogue template
and its values, stored beside the English sentence (`ImportRejection.reason_template`
and `reason_params`, `ImportJob.error_template` and `error_params`). Here they become
the reader's words when a page shows them: the template through gettext, a value named
in `WORD_PARAMS` (a field's label, what a file turned out to be) through gettext too,
every other value (a cell as quoted, a line number, a limit) exactly as it came.

A reason stored before reasons were data (an empty template) is shown as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from ingest.pipeline.errors import SENTENCES, WORD_PARAMS
from profiler_site.core.joins import JOIN_SENTENCES, JOIN_WORDS, join


def _value(name: str, value: Any) -> Any:
    if isinstance(value, list):
        return join(JOIN_WORDS, [gettext(v) if name in WORD_PARAMS else str(v) for v in value])
    if name in WORD_PARAMS:
        return gettext(value)
    return value


def _words(template: str, params: Mapping[str, Any]) -> str:
    if template == SENTENCES:
        # one after the other the reader's way: a space in English, none in Chinese
        return join(JOIN_SENTENCES, [_words(t, p) for t, p in params["sentences"]])
    if not params:
        return gettext(template)
    return gettext(template) % {name: _value(name, value) for name, value in params.items()}


def reason_text(template: str, params: Mapping[str, Any] | None, stored: str) -> str:
    """A reason in the active language; `stored` (as it was written) when there are no
    words for it: no template (written before reasons were data), or values that do not
    fit the template (a newer or older worker's)."""
    if not template:
        return stored
    try:
        return _words(template, params or {})
    except (KeyError, TypeError, ValueError, IndexError):
        return stored
