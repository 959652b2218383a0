"""Text encoding detection and a streaming decoder over the binary upload."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import charset_normalizer

from ingest.pipeline.streams import PrefixedStream, read_prefix

SAMPLE_BYTES = 1024 * 1024

# What small shops actually export in: Excel on Windows (cp1252), old Latin-1
# tools, and Chinese spreadsheets (GBK; decoded as its superset GB18030).
_CANDIDATES: list[str] = [
    "cp1252",
    "latin_1",
    "iso8859_15",
    "gb18030",
    "gbk",
    "big5",
    "shift_jis",
    "euc_kr",
    "cp1251",
    "cp1250",
]
_SUPERSETS: dict[str, str] = {"gbk": "gb18030", "gb2312": "gb18030", "ascii": "utf-8"}


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectedEncoding:
    """A Python codec name that decodes the file, and how sure we are (0..1)."""

    name: str
    had_bom: bool
    confidence: float


@dataclass(frozen=True, kw_only=True, slots=True)
class TextSource:
    """A decoded text stream (newline="" so csv sees the original line endings)."""

    text: TextIO
    encoding: DetectedEncoding


def detect_encoding(sample: bytes, *, complete: bool = False) -> DetectedEncoding:
    """Guess the encoding of `sample` (the file's first bytes; `complete` if it is the whole file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return DetectedEncoding(name="utf-8-sig", had_bom=True, confidence=1.0)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # The "utf-16" codec reads the BOM to pick the byte order and drops it.
        return DetectedEncoding(name="utf-16", had_bom=True, confidence=1.0)
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        return DetectedEncoding(name=utf16, had_bom=False, confidence=0.9)
    try:
        # Strict UTF-8 first: it almost never decodes non-UTF-8 text by accident,
        # while statistical detectors sometimes misread short UTF-8 samples.
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=complete)
        return DetectedEncoding(name="utf-8", had_bom=False, confidence=1.0)
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(sample, cp_isolation=_CANDIDATES)
    best = matches.best()
    if best is not None:
        # Western text often scores the same under cp1250 and cp1252; a shop's
        # Excel export is far more likely to be cp1252, so it wins ties.
        for match in matches:
            if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01:
                best = match
                break
    if best is None:
        # Latin-1 decodes any byte sequence; better readable mojibake than nothing.
        return DetectedEncoding(name="cp1252", had_bom=False, confidence=0.1)
    name = codecs.lookup(best.encoding).name.replace("-", "_")
    name = _SUPERSETS.get(name, name)
    if name in {"latin_1", "iso8859_1"}:
        # cp1252 is Latin-1 plus printable characters in 0x80-0x9f (€, smart quotes):
        # what Windows Excel actually writes when people say "Latin-1".
        name = "cp1252"
    return DetectedEncoding(name=name, had_bom=False, confidence=round(1.0 - best.chaos, 3))


def _utf16_without_bom(sample: bytes) -> str | None:
    data = sample[: min(len(sample), 4096) // 2 * 2]
    if len(data) < 4:
        return None
    half = len(data) // 2
    even_zeros = data[0::2].count(0)
    odd_zeros = data[1::2].count(0)
    if odd_zeros >= 0.6 * half and even_zeros <= 0.05 * half:
        return "utf-16-le"
    if even_zeros >= 0.6 * half and odd_zeros <= 0.05 * half:
        return "utf-16-be"
    return None


def open_text(binary: BinaryIO, *, encoding: str | None = None) -> TextSource:
    """Decode `binary` as a text stream, detecting the encoding from its first megabyte.

    Undecodable bytes later in the file become U+FFFD instead of stopping the
    import; rows containing one get a cleaning note downstream.
    """
    sample = read_prefix(binary, SAMPLE_BYTES)
    if encoding is None:
        detected = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
    else:
        detected = DetectedEncoding(
            name=encoding, had_bom=sample.startswith(codecs.BOM_UTF8), confidence=1.0
        )
    stream = io.BufferedReader(PrefixedStream(sample, binary), buffer_size=1024 * 1024)  # type: ignore[arg-type]
    text = io.TextIOWrapper(stream, encoding=detected.name, errors="replace", newline="")
    return TextSource(text=text, encoding=detected)
