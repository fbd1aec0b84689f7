"""`heap.release`: pages the C allocator kept after Python freed big byte strings go back."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from clearance import heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / (1 << 20)


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_release_hands_freed_pages_back() -> None:
    # 200 MB in 64 kB strings: under the size the C library maps apart, so they come from its
    # heap, and the last one keeps the heap from shrinking by itself when the others go.
    held = [b"x" * 65_536 for _ in range(3_200)]
    keep = held[-1]
    del held
    before = _resident_mb()
    assert heap.release() is True
    assert before - _resident_mb() > 100
    assert keep[:1] == b"x"
