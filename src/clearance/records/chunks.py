"""Whole-line chunks of a DOJ file as raw bytes, shared by the reader and the results writer.

Why bytes and not text: a county file is hundreds of MB. Decoding it to Python strings and
splitting it into a million line objects costs more than parsing it. The chunk stays the bytes
the file holds (UTF-8 or Latin-1; the separators and quotes are ASCII in both) and is handed
whole to Polars' native CSV parser; only the few lines that need a human's eye (quarantined
rows) are ever decoded one by one. Both readers number lines the same way: line 1 is the first
physical line of the file, header included.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator, Sequence
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
        return [as_text(self.data[starts[i] : ends[i]]) for i in indices]


def as_utf8(data: bytes) -> tuple[bytes, int, int]:
    """Lines as UTF-8: each line that is valid UTF-8 as it is, each other line read as Latin-1
    (which decodes any byte); with how many lines were Latin-1 and how many were UTF-8 that is
    not ASCII. For text that is not UTF-8 as a whole."""
    lines = data.split(b"\n")
    latin1 = utf8 = 0
    for index, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[index] = line.decode("latin-1").encode("utf-8")
            latin1 += 1
        else:
            utf8 += 1
    return b"\n".join(lines), latin1, utf8


def as_text(line: bytes) -> str:
    """A line as UTF-8 when it is, else as Latin-1 (which decodes any byte): each line alone."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def distinct_files(paths: Sequence[Path | str]) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """The files to read, each once, in the order given: two spellings of one file (`./x` and
    `x`, `a/../x`, a symbolic or hard link) are one file, known by its device and inode, since
    reading it twice would sum every sentence part twice. Returns the files (first spelling
    kept) and each (repeat, first) pair, for a warning. A path that cannot be looked at is
    kept as it is, for the reader to name the trouble."""
    seen: dict[object, Path] = {}
    repeats: list[tuple[Path, Path]] = []
    for given in paths:
        path = Path(given)
        try:
            info = path.stat()
            key: object = (info.st_dev, info.st_ino)
        except OSError:
            key = path
        if key in seen:
            repeats.append((path, seen[key]))
            continue
        seen[key] = path
    return list(seen.values()), repeats


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


#: The longest line read (bytes): a longer one is set aside as "line longer than N bytes"
#: without being held whole in memory, so a file of one endless line cannot exhaust it. A DOJ
#: row is about 800 bytes; the limit leaves room for any real one.
MAX_LINE_BYTES = 1024 * 1024

#: How a line over the limit is handed on: this mark, its length in digits, the mark again, and
#: its first bytes (for the quarantine). No text file line starts with these bytes.
TOO_LONG = b"\x00\x01"
#: Bytes of an over-long line kept for the quarantine.
_KEPT_OF_TOO_LONG = 200


def _too_long(start: bytes, length: int) -> bytes:
    """The stand-in for a line longer than the limit (without its line feed)."""
    return TOO_LONG + str(length).encode("ascii") + b"\x01" + start[:_KEPT_OF_TOO_LONG]


def too_long_length(line: bytes) -> int | None:
    """The length of the over-long line a stand-in stands for; None for any other line."""
    if not line.startswith(TOO_LONG):
        return None
    digits, _, _ = line[len(TOO_LONG) :].partition(b"\x01")
    return int(digits) if digits.isdigit() else None


def _shorten(whole: bytes, limit: int) -> bytes:
    """Whole lines with each line longer than `limit` replaced by its stand-in."""
    if len(whole) <= limit:
        return whole
    breaks = np.flatnonzero(np.frombuffer(whole, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.append(breaks, len(whole))
    long = np.flatnonzero(ends - starts > limit)
    if len(long) == 0:
        return whole
    pieces: list[bytes] = []
    position = 0
    for i in long.tolist():
        start, end = int(starts[i]), int(ends[i])
        pieces += (whole[position:start], _too_long(whole[start:end], end - start))
        position = end
    pieces.append(whole[position:])
    return b"".join(pieces)


def _blocks(stream: BinaryIO, path: Path, size: int, limit: int) -> Iterator[bytes]:
    """Blocks of whole lines (the last may lack its newline); a line longer than `limit` comes
    as its stand-in (see `TOO_LONG`), read through without being kept.

    A file whose lines end in CR alone (old Mac exports) is read as if they ended in LF: its
    first block has CR bytes and no LF at all."""
    carry = b""
    skipped = 0  # bytes of an over-long line passed over so far
    kept = b""  # the first bytes of that line
    first = True
    cr_only = False
    while True:
        try:
            block = stream.read(size)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            raise ReadError(f"{path}: cannot be read to the end ({reason})") from None
        if first:
            cr_only = b"\r" in block and b"\n" not in block
            first = False
        if cr_only:
            block = block.replace(b"\r", b"\n")
        if not block:
            if skipped:
                yield _too_long(kept, skipped)
            elif carry:
                yield _shorten(carry, limit)
            return
        # A short read is the end of the file: its last line goes with the lines before it, so
        # a small file is one chunk even when its last line has no newline.
        short = len(block) < size
        if skipped:
            end = block.find(b"\n")
            if end < 0:
                skipped += len(block)
                continue
            carry = _too_long(kept, skipped + end) + b"\n"
            skipped, kept = 0, b""
            block = block[end + 1 :]
        cut = len(block) - 1 if short else block.rfind(b"\n")
        if cut < 0:
            carry += block
            if len(carry) > limit:
                skipped, kept, carry = len(carry), carry[:_KEPT_OF_TOO_LONG], b""
            continue
        # One copy: the carried partial line and this block's whole lines.
        whole = b"".join((carry, memoryview(block)[: cut + 1]))
        carry = block[cut + 1 :]
        if len(carry) > limit:
            skipped, kept, carry = len(carry), carry[:_KEPT_OF_TOO_LONG], b""
        yield _shorten(whole, limit)


def check_format(first: bytes, path: Path) -> None:
    """Refuse what is clearly not a DOJ text file before parsing anything."""
    if first.startswith(b"%PDF"):
        raise ReadError(f"{path}: is a PDF, not a DOJ bulk file (give the .dat/.csv extract)")
    if first.startswith(b"PK\x03\x04"):
        raise ReadError(f"{path}: is a ZIP/Office file, not a DOJ bulk file (unzip or export it)")
    head = first[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _alternate_nuls(head):
        raise ReadError(
            f"{path}: is UTF-16 text; save it again as UTF-8 (or Latin-1) CSV and give that file"
        )
    # A stray NUL in a line sets that line aside; many of them up front is a binary file.
    stand_ins = len(re.findall(rb"\x00\x01[0-9]+\x01", head))
    nuls = head.count(b"\x00") - stand_ins
    if nuls > 64 or nuls * 100 > len(head):
        raise ReadError(f"{path}: is a binary file, not a DOJ bulk file")


def _alternate_nuls(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL in every other byte (NULs
    beside bytes that are not text are a binary file)."""
    sample = head[:512]
    if len(sample) < 64:
        return False
    even, odd = sample[0::2], sample[1::2]
    for zeros, text in ((even, odd), (odd, even)):
        if zeros.count(0) > 0.9 * len(zeros):
            # The other bytes are the text: printable ASCII, tabs and line breaks.
            printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in text)
            return printable > 0.9 * len(text)
    return False


