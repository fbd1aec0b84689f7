"""Give memory the process has freed back to the system.

Why this exists: the reader and the results writer handle each input chunk as a few 16 MB
byte strings (the block read, its marked copy, a line-end mask), several chunks at once on
different threads. Python takes those from the C library's allocator, which keeps what is
freed for later use instead of returning it. On a statewide file, its heaps grew to about
650 MB with under 20 MB in use, a few hundred MB of it still counted in the process's memory.
Polars' own allocator is not concerned: it returns memory by itself.

`release()` asks the C library to hand back every free page. It takes a few milliseconds, so
it is called where a phase that made many big transient buffers ends, not per buffer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release() -> bool:
    """Return the C allocator's free pages to the system; True if it had any to return."""
    trim = _trim()
    return bool(trim(0)) if trim is not None else False
