"""Small binary stream adapters shared by the file and encoding steps."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO


class PrefixedStream(io.RawIOBase):
    """Replays bytes already read from `rest` (a sniffed prefix) before reading on.

    Uploads may arrive as non-seekable streams, so sniffing cannot rewind; this
    keeps sniffing and reading to one pass.
    """

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


class LimitedStream(io.RawIOBase):
    """Raises (via `on_exceed`) as soon as more than `limit` bytes come out.

    Declared sizes in archive headers can lie; the only trustworthy cap on a
    decompression bomb is counting what actually comes out.
    """

    def __init__(self, inner: BinaryIO, limit: int, on_exceed: Callable[[], Exception]) -> None:
        self._inner = inner
        self._limit = limit
        self._seen = 0
        self._on_exceed = on_exceed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        self._seen += n
        if self._seen > self._limit:
            raise self._on_exceed()
        buffer[:n] = data
        return n


def read_prefix(stream: BinaryIO, size: int) -> bytes:
    """Read up to `size` bytes, looping because raw streams may return short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
