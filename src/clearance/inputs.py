"""The input paths of a command, checked before anything is read, and pipes made into files.

A run reads its DOJ files twice (once to decide, once more to copy every row into
`results.csv`), so an input that can be read only once, a pipe (`-`, `/dev/stdin`, a process
substitution `<(zcat ...)`, a named FIFO), is first copied to a file beside the output folder
(the disk the user chose for the run's data, not a `/tmp` that may be memory) and read from
there. The copy is named after the input ("stdin" for `-`), so the outputs cite `stdin:LINE`.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from clearance.exits import CommandError, Exit

#: Names under which the standard input may be given.
_STDIN_NAMES = {"-", "/dev/stdin", "/proc/self/fd/0", "/dev/fd/0"}


def _spool_name(path: Path, taken: set[str]) -> str:
    base = "stdin" if str(path) in _STDIN_NAMES else (path.name or "input")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _open_stream(path: Path) -> BinaryIO:
    if str(path) == "-":
        return sys.stdin.buffer
    return path.open("rb")


def check_inputs(paths: Sequence[Path]) -> list[Path]:
    """The inputs that must be copied first (pipes); a `CommandError` for an input that does
    not exist, is a folder or a device, or cannot be read."""
    pipes = []
    for path in paths:
        if str(path) == "-":
            pipes.append(path)
            continue
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file", Exit.NOT_FOUND) from None
        except NotADirectoryError:
            raise CommandError(f"{path}: no such file (a part of the path is a file)",
                               Exit.NOT_FOUND) from None  # fmt: skip
        except PermissionError:
            raise CommandError(f"{path}: not readable (permission denied)",
                               Exit.NOT_WRITABLE) from None  # fmt: skip
        if stat.S_ISDIR(mode):
            raise CommandError(f"{path}: is a folder, not a file", Exit.NOT_A_FILE)
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            pipes.append(path)
        elif stat.S_ISCHR(mode) and str(path) in _STDIN_NAMES:
            # A terminal as standard input: read what is typed, up to end of file.
            pipes.append(path)
        elif not stat.S_ISREG(mode):
            raise CommandError(f"{path}: is a device, not a file", Exit.NOT_A_FILE)
        elif not os.access(path, os.R_OK):
            raise CommandError(f"{path}: not readable (permission denied)", Exit.NOT_WRITABLE)
    return pipes


def prepare_inputs(paths: Sequence[Path], spool_dir: Path) -> list[Path]:
    """The paths to read: files as given, pipes copied into `spool_dir` (created when needed)."""
    pipes = set(check_inputs(paths))
    if not pipes:
        return list(paths)
    spool_dir.mkdir(exist_ok=True)
    taken: set[str] = set()
    ready = []
    for path in paths:
        if path not in pipes:
            ready.append(path)
            continue
        copy = spool_dir / _spool_name(path, taken)
        with _open_stream(path) as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        ready.append(copy)
    return ready
