"""Write a large output file without passing it through the page cache.

results.csv is as large as the input (hundreds of MB for a county, gigabytes statewide) and is
written once and not read back by the run. Written the ordinary way, the kernel copies every
byte into freshly allocated page-cache pages: on a 2-core machine that copy cost more CPU time
than building the file, and it competes with the summary being computed on the other core.
With direct I/O (`O_DIRECT`) the disk takes the bytes straight from one reused, page-aligned
buffer, and the copy disappears.

Direct I/O needs every write to start and end on a block boundary, so bytes are gathered in the
buffer and written in whole blocks; the last partial block is written the ordinary way. Where
the file system refuses direct I/O (some do), the file is written the ordinary way throughout,
with the same bytes.
"""

from __future__ import annotations

import fcntl
import mmap
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

#: Direct writes start and end on multiples of this (the largest logical block in common use).
ALIGN = 4096

#: Bytes gathered before each write; a multiple of ALIGN.
BUFFER_BYTES = 8 * 1024 * 1024

_O_DIRECT = getattr(os, "O_DIRECT", 0)

Buffer = bytes | bytearray | memoryview


class BulkFile:
    """An output file written in large aligned blocks, direct to disk where allowed.

    Two buffers take turns: while the disk takes one, the caller fills the other. Use as a
    context manager; `write` takes any number of byte buffers, in order.
    """

    def __init__(self, path: Path, buffer_bytes: int = BUFFER_BYTES) -> None:
        if buffer_bytes <= 0 or buffer_bytes % ALIGN:
            raise ValueError(f"buffer_bytes must be a positive multiple of {ALIGN}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        self.direct = False
        self._fd = -1
        if _O_DIRECT:
            try:
                self._fd = os.open(path, flags | _O_DIRECT, 0o644)
                self.direct = True
            except OSError:
                self._fd = -1
        if self._fd < 0:
            self._fd = os.open(path, flags, 0o644)
        # Anonymous mappings are page-aligned, as direct I/O wants its memory to be.
        self._buffers = [mmap.mmap(-1, buffer_bytes) for _ in range(2)]
        self._views = [memoryview(b) for b in self._buffers]
        self._current = 0
        self._fill = 0
        self._disk = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future[None] | None] = [None, None]

    def __enter__(self) -> BulkFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, pieces: Sequence[Buffer]) -> None:
        """Append the pieces to the file."""
        # Many small pieces are joined in one C-level pass rather than copied one by one.
        data = memoryview(pieces[0] if len(pieces) == 1 else b"".join(pieces)).cast("B")
        while len(data):
            view = self._views[self._current]
            take = min(len(view) - self._fill, len(data))
            view[self._fill : self._fill + take] = data[:take]
            self._fill += take
            data = data[take:]
            if self._fill == len(view):
                self._flip()

    def close(self) -> None:
        """Write what is gathered and close the file."""
        if self._fd < 0:
            return
        try:
            self._wait(1 - self._current)
            view = self._views[self._current]
            whole = self._fill - self._fill % ALIGN
            if whole:
                self._write_out(view[:whole])
            if self._fill > whole:
                self._buffered()
                self._write_out(view[whole : self._fill])
            self._fill = 0
        finally:
            self._disk.shutdown(wait=True)
            os.close(self._fd)
            self._fd = -1
            for view in self._views:
                view.release()
            for buffer in self._buffers:
                buffer.close()

    def _flip(self) -> None:
        """Hand the full buffer to the disk and go on in the other one once it is free."""
        full = self._current
        self._pending[full] = self._disk.submit(self._write_out, self._views[full])
        self._current = 1 - full
        self._fill = 0
        self._wait(self._current)

    def _wait(self, index: int) -> None:
        pending = self._pending[index]
        if pending is not None:
            self._pending[index] = None
            pending.result()

    def _buffered(self) -> None:
        """Leave direct I/O for what remains (a partial block cannot be written directly)."""
        if self.direct:
            flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~_O_DIRECT)
            self.direct = False

    def _write_out(self, data: memoryview) -> None:
        while len(data):
            try:
                done = os.write(self._fd, data)
            except OSError:
                if not self.direct:
                    raise
                # The file system took the open but refuses this write: go on the ordinary way.
                self._buffered()
                continue
            data = data[done:]
            if len(data) and done % ALIGN:
                # A short write that left a partial block: the rest cannot be written directly.
                self._buffered()
