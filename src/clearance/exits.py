"""Exit statuses and one-line messages for what goes wrong around a command, not in its data.

A script that runs `clearance` every night needs to tell "the disk is full" from "the file is
not there" from "the data is bad" without reading English, so each kind of trouble has its own
exit status (listed in the README). The message is always one line, names the path the user
gave and the kind of trouble, and never repeats content from the data.

Operating-system errors reach us in two shapes: Python's `OSError` with an `errno`, and errors
raised from Polars' Rust side whose text ends with "(os error N)". Both are classified here.
"""

from __future__ import annotations

import errno
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from types import FrameType


class Exit(IntEnum):
    """The exit statuses of `clearance` (the README's table is written from these)."""

    OK = 0
    #: A fault of the program itself: one line asking for a report, never a traceback.
    INTERNAL = 1
    #: Bad usage or bad content the user can fix (a date, a policy, a file that is not a DOJ
    #: extract).
    USAGE = 2
    #: An input file or a folder named on the command line does not exist.
    NOT_FOUND = 3
    #: An input names a folder or a device where a file is needed.
    NOT_A_FILE = 4
    #: `--out` names a file where a folder is needed (or a folder that holds other things).
    NOT_A_FOLDER = 5
    #: Permission denied, or a read-only file system: the output cannot be written (or an
    #: input cannot be read).
    NOT_WRITABLE = 6
    #: No space left on the device, a quota, or a file-size limit reached while writing.
    DISK_FULL = 7
    #: Any other input/output error from the operating system.
    IO_ERROR = 8
    #: `clearance verify`: the folder is not whole (a file missing, changed or extra).
    NOT_WHOLE = 9
    #: Another run is writing the same output folder.
    BUSY = 10
    #: Stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it.
    INTERRUPTED = 130
    #: Stopped by SIGTERM: 128 + 15.
    TERMINATED = 143


#: What each status means, in the words of the README table.
MEANINGS: dict[Exit, str] = {
    Exit.OK: "done",
    Exit.INTERNAL: "a fault of clearance itself (please report it)",
    Exit.USAGE: "bad usage or input content (a date, a policy, a file that is not a DOJ extract)",
    Exit.NOT_FOUND: "an input file or a named folder does not exist",
    Exit.NOT_A_FILE: "an input is a folder or a device, not a file",
    Exit.NOT_A_FOLDER: "--out is a file, or a folder that holds other things than a run",
    Exit.NOT_WRITABLE: "permission denied or read-only file system",
    Exit.DISK_FULL: "disk full, quota or file-size limit reached",
    Exit.IO_ERROR: "another input/output error of the operating system",
    Exit.NOT_WHOLE: "`clearance verify`: the folder is not whole",
    Exit.BUSY: "another run is writing the same output folder",
    Exit.INTERRUPTED: "stopped by Ctrl-C",
    Exit.TERMINATED: "stopped by SIGTERM",
}


class CommandError(Exception):
    """A failure to report in one line with its own exit status."""

    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.code = code


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM arrived; a BaseException so that no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.code = Exit.INTERRUPTED if signum == signal.SIGINT else Exit.TERMINATED


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_OS_ERROR_TEXT = re.compile(r"\(os error (\d+)\)")


def os_errno(exc: BaseException) -> int | None:
    """The operating-system error number of `exc`, from Python or from Polars' text; walks the
    chain of causes, since libraries wrap the error they met."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        number = getattr(current, "errno", None)
        if isinstance(number, int):
            return number
        found = _OS_ERROR_TEXT.search(str(current))
        if found:
            return int(found.group(1))
        current = current.__cause__ or current.__context__
    return None


def environment_error(exc: BaseException, where: str) -> CommandError | None:
    """A one-line `CommandError` for an operating-system failure while working on `where`
    (a path as the user gave it), or None when `exc` is not one."""
    number = os_errno(exc)
    if number is None:
        return None
    if number in _DISK_FULL:
        kind = {
            errno.ENOSPC: "no space left on the device",
            errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file-size limit reached",
        }[number]
        return CommandError(f"{where}: disk full ({kind})", Exit.DISK_FULL)
    if number in _NOT_WRITABLE:
        kind = "read-only file system" if number == errno.EROFS else "permission denied"
        return CommandError(f"{where}: not writable ({kind})", Exit.NOT_WRITABLE)
    if number == errno.ENOENT:
        return CommandError(f"{where}: no such file or folder", Exit.NOT_FOUND)
    if number == errno.ENOTDIR:
        return CommandError(f"{where}: a part of the path is a file, not a folder",
                            Exit.NOT_A_FOLDER)  # fmt: skip
    if number == errno.EISDIR:
        return CommandError(f"{where}: is a folder, not a file", Exit.NOT_A_FILE)
    return CommandError(f"{where}: input/output error ({errno.errorcode.get(number, number)})",
                        Exit.IO_ERROR)  # fmt: skip


#: Signals received under `stop_on_signals`: a library that catches the `Interrupted` raised in
#: its callback (and wraps it in an error of its own) cannot make the command forget it.
_received: list[int] = []


def interrupted_by() -> Interrupted | None:
    """The interruption received, if any."""
    return Interrupted(_received[0]) if _received else None


def raise_if_interrupted() -> None:
    """Raise the interruption received, if any (checked before the outputs are put in place)."""
    found = interrupted_by()
    if found is not None:
        raise found


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM raise `Interrupted` in the main thread, whatever the code
    under them catches as an `Exception`; a file-size limit becomes an error to report
    (EFBIG) instead of killing the process. The previous handlers come back on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        _received.append(signum)
        raise Interrupted(signum)

    _received.clear()

    previous = {
        signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    previous_xfsz = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        signal.signal(signal.SIGXFSZ, previous_xfsz)


@contextmanager
def signals_held() -> Iterator[None]:
    """Delay Ctrl-C and SIGTERM across a step that must not be cut in two (the swap of the
    output folder); a signal that arrived meanwhile is delivered right after.

    The signal is not blocked but deferred: the kernel hands a process's signal to any of its
    threads (Polars' or the hashing pool's as well as the main one), and Python runs the
    handler in the main thread whichever received it, so only replacing the handler for the
    step holds it everywhere."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[signal.Signals] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        arrived.append(signal.Signals(signum))

    previous = {signum: signal.signal(signum, defer) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if arrived:
            first = previous[arrived[0]]
            if callable(first):
                first(arrived[0], None)
            elif first == signal.SIG_DFL:
                signal.raise_signal(arrived[0])
