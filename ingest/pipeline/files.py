"""Opening an uploaded file safely: name, size, type and archive checks.

Everything here fails with `UploadRejected` carrying a sentence for the shop
owner; nothing is written to disk except a temporary spool for non-seekable zips.
"""

from __future__ import annotations

import gzip
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from ingest.pipeline.errors import UploadRejected, gettext_noop
from ingest.pipeline.streams import LimitedStream, PrefixedStream, read_prefix

TEXT_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt")
ACCEPTED_SUFFIXES: tuple[str, ...] = (*TEXT_SUFFIXES, ".csv.gz", ".tsv.gz", ".txt.gz", ".zip")

SNIFF_BYTES = 8192

# Magic numbers of things people upload by mistake (or on purpose) instead of a CSV.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", gettext_noop("a PNG image")),
    (b"\xff\xd8\xff", gettext_noop("a JPEG image")),
    (b"GIF87a", gettext_noop("a GIF image")),
    (b"GIF89a", gettext_noop("a GIF image")),
    (b"%PDF-", gettext_noop("a PDF document")),
    (b"PK\x03\x04", gettext_noop("a zip archive (for example an .xlsx workbook)")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", gettext_noop("an old Excel/Office document (.xls)")),
    (b"\x1f\x8b", gettext_noop("a gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", gettext_noop("a 7-Zip archive")),
    (b"Rar!\x1a\x07", gettext_noop("a RAR archive")),
    (b"\x7fELF", gettext_noop("a program (ELF executable)")),
    (b"MZ", gettext_noop("a Windows program")),
    (b"SQLite format 3\x00", gettext_noop("an SQLite database")),
)

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True, kw_only=True, slots=True)
class UploadLimits:
    """Caps that keep a hostile archive from filling memory or disk."""

    max_uncompressed_bytes: int = 2 * 1024**3
    # Order CSVs compress 5-20x; a few hundred is already extreme, zip bombs are ~1000x+.
    max_compression_ratio: float = 200.0
    # Below this size a high ratio is harmless (a tiny file of repeated rows).
    ratio_check_min_bytes: int = 10 * 1024**2


def safe_upload_name(name: str) -> str:
    """Return the normalised base name, or raise `UploadRejected` saying what is wrong."""
    if "\x00" in name:
        raise UploadRejected(
            gettext_noop("The file name contains a NUL character; please rename the file."))
    if _PERCENT_ESCAPE.search(name):
        raise UploadRejected(
            gettext_noop("The file name %(name)s contains encoded characters (like %%00); "
                         "please rename the file."), name=repr(name),
        )
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise UploadRejected(
            gettext_noop("The file name contains control characters; please rename the file."))
    if "/" in name or "\\" in name:
        raise UploadRejected(
            gettext_noop("The file name %(name)s contains a path separator; upload the file "
                         "itself, not a path."), name=repr(name),
        )
    cleaned = unicodedata.normalize("NFC", name).strip()
    if cleaned in {"", ".", ".."} or cleaned.startswith("."):
        raise UploadRejected(gettext_noop("The file name %(name)s is not a usable file name."),
                             name=repr(name))
    if len(cleaned) > 255:
        raise UploadRejected(
            gettext_noop("The file name is longer than 255 characters; please shorten it."))
    lower = cleaned.lower()
    if not lower.endswith(ACCEPTED_SUFFIXES) or lower in ACCEPTED_SUFFIXES:
        ending = "".join(PurePosixPath(lower).suffixes[-1:])
        if not ending:
            raise UploadRejected(
                gettext_noop("The file name %(name)s ends in 'no extension'; only .csv, .tsv, "
                             ".txt, .csv.gz and .zip files are accepted."), name=repr(cleaned),
            )
        raise UploadRejected(
            gettext_noop("The file name %(name)s ends in %(ending)s; only .csv, .tsv, .txt, "
                         ".csv.gz and .zip files are accepted."),
            name=repr(cleaned), ending=repr(ending),
        )
    return cleaned


