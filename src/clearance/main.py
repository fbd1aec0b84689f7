"""The `clearance` program's entry point: signals first, then the command line.

Ctrl-C must stop `clearance` at any moment with exit status 130 and one line, including the
second or so spent importing Polars and the rest before a command starts; so the handlers are
installed before anything heavy is imported. (A shell starts background jobs with Ctrl-C
ignored; a run is long, and its user expects Ctrl-C or `kill -INT` to stop it, so the handler
is installed whatever was inherited.)
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from clearance.exits import Exit, Interrupted


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main() -> None:
    """Run the `clearance` command line."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    # A file-size limit is reported as a full disk, not a silent kill (`exits.stop_on_signals`).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        from clearance.cli import app

        app(prog_name="clearance")
    except Interrupted as stop:
        how = "Ctrl-C" if stop.code == Exit.INTERRUPTED else "SIGTERM"
        print(f"error: stopped by {how}", file=sys.stderr)
        sys.exit(int(stop.code))
    except Exception as exc:
        # Commands turn their own failures into one line (`guard.command_errors`); this is
        # the last net for a fault outside them.
        print(
            f"error: internal error ({type(exc).__name__}): please report it, with the command "
            "that ran",
            file=sys.stderr,
        )
        sys.exit(int(Exit.INTERNAL))


if __name__ == "__main__":
    main()
