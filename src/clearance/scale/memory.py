"""Whether a run fits in memory, and into how many buckets of people it is split when not.

The in-memory run holds the record and its working copies: about a third of the input's
uncompressed size at its peak (bench/RESULTS.md: 10M rows, 7.6 GB of text, 2.6 GB peak). The
estimate reads no more than the first megabyte of a compressed file.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

#: Peak memory of an in-memory run per byte of uncompressed input (measured, with margin).
PEAK_PER_INPUT_BYTE = 0.4
#: What a run holds whatever its size: the interpreter, the libraries, the outputs' tables.
FIXED_BYTES = 400 * 1024**2
#: The default budget: this share of the machine's memory.
DEFAULT_SHARE = 0.5
#: Most buckets a run is split into (each is a file per kind on disk).
MAX_BUCKETS = 4096

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class MemoryLimitError(ValueError):
    """A --memory-limit that is not a size."""


def parse_size(text: str) -> int:
    """'3G', '512M', '2.5GB', '1000000' -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not match or float(match.group(1)) <= 0:
        raise MemoryLimitError(f"--memory-limit {text!r} is not a size: use e.g. 3G or 512M")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def machine_memory() -> int:
    """Physical memory of this machine, in bytes."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def default_limit() -> int:
    return int(machine_memory() * DEFAULT_SHARE)


def uncompressed_size(path: Path) -> int:
    """The bytes of text a file holds: its size, or for gzip its size times the ratio of its
    first megabyte."""
    size = path.stat().st_size
    if not path.name.endswith(".gz") or size == 0:
        return size
    with path.open("rb") as raw:
        head = raw.read(1024 * 1024)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        text = inflater.decompress(head, 64 * 1024 * 1024)
    except zlib.error:
        return size
    used = len(head) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
    return size if used <= 0 else int(size * len(text) / used)


def estimated_peak(paths: Sequence[Path]) -> int:
    """The peak memory an in-memory run of `paths` is expected to reach."""
    text = sum(uncompressed_size(p) for p in paths if p.is_file())
    return FIXED_BYTES + int(text * PEAK_PER_INPUT_BYTE)


def buckets_for(paths: Sequence[Path], limit: int) -> int:
    """0 when the run fits in `limit` bytes; else how many buckets of people keep each
    bucket's share well under it (the pieces kept for the outputs take the rest)."""
    peak = estimated_peak(paths)
    if peak <= limit:
        return 0
    # A bucket decided takes about twice the in-memory run's peak per byte (its what-ifs and
    # its part of the outputs are made at once), and what the outputs are made of takes the
    # rest at the end: a third of the room each (bench/RESULTS.md: 20M rows in 5 buckets of
    # half the room went over 3 GB).
    per_bucket = max(limit - FIXED_BYTES, limit // 4, 1) / 3
    return min(MAX_BUCKETS, max(2, math.ceil((peak - FIXED_BYTES) / per_bucket)))
