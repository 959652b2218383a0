"""Errors the pipeline raises; every one carries a reason meant for the shop owner.

A reason is data: a catalogue template (an English msgid with `%(name)s` placeholders,
marked with `gettext_noop` where it is raised) and its values. `reason` is the English
sentence (logs, the API, tests); pages put the template and values into the reader's
words when they render (`ingest.reason_words`).

Values are plain JSON (str, int, or a list of str). Those named in `WORD_PARAMS` are
themselves catalogue words (a field's label, what a file turned out to be) and are
translated by the renderer; every other value (a cell as quoted, a line number, a
limit) is carried over exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a catalogue msgid (`make messages` finds it by this name) and returns it as is.

    Django's own needs settings; the pipeline reads files without them (benchmarks, tools).
    """
    return message


# Said at upload (the preview) and again by the reader, should a file lose its rows.
HEADER_ONLY = gettext_noop("The file has a header row but no data rows.")

# Params that are words to translate: `field` a value's label ("order date"), `what` a
# kind of file ("a PNG image"), `roles` a list of column roles ("type", "time").
WORD_PARAMS = frozenset({"field", "what", "roles"})

# The template of a reason made of several sentences, each a (template, params) pair in
# the `sentences` param. Not a catalogue entry: it has no words of its own.
SENTENCES = "%(sentences)s"


def fill(template: str, params: Mapping[str, Any]) -> str:
    """The English sentence of a template and its values (lists joined by ", ")."""
    if template == SENTENCES:
        return " ".join(fill(t, p) for t, p in params["sentences"])
    if not params:
        return template
    return template % {name: ", ".join(value) if isinstance(value, list) else value
                       for name, value in params.items()}


@dataclass(frozen=True, kw_only=True, slots=True)
class Reason:
    """A reason that is not raised (a mapping problem, a row the database refused)."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return fill(self.template, self.params)


def joined(reasons: Sequence[Reason]) -> Reason:
    """One reason saying several: each sentence keeps its own template and values."""
    if len(reasons) == 1:
        return reasons[0]
    return Reason(template=SENTENCES,
                  params={"sentences": [[r.template, dict(r.params)] for r in reasons]})


class PipelineError(Exception):
    """Base class: `template` % `params` is `reason`, a complete sentence for the import page."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params
        self.reason = fill(template, params)
        super().__init__(self.reason)

    @classmethod
    def of(cls, reason: Reason) -> PipelineError:
        return cls(reason.template, **reason.params)


class UploadRejected(PipelineError):
    """The uploaded file itself is refused (name, size, type, archive) before reading rows."""


class FileRejected(PipelineError):
    """The file opened but cannot be read as a table at all (no header, no usable columns...)."""


class RowError(PipelineError):
    """One value or row is unusable; the row is rejected and reading continues."""
