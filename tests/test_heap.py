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
    # 100 MB in 64 kB strings, each followed by one that stays: they come from the C library's
    # heap (under the size it maps apart), and the ones kept leave the freed ones as holes
    # between them, which it never gives back by itself.
    pairs = [(b"x" * 65_536, b"y" * 65_536) for _ in range(1_600)]
    kept = [pin for _, pin in pairs]
    del pairs
    before = _resident_mb()
    assert heap.release() is True
    assert before - _resident_mb() > 60
    assert len(kept) == 1_600 and kept[-1][:1] == b"y"
