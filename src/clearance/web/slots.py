"""The worker slots that runs and filings builds share: a bounded number of jobs at once.

A run holds a county in memory and uses every core through Polars; a build lays out every
filing of a run. The machine decides how many of either it can hold at once, not which kind
they are, so both kinds of job wait in one queue, first come first served, for one of `size`
slots (`clearance serve --jobs N`). A job waiting for a slot is "queued" on its page and can be
cancelled before it ever starts a worker process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

#: Jobs at once by default: a run and a filings build can go on side by side.
DEFAULT_JOBS = 2


class JobSlots:
    """A first-come, first-served queue of jobs with `size` slots; each slot a supervisor
    thread that starts one worker process and waits for it."""

    def __init__(self, size: int = DEFAULT_JOBS) -> None:
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, supervise: Callable[..., None], *args: Any) -> Future[None]:
        """Queue `supervise(*args)`; it runs once a slot is free. Cancelling the future before
        then drops the job without running it."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.size, thread_name_prefix="clearance-job"
                )
            return self._executor.submit(supervise, *args)

    def shutdown(self) -> None:
        """Stop taking jobs; those still waiting never start (the app records them as
        interrupted on its next start). A later submit opens the slots again."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
