"""clearance: bulk relief for California cannabis convictions under Proposition 64."""

import ctypes
import os
import sys

# Polars allocates through jemalloc, which by default keeps freed pages for ten seconds; a run's
# tables are built and dropped in large pieces, so that cache shows up as peak memory. A
# background thread returns dirty pages after one second: short enough that the peak stays near
# what is live, long enough that the next chunk reuses the pages instead of faulting in fresh
# ones (bench/RESULTS.md). Set before Polars is first imported; a setting in the environment
# wins.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"
)


def _keep_chunk_buffers() -> None:
    """Let the C library reuse the reader's 16 MB chunk buffers instead of mapping and zeroing
    fresh pages for every chunk (glibc maps anything over 128 KB by default and unmaps it on
    free). Only on glibc, and only when the environment does not tune malloc itself."""
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    trim_threshold, top_pad, mmap_threshold = -1, -2, -3
    mallopt(mmap_threshold, 32 * 1024 * 1024)
    mallopt(trim_threshold, 256 * 1024 * 1024)
    mallopt(top_pad, 32 * 1024 * 1024)


_keep_chunk_buffers()

__version__ = "0.1.0"