def header_names(line: bytes) -> list[str]:
    """The names of a header line: fields as CSV reads them, padding, quotes and case undone."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    fields = next(csv.reader([text]), [])
    return [name.strip().strip('"').strip().upper() for name in fields]


def is_header(line: bytes) -> bool:
    """Whether a line is a header: it starts with the first DOJ column's name, or it names both
    keys of a row (SUBJECT_ID and CNT_ORDER) among its fields; quoted or not, any case."""
    if line.lstrip(b'" ').upper().startswith(b"RECORD_ID"):
        return True
    upper = line.upper()
    if b"SUBJECT_ID" not in upper or b"CNT_ORDER" not in upper:
        return False
    return {"SUBJECT_ID", "CNT_ORDER"} <= set(header_names(line))


def iter_chunks(
    path: Path, size: int = CHUNK_BYTES, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[Chunk, bytes | None]]:
    """Yield (chunk, header line or None) for a file; raise ReadError for an empty or non-text
    file. A line longer than `max_line` bytes comes as its stand-in (see `too_long_length`)."""
    stream, raw = open_binary(path)
    next_line = 1
    position = 0
    first = True
    header: bytes | None = None
    with raw, stream:
        for block in _blocks(stream, path, size, max_line):
            if first:
                check_format(block, path)
                if block.startswith(_BOM):
                    block = block[len(_BOM) :]
                end = block.find(b"\n")
                first_line = block if end < 0 else block[:end]
                if is_header(first_line):
                    header = first_line.removesuffix(b"\r")
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