def format_size(size: int) -> str:
    """Human size with binary units, written the way Django's filesizeformat does ("MB")."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes" if size != 1 else "1 byte"


def check_size(size: int, limit: int) -> None:
    """Raise `UploadRejected` when `size` exceeds `limit`, naming both exactly enough to act on."""
    if size <= limit:
        return
    over = size - limit
    # "501 MB" would hide that the file is barely over; say exactly how much.
    if over == 1:
        raise UploadRejected(
            gettext_noop("The file is %(size)s plus 1 byte; the limit is %(limit)s."),
            size=_one_decimal(limit), limit=format_size(limit))
    if over < 1024:
        raise UploadRejected(
            gettext_noop("The file is %(size)s plus %(over)s bytes; the limit is %(limit)s."),
            size=_one_decimal(limit), over=over, limit=format_size(limit))
    raise UploadRejected(gettext_noop("The file is %(size)s; the limit is %(limit)s."),
                         size=_one_decimal(size), limit=format_size(limit))


def _one_decimal(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return format_size(size)


def sniff_binary(first_bytes: bytes) -> None:
    """Raise `UploadRejected` when the first bytes show an image, archive, program or binary data."""
    for magic, what in _MAGIC:
        if first_bytes.startswith(magic):
            raise UploadRejected(
                gettext_noop("This file is %(what)s, not a CSV. Export the data as CSV "
                             "(comma-separated values) and upload that."), what=what,
            )
    if b"\x00" in first_bytes and not _looks_like_utf16(first_bytes):
        raise UploadRejected(gettext_noop(
            "This file contains binary data (NUL bytes), not text. Export the data as CSV and "
            "upload that."
        ))


def _looks_like_utf16(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = data[: len(data) - len(data) % 2]
    if len(sample) < 4:
        return False
    # ASCII-heavy UTF-16 has a zero in (almost) every other byte and nowhere else.
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    return max(even_zeros, odd_zeros) >= 0.6 * half and min(even_zeros, odd_zeros) <= 0.05 * half


@contextmanager
def open_upload(
    source: BinaryIO | str | Path,
    name: str,
    *,
    limits: UploadLimits = UploadLimits(),
) -> Iterator[BinaryIO]:
    """Yield the decompressed bytes of an upload as a binary stream, after all safety checks.

    `source` is a path or a binary file object (e.g. Django's UploadedFile); `name`
    is the name the user gave it, which decides how it is opened.
    """
    clean_name = safe_upload_name(name).lower()
    with ExitStack() as stack:
        raw: BinaryIO
        if isinstance(source, (str, Path)):
            raw = stack.enter_context(open(source, "rb"))
        else:
            raw = source
        if clean_name.endswith(".zip"):
            inner = _open_zip(raw, limits, stack)
        elif clean_name.endswith(".gz"):
            inner = _open_gzip(raw, limits, stack)
        else:
            inner = raw
        head = read_prefix(inner, SNIFF_BYTES)
        sniff_binary(head)
        yield io.BufferedReader(PrefixedStream(head, inner), buffer_size=1024 * 1024)  # type: ignore[arg-type]


def _too_big(limits: UploadLimits) -> UploadRejected:
    return UploadRejected(
        gettext_noop("The compressed file expands to more than %(size)s, which is more than we "
                     "accept; it may be damaged or a decompression bomb."),
        size=format_size(limits.max_uncompressed_bytes),
    )


class _CountingStream(io.RawIOBase):
    """Counts the compressed bytes gzip has taken in so far."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        self.taken += len(data)
        buffer[: len(data)] = data
        return len(data)


class _RatioGuard(io.RawIOBase):
    """The zip path's ratio check for gzip, which declares no size up front: measured as
    it expands, against the compressed bytes read so far (a little ahead, so lenient)."""

    def __init__(self, inner: BinaryIO, compressed: _CountingStream, limits: UploadLimits) -> None:
        self._inner, self._compressed, self._limits = inner, compressed, limits
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        self._out += len(data)
        ratio = self._out / max(self._compressed.taken, 1)
        if self._out >= self._limits.ratio_check_min_bytes and ratio > self._limits.max_compression_ratio:
            raise UploadRejected(
                gettext_noop("The gzip file expands more than %(ratio)s times, far more than any "
                             "real CSV; it looks like a decompression bomb, so reading stopped."),
                ratio=f"{ratio:,.0f}",
            )
        buffer[: len(data)] = data
        return len(data)


def _open_gzip(raw: BinaryIO, limits: UploadLimits, stack: ExitStack) -> BinaryIO:
    magic = read_prefix(raw, 2)
    if magic != b"\x1f\x8b":
        raise UploadRejected(gettext_noop("The file is named .gz but is not gzip-compressed."))
    compressed = _CountingStream(PrefixedStream(magic, raw))  # type: ignore[arg-type]
    gz = stack.enter_context(gzip.GzipFile(fileobj=compressed, mode="rb"))  # type: ignore[arg-type]
    return io.BufferedReader(
        LimitedStream(_RatioGuard(gz, compressed, limits),  # type: ignore[arg-type]
                      limits.max_uncompressed_bytes, lambda: _too_big(limits))
    )  # type: ignore[return-value]


def _unsafe_member(name: str) -> bool:
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return True
    parts = re.split(r"[\\/]", name)
    return ".." in parts or "\x00" in name


def _open_zip(raw: BinaryIO, limits: UploadLimits, stack: ExitStack) -> BinaryIO:
    seekable = getattr(raw, "seekable", lambda: False)()
    if not seekable:
        # zipfile needs random access (the directory is at the end): spool to a temp file.
        spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - ExitStack closes it
        while block := raw.read(1024 * 1024):
            spool.write(block)
        spool.seek(0)
        raw = spool  # type: ignore[assignment]
    try:
        archive = stack.enter_context(zipfile.ZipFile(raw))
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRejected(
            gettext_noop("The file is named .zip but is not a readable zip archive.")) from exc
    members = archive.infolist()
    for info in members:
        if _unsafe_member(info.filename):
            raise UploadRejected(
                gettext_noop("The zip contains an unsafe entry name %(name)s (it points outside "
                             "the archive); it was not opened."), name=repr(info.filename),
            )
    data_files = [
        info
        for info in members
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
    ]
    tables = [i for i in data_files if i.filename.lower().endswith(TEXT_SUFFIXES)]
    if len(tables) != 1:
        found = ", ".join(i.filename for i in data_files[:5])
        if not found:
            raise UploadRejected(
                gettext_noop("The zip must contain exactly one CSV file; it contains %(n)s "
                             "(found: nothing)."), n=len(tables),
            )
        raise UploadRejected(
            gettext_noop("The zip must contain exactly one CSV file; it contains %(n)s "
                         "(found: %(found)s)."), n=len(tables), found=found,
        )
    info = tables[0]
    if info.flag_bits & 0x1:
        raise UploadRejected(
            gettext_noop("The zip is password-protected; upload an unprotected file."))
    if info.file_size > limits.max_uncompressed_bytes:
        raise _too_big(limits)
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size >= limits.ratio_check_min_bytes and ratio > limits.max_compression_ratio:
        raise UploadRejected(
            gettext_noop("The zip entry %(name)s expands %(ratio)s times, far more than any real "
                         "CSV; it looks like a decompression bomb and was not opened."),
            name=repr(info.filename), ratio=f"{ratio:,.0f}",
        )
    member = stack.enter_context(archive.open(info))

    # The declared size above can lie; cap what really comes out as well.
    def lied() -> UploadRejected:
        return UploadRejected(
            gettext_noop("The zip entry %(name)s is larger than its header declares; it may be "
                         "damaged or a decompression bomb, so reading stopped."),
            name=repr(info.filename),
        )

    return io.BufferedReader(LimitedStream(member, info.file_size, lied))  # type: ignore[arg-type,return-value]
