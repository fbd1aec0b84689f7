"""What every job of the workspace shares: a worker process under a memory limit that reports
through a small state file.

Runs (`jobs.py`) and filings builds (`builds.py`) read and write whole counties, so neither
runs in a request nor in the web server's process. Each is a fresh interpreter (`spawn`) that
limits its own address space before importing anything heavy, so a hostile or broken input can
exhaust only the job, never the server, and runs at a lower CPU priority than the server, so
pages keep answering while a job takes every core. The worker writes where it is (stage,
bytes or steps done) into a JSON file that the server's pages read; the file is replaced
whole, so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
import re
import resource
from collections.abc import Callable, Iterable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

#: Default memory limit of one job (address space), overridable per app.
DEFAULT_JOB_MEMORY_BYTES = 16 * 1024**3
#: How much lower than the server's a job's CPU priority is (`os.nice`): on a busy machine
#: the server answers its pages first and the job takes the time left; on an idle one the
#: job still has every core.
JOB_NICENESS = 10
#: Exit codes of a worker: done, refused with a message for the user, over its memory limit,
#: stopped by an unexpected error, refused because another build of the run holds its lock.
EXIT_OK, EXIT_REFUSED, EXIT_MEMORY, EXIT_UNEXPECTED, EXIT_BUSY = 0, 3, 4, 5, 6


def over_memory(limit: int) -> str:
    """'more memory than a job may use (2.0 GB)': the words of every job stopped by its limit."""
    from clearance.web.files import human_size

    return f"more memory than a job may use ({human_size(limit)})"


def without_paths(message: str, paths: Iterable[Path]) -> str:
    """A message for the user with the server's paths taken out: each of `paths`, or a file
    below one, becomes what lies below it with hidden working folders left out
    (`reviewed/summary.json`), the path itself its own name (an upload's file name).

    Job messages are shown in the web and kept in the audit log, where a server path would
    tell every user how the machine's data folder is laid out.
    """
    for base in sorted({str(p) for p in paths}, key=len, reverse=True):
        found = re.compile(re.escape(base) + r"(?![^\s/'\"`,;:()])((?:/[^\s/'\"`,;:()]+)*)")

        def short(match: re.Match[str], name: str = Path(base).name) -> str:
            parts = [p for p in match.group(1).split("/") if p and not p.startswith(".")]
            return "/".join(parts) or name

        message = found.sub(short, message)
    return message


def write_state(path: Path, **state: Any) -> None:
    """Replace a job's state file whole (the server may read it at any moment)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)


def read_state(path: Path) -> dict[str, Any]:
    """A job's state file, or {} when it is missing or being replaced."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def refused_memory(exc: BaseException) -> bool:
    """Whether an error is the memory limit at work: a library that could not be mapped, or
    an allocation the system refused (ENOMEM)."""
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True
    text = str(exc)
    return isinstance(exc, (ImportError, OSError)) and (
        "map segment" in text or "Cannot allocate memory" in text
    )


def died_outside_python(exitcode: int | None) -> bool:
    """Whether a worker ended without passing through its own handler: killed by a signal, or
    exited by a native library (OpenBLAS, a Rust allocator) that could not allocate. Under a
    memory limit that is the limit at work; every Python error exits with one of our codes."""
    ours = (EXIT_OK, EXIT_REFUSED, EXIT_MEMORY, EXIT_UNEXPECTED, EXIT_BUSY)
    return exitcode is not None and exitcode not in ours


def outcome(exitcode: int | None, written: object, over_limit: str, unexpected: str) -> str | None:
    """The user's message for how a worker ended, None when it succeeded: the message it wrote
    when it refused or ran out of memory inside Python; `over_limit` when it died outside
    Python (the memory limit at work); otherwise `unexpected` (the log has the error's name)."""
    if exitcode == EXIT_OK:
        return None
    if exitcode in (EXIT_REFUSED, EXIT_MEMORY, EXIT_BUSY) and written:
        return str(written)
    if died_outside_python(exitcode):
        return over_limit
    return unexpected


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (never above an existing hard cap)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def lower_priority(increment: int = JOB_NICENESS) -> None:
    """Lower this process's CPU priority by `increment` (a system that refuses keeps it)."""
    with contextlib.suppress(OSError):
        os.nice(increment)


def _at_lower_priority(target: Callable[..., None], args: tuple[Any, ...]) -> None:
    """The worker's entry point: lower its priority first, then do the job."""
    lower_priority()
    target(*args)


def start_worker(target: Callable[..., None], args: tuple[Any, ...], name: str) -> BaseProcess:
    """Start `target(*args)` in a fresh interpreter (spawn: nothing of the server is shared),
    at a lower CPU priority than the server (`JOB_NICENESS`).

    Daemonic, so a server that stops ends its workers with it.
    """
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_at_lower_priority, args=(target, args), name=name, daemon=True
    )
    process.start()
    return process
