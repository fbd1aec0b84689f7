"""What every `clearance` command does when something goes wrong: one line, its own exit status.

The promise to the user is "never a traceback": a damaged input, a full disk, a folder that
cannot be written, Ctrl-C, and even a fault of the program itself end with one line on stderr
that says what happened and what became of the outputs, and an exit status a script can test
(`exits.Exit`). `CLEARANCE_DEBUG=1` shows the traceback of a fault, for the people who fix it.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.markup import escape

from clearance.exits import (
    CommandError,
    Exit,
    Interrupted,
    environment_error,
    interrupted_by,
    stop_on_signals,
)
from clearance.outputs.folder import Staging

err = Console(stderr=True)


class UsageError(Exception):
    """Bad input that the user can fix; the message is the one line shown."""


@dataclass
class Outcome:
    """What a command has done to its output folder so far, for the message of a failure."""

    staging: Staging | None = None


def fail(message: str, code: Exit = Exit.USAGE) -> None:
    """Print a one-line error and exit with `code`. The message is escaped: a path such as
    `x[/b].dat` is text to show, not markup."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def _where(exc: BaseException, outcome: Outcome | None) -> str:
    """The path to name for an operating-system error: the file it names, unless that is one of
    our hidden working files (then the output folder the user gave)."""
    filename = getattr(exc, "filename", None)
    staging = outcome.staging if outcome is not None else None
    if filename:
        text = os.fsdecode(filename)
        if staging is None or not (
            text.startswith(str(staging.path)) or text.startswith(str(staging.spool))
        ):
            return text
    if staging is not None:
        return str(staging.target)
    return "clearance"


def describe(exc: BaseException, outcome: Outcome | None) -> tuple[str, Exit]:
    """The one line and the exit status for `exc`."""
    from clearance.records.chunks import ReadError

    stop = exc if isinstance(exc, Interrupted) else interrupted_by()
    if stop is None and isinstance(exc, KeyboardInterrupt):
        import signal

        stop = Interrupted(signal.SIGINT)
    if stop is not None:
        how = "Ctrl-C" if stop.code == Exit.INTERRUPTED else "SIGTERM"
        return f"stopped by {how}", stop.code
    if isinstance(exc, CommandError):
        return str(exc), exc.code
    from clearance.outputs.filings.data import FilingsError

    if isinstance(exc, (ReadError, UsageError, FilingsError)):
        return str(exc), Exit.USAGE
    if isinstance(exc, MemoryError):
        return "out of memory: run on a machine with more memory or split the input files", (
            Exit.USAGE
        )
    found = environment_error(exc, _where(exc, outcome))
    if found is not None:
        return str(found), found.code
    return (
        f"internal error ({type(exc).__name__}): please report it, with the command that "
        "ran (CLEARANCE_DEBUG=1 shows where it happened)",
        Exit.INTERNAL,
    )


def _aftermath(outcome: Outcome | None) -> str:
    if outcome is None or outcome.staging is None:
        return ""
    if outcome.staging.committed:
        return f"; the outputs in {outcome.staging.target} were complete before it stopped"
    return f"; {outcome.staging.unchanged}"


@contextmanager
def command_errors(outcome: Outcome | None = None) -> Iterator[None]:
    """Run a command's body: Ctrl-C and SIGTERM stop it, and every failure ends in one line
    with its exit status, saying what became of the output folder (`outcome`)."""
    try:
        with stop_on_signals():
            yield
    except typer.Exit:
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        message, code = describe(exc, outcome)
        if code == Exit.INTERNAL and os.environ.get("CLEARANCE_DEBUG"):
            traceback.print_exception(exc)
        fail(message + _aftermath(outcome), code)
