"""The swap of an output folder is never cut in two by Ctrl-C or SIGTERM, whichever thread of
the process the kernel hands the signal to (Polars and the hashing pool run threads of their
own): the signal waits for the end of the step and then stops the command."""

from __future__ import annotations

import signal
import threading

import pytest

from clearance.exits import Interrupted, signals_held, stop_on_signals


def _signal_from_another_thread(signum: int) -> tuple[threading.Thread, threading.Event]:
    """A thread, started before the held step (so its own signal mask is the process's
    ordinary one), that sends `signum` to itself when the event is set."""
    go = threading.Event()

    def run() -> None:
        go.wait(timeout=60)
        signal.pthread_kill(threading.get_ident(), signum)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, go


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_another_thread_waits_for_the_end_of_the_step(signum: int) -> None:
    steps: list[str] = []
    with stop_on_signals():
        thread, go = _signal_from_another_thread(signum)
        with pytest.raises(Interrupted) as stopped:
            with signals_held():
                steps.append("first rename")
                go.set()
                thread.join(timeout=60)
                # The main thread runs Python code here: a handler left in place would raise
                # now, between the two halves of the step.
                total = sum(range(100_000))
                steps.append(f"second rename {total > 0}")
            steps.append("after the step")
    assert steps == ["first rename", "second rename True"]
    assert stopped.value.code == (130 if signum == signal.SIGINT else 143)


def test_no_signal_changes_nothing() -> None:
    with stop_on_signals():
        previous = signal.getsignal(signal.SIGTERM)
        with signals_held():
            pass
        assert signal.getsignal(signal.SIGTERM) is previous
