"""Errors the pipeline raises; every one carries a message meant for the shop owner."""

from __future__ import annotations

# Said at upload (the preview) and again by the reader, should a file lose its rows.
HEADER_ONLY = "The file has a header row but no data rows."


class PipelineError(Exception):
    """Base class: `reason` is a complete, human sentence shown on the import page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UploadRejected(PipelineError):
    """The uploaded file itself is refused (name, size, type, archive) before reading rows."""


class FileRejected(PipelineError):
    """The file opened but cannot be read as a table at all (no header, no usable columns...)."""


class RowError(PipelineError):
    """One value or row is unusable; the row is rejected and reading continues."""
