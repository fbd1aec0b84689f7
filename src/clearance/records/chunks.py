"""Whole-line chunks of a DOJ file as raw bytes, shared by the reader and the results writer.

Why bytes and not text: a county file is hundreds of MB. Decoding it to Python strings and
splitting it into a million line objects costs more than parsing it. The chunk stays the bytes
the file holds (UTF-8 or Latin-1; the separators and quotes are ASCII in both) and is handed
whole to Polars' native CSV parser; only the few lines that need a human's eye (quarantined
rows) are ever decoded one by one. Both readers number lines the same way: line 1 is the first
physical line of the file, header included.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

#: Bytes read at once. Big enough to amortise per-chunk costs, small enough that a chunk's
#: parsed columns stay well under 100 MB.
CHUNK_BYTES = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


class ReadError(Exception):
    """A file that cannot be read at all or is not a DOJ bulk file. The message is one line that
    names the file and what to fix; it never quotes the file's content (it may be personal)."""


@dataclass
class Chunk:
    """Whole lines of one file. `data` excludes the header line; `first_line` numbers its first
    line; `consumed` is the bytes on disk read since the previous chunk (for progress)."""

    data: bytes
    first_line: int
    consumed: int
    #: set to latin-1 by the reader when the chunk is not UTF-8
    encoding: str = "utf-8"

    @cached_property
    def newlines(self) -> np.ndarray:
        """Byte offsets of the chunk's line feeds, found once for the count and the bounds."""
        return np.flatnonzero(np.frombuffer(self.data, dtype=np.uint8) == 10)

    @cached_property
    def line_count(self) -> int:
        """Physical lines in the chunk (a last line without a newline counts)."""
        if not self.data:
            return 0
        return len(self.newlines) + (0 if self.data.endswith(b"\n") else 1)

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) byte offsets of every line, the end before any CR LF."""
        buffer = np.frombuffer(self.data, dtype=np.uint8)
        newlines = self.newlines
        ends = newlines
        if not self.data.endswith(b"\n") and self.data:
            ends = np.append(newlines, len(self.data))
        starts = np.concatenate(([0], newlines[: len(ends) - 1] + 1)).astype(np.int64)
        has_cr = np.zeros(len(ends), dtype=bool)
        inner = ends > starts
        has_cr[inner] = buffer[ends[inner] - 1] == 13
        return starts, ends - has_cr

    def lines(self, indices: np.ndarray) -> list[str]:
        """The text of a few lines (0-based within the chunk), for the quarantine."""
        if len(indices) == 0:
            return []
        starts, ends = self.bounds
        return [
            self.data[starts[i] : ends[i]].decode(self.encoding, errors="replace") for i in indices
        ]


def open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """Open a plain or gzip file: (decompressed stream, raw stream for progress)."""
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.is_dir():
        raise ReadError(f"{path}: is a folder, not a DOJ bulk file")
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ReadError(f"{path}: cannot be opened ({exc.strerror or 'unreadable'})") from None
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")), cast(BinaryIO, raw)
    return cast(BinaryIO, raw), cast(BinaryIO, raw)


def _blocks(stream: BinaryIO, path: Path, size: int) -> Iterator[bytes]:
    """Blocks of whole lines (the last may lack its newline)."""
    carry = b""
    while True:
        try:
            block = stream.read(size)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            raise ReadError(f"{path}: cannot be read to the end ({reason})") from None
        if not block:
            if carry:
                yield carry
            return
        # A short read is the end of the file: its last line goes with the lines before it, so
        # a small file is one chunk even when its last line has no newline.
        cut = len(block) - 1 if len(block) < size else block.rfind(b"\n")
        if cut < 0:
            carry += block
            continue
        # One copy: the carried partial line and this block's whole lines.
        whole = b"".join((carry, memoryview(block)[: cut + 1]))
        carry = block[cut + 1 :]
        yield whole


def check_format(first: bytes, path: Path) -> None:
    """Refuse what is clearly not a DOJ text file before parsing anything."""
    if first.startswith(b"%PDF"):
        raise ReadError(f"{path}: is a PDF, not a DOJ bulk file (give the .dat/.csv extract)")
    if first.startswith(b"PK\x03\x04"):
        raise ReadError(f"{path}: is a ZIP/Office file, not a DOJ bulk file (unzip or export it)")
    if b"\x00" in first[:4096]:
        raise ReadError(f"{path}: is a binary file, not a DOJ bulk file")


def is_header(line: bytes) -> bool:
    """The optional header row starts with the first column's name."""
    return line.lstrip(b'"').upper().startswith(b"RECORD_ID,")


def iter_chunks(path: Path, size: int = CHUNK_BYTES) -> Iterator[tuple[Chunk, bool]]:
    """Yield (chunk, header_seen) for a file; raise ReadError for an empty or non-text file."""
    stream, raw = open_binary(path)
    next_line = 1
    position = 0
    first = True
    header = False
    with raw, stream:
        for block in _blocks(stream, path, size):
            if first:
                check_format(block, path)
                if block.startswith(_BOM):
                    block = block[len(_BOM) :]
                end = block.find(b"\n")
                first_line = block if end < 0 else block[:end]
                if is_header(first_line):
                    header = True
                    block = b"" if end < 0 else block[end + 1 :]
                    next_line += 1
                first = False
            now = raw.tell()
            chunk = Chunk(data=block, first_line=next_line, consumed=now - position)
            position = now
            next_line += chunk.line_count
            yield chunk, header
    if first:
        raise ReadError(f"{path}: is empty")
