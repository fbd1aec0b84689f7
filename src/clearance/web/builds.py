"""Filings builds started from the browser, each a job in a worker process of its own.

A build exports the reviewed decisions of a whole run and lays out every motion, order, exhibit
and report: minutes and gigabytes on a large county. Like a run (`jobs.py`), it therefore runs
in a worker process under the job memory limit, never in a request or in the server's process,
and the page follows it through a small state file.

- **One build at a time per run:** a second request while one is queued or running is refused
  with a message (409), never a 500; an advisory lock in the run folder (`BUILD_LOCK`) holds
  across processes too (a build by a command, another server), and the system releases it when
  its holder dies.
- **A bounded number at once:** builds and runs share the app's worker slots (`slots.py`,
  `clearance serve --jobs N`); a build waiting for one is "queued".
- **Atomic:** the worker writes reviewed/ and filings/ in a hidden staging folder and puts them
  in place only when both are complete; a failed build leaves the previous set as it was.
- **Cancel:** a queued build is dropped before it starts; a running one's worker is stopped and
  its staging folder deleted, so the previous set stays. A stop that arrives while the new set
  is being put in place takes effect once it is in place and audited, never between the two.
- **Audited:** the worker records "filings.built" as soon as the new set is in place; the
  supervisor records "filings.failed", "filings.refused" or "filings.cancelled" for every
  other outcome, a worker that died included. A build interrupted by a server stop is recorded
  when the server starts.
- **The state file** (`BUILD_STATE`, hidden: never listed nor downloadable) keeps the last
  build's outcome, so the downloads page says what the files listed come from.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clearance.store import audit
from clearance.web.slots import JobSlots
from clearance.web.workers import (
    DEFAULT_JOB_MEMORY_BYTES,
    EXIT_BUSY,
    EXIT_MEMORY,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNEXPECTED,
    limit_memory,
    outcome,
    over_memory,
    read_state,
    refused_memory,
    start_worker,
    without_paths,
    write_state,
)

LOG = logging.getLogger("clearance.web.builds")

#: Subfolders of a run folder written from the reviewed decisions.
REVIEWED_DIR = "reviewed"
FILINGS_DIR = "filings"
#: The filing details last used, kept with the filings (the form starts from them).
FILING_DETAILS = "filing-details.json"
#: Hidden files of the run folder: the advisory lock and the last build's state.
BUILD_LOCK = ".filings-build.lock"
BUILD_STATE = ".filings-build.json"

NOT_WRITTEN = "The filings were not written (the previous ones are unchanged): "
BUILD_BUSY = (
    "Another build of this run's filings is in progress. The previous filings stay as they "
    "are; this page shows the new ones when that build is done."
)
BUILD_UNEXPECTED = (
    NOT_WRITTEN + "the build stopped on an unexpected problem (recorded in the server's log, "
    "without any data); build again, and tell the administrator if it happens again."
)
BUILD_INTERRUPTED = NOT_WRITTEN + "the server stopped during the build; build again."
INCOMPLETE_RUN = NOT_WRITTEN + "the run's files on the server are not complete."
QUEUED = "queued: waiting for a free job slot (runs and filings builds take turns)"


class BuildBusy(Exception):
    """Another build of the same run's filings is queued or in progress."""


def build_memory_message(limit: int) -> str:
    return NOT_WRITTEN + f"the build needed {over_memory(limit)}."


def build_cancelled(who: str) -> str:
    return NOT_WRITTEN + f"the build was cancelled by {who}."


@dataclass(frozen=True)
class BuildState:
    """The last build of a run's filings, as its state file says."""

    id: str
    status: str  # queued, running, done, failed or cancelled
    actor: str
    started: str
    stage: str = ""
    steps: int = 0
    error: str = ""
    reviewed: int = 0
    pending: int = 0
    include_pending: bool = False

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def started_text(self) -> str:
        """'2026-12-06 08:15 UTC' (what the page shows)."""
        return self.started[:16].replace("T", " ") + " UTC" if self.started else ""

    @property
    def progress_text(self) -> str:
        if self.status == "queued":
            return QUEUED
        if not self.stage:
            return "starting"
        return f"{self.stage} (step {self.steps:,})" if self.steps else self.stage

    @property
    def message(self) -> str:
        """What a finished build wrote, with how many decisions were reviewed and held."""
        held = 0 if self.include_pending else self.pending
        text = (
            f"Built the reviewed outputs and the filings from {self.reviewed:,} reviewed "
            f"decision{'s' if self.reviewed != 1 else ''}."
        )
        if held:
            text += (
                f" {held:,} decision{'s' if held != 1 else ''} still pending review "
                f"{'are' if held != 1 else 'is'} in no filing."
            )
        if self.include_pending and self.pending:
            text += (
                f" {self.pending:,} unreviewed (pending) decision"
                f"{'s are' if self.pending != 1 else ' is'} included, as asked; the report "
                "and manifest say so."
            )
        return text


def state_path(run_dir: Path) -> Path:
    return run_dir / BUILD_STATE


def read_build(run_dir: Path) -> BuildState | None:
    """The last build of the run in `run_dir`, or None when none was started here."""
    data = read_state(state_path(run_dir))
    try:
        return BuildState(
            id=str(data["id"]),
            status=str(data["status"]),
            actor=str(data.get("actor", "")),
            started=str(data.get("started", "")),
            stage=str(data.get("stage", "")),
            steps=int(data.get("steps", 0)),
            error=str(data.get("error", "")),
            reviewed=int(data.get("reviewed", 0)),
            pending=int(data.get("pending", 0)),
            include_pending=bool(data.get("include_pending", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def update_state(path: Path, **changes: Any) -> None:
    """Merge `changes` into a state file (one writer at a time: supervisor, then worker)."""
    write_state(path, **(read_state(path) | changes))


@contextmanager
def one_build_at_a_time(run_dir: Path) -> Iterator[None]:
    """The run's build lock, taken without waiting: BuildBusy when another holder has it.

    An advisory lock (flock) is released by the system when its holder dies, so a build that
    crashed never blocks the next one; it works across processes as well as threads.
    """
    with (run_dir / BUILD_LOCK).open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy from None
        yield


def lock_is_free(run_dir: Path) -> bool:
    """Whether no process holds the run's build lock right now (taken and released at once)."""
    try:
        with one_build_at_a_time(run_dir):
            return True
    except BuildBusy:
        return False


@contextmanager
def stop_deferred() -> Iterator[None]:
    """Hold a SIGTERM (a cancel, a server stop) that arrives within the block until its end.

    A Python handler, not a blocked signal mask: the worker's library threads would otherwise
    take the signal and end the process at once. Only the worker's main thread may call it.
    """
    asked: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: asked.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if asked:
            os.kill(os.getpid(), signal.SIGTERM)


def build_reviewed_and_filings(
    sessions: sessionmaker[Session],
    run_id: int,
    run_dir: Path,
    filing: dict[str, str],
    include_pending: bool,
    actor: str,
    progress: Callable[[str], None] | None = None,
    in_place: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Write reviewed/ and filings/ of a run beside the old ones, then put both in place.

    Everything is built in a hidden staging folder of the run folder; only when both are
    complete do they replace the previous reviewed/ and filings/. Returns the manifest's
    review block (how many decisions were reviewed, pending, included), which `in_place` is
    also given right after the swap, before a stop can take effect (the worker audits there).
    The caller holds the run's build lock.
    """
    from clearance.outputs.filings import write_filings
    from clearance.store.runs import export_reviewed_run
    from clearance.web.files import replace_folder

    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=run_dir))
    try:
        if progress is not None:
            progress("exporting the reviewed decisions")
        with sessions() as db:
            reviewed = export_reviewed_run(db, run_id, staging / REVIEWED_DIR, actor=actor)
        result = write_filings(
            reviewed,
            staging / FILINGS_DIR,
            filing=filing,
            style="form",
            include_pending=include_pending,
            progress=progress,
        )
        (staging / FILINGS_DIR / FILING_DETAILS).write_text(
            json.dumps(filing, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        review = result.manifest.get("review")
        counts = dict(review) if isinstance(review, dict) else {}
        if progress is not None:
            progress("putting the new set in place")
        with stop_deferred():
            replace_folder(staging / REVIEWED_DIR, run_dir / REVIEWED_DIR)
            replace_folder(staging / FILINGS_DIR, run_dir / FILINGS_DIR)
            if in_place is not None:
                in_place(counts)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def build_job(
    database_url: str,
    run_id: int,
    run_dir: str,
    filing: dict[str, str],
    include_pending: bool,
    actor: str,
    memory_bytes: int,
) -> None:
    """The worker process: limit memory, take the run's lock, build, audit, exit.

    Exits EXIT_OK once the new set is in place and audited; otherwise it writes the message for
    the user into the state file and exits with the code that says why. The supervisor
    records every outcome but success.
    """
    limit_memory(memory_bytes)
    folder = Path(run_dir)
    state = state_path(folder)
    code, message = EXIT_UNEXPECTED, BUILD_UNEXPECTED
    try:
        from clearance.outputs.filings import FilingsError
        from clearance.outputs.filings.data import IncompleteRun
        from clearance.store.db import session_factory
        from clearance.store.runs import StoreError

        sessions = session_factory(database_url)
        steps = 0

        def progress(stage: str) -> None:
            nonlocal steps
            steps += 1
            update_state(state, status="running", stage=stage, steps=steps)

        def built(review: dict[str, Any]) -> None:
            counts = {
                "reviewed": int(review.get("reviewed_convictions", 0)),
                "pending": int(review.get("pending_convictions", 0)),
                "pending_included": bool(review.get("pending_included", include_pending)),
            }
            with sessions() as db:
                audit.append(
                    db, actor, "filings.built", f"run:{run_id}", {"folder": FILINGS_DIR} | counts
                )
                db.commit()
            # "built": the supervisor marks it done once it has let go of the run, so the
            # page never offers a new build that would still be refused.
            update_state(
                state,
                built=True,
                stage="done",
                reviewed=counts["reviewed"],
                pending=counts["pending"],
                include_pending=counts["pending_included"],
            )

        try:
            with one_build_at_a_time(folder):
                update_state(state, status="running", stage="starting", steps=0)
                build_reviewed_and_filings(
                    sessions, run_id, folder, filing, include_pending, actor, progress, built
                )
            code, message = EXIT_OK, ""
        except BuildBusy:
            code, message = EXIT_BUSY, BUILD_BUSY
        except IncompleteRun:
            code, message = EXIT_REFUSED, INCOMPLETE_RUN
        except FilingsError as exc:
            # Written for users; never quotes the data. Paths (of the run folder, of its staging
            # folder) are the server's own business.
            code, message = EXIT_REFUSED, NOT_WRITTEN + without_paths(str(exc), [folder])
        except StoreError:
            code, message = EXIT_REFUSED, INCOMPLETE_RUN
    except Exception as exc:
        if refused_memory(exc):
            code, message = EXIT_MEMORY, build_memory_message(memory_bytes)
        else:
            LOG.error("filings build of run %d failed: %s", run_id, type(exc).__name__)
    if code != EXIT_OK:
        update_state(state, error=message)
    os._exit(code)


#: What a supervisor starts in the worker process (tests replace it to inject failures).
BuildTarget = Callable[[str, int, str, dict[str, str], bool, str, int], None]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class FilingsBuilds:
    """The filings builds of one app, each a worker process in one of the app's job slots."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        database_url: str,
        *,
        slots: JobSlots | None = None,
        memory_bytes: int = DEFAULT_JOB_MEMORY_BYTES,
    ) -> None:
        self.sessions = sessions
        self.database_url = database_url
        self.slots = slots if slots is not None else JobSlots()
        self.memory_bytes = memory_bytes
        self.target: BuildTarget = build_job
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._waiting: dict[int, Future[None]] = {}
        self._processes: dict[int, BaseProcess] = {}
        self._cancelled: dict[int, str] = {}
        self._stopped: set[int] = set()
        self._stopping = False

    def building(self, run_id: int) -> bool:
        """Whether a build of this run is queued or running in this server."""
        with self._lock:
            return run_id in self._active

    def submit(
        self,
        run_id: int,
        run_dir: Path,
        filing: dict[str, str],
        include_pending: bool,
        actor: str,
    ) -> str:
        """Queue a build of the run's filings; its id. BuildBusy when one is under way (here,
        or by any process holding the run's lock): the previous state file stays."""
        with self._lock:
            if run_id in self._active or not lock_is_free(run_dir):
                raise BuildBusy
            self._active.add(run_id)
            self._stopping = False
            build_id = uuid.uuid4().hex[:12]
            write_state(
                state_path(run_dir),
                id=build_id,
                status="queued",
                actor=actor,
                started=_now(),
                include_pending=include_pending,
            )
            self._waiting[run_id] = self.slots.submit(
                self._supervise, run_id, run_dir, filing, include_pending, actor
            )
        return build_id

    def cancel(self, run_id: int, run_dir: Path, who: str) -> bool:
        """Cancel this server's queued or running build of a run; False when there is none.

        A queued build is dropped at once; a running one's worker is stopped, and its
        supervisor records the outcome (the previous filings stay, or the new set if it was
        already in place when the stop came)."""
        with self._lock:
            if run_id not in self._active or run_id in self._cancelled:
                return False
            self._cancelled[run_id] = who
            waiting = self._waiting.get(run_id)
            if waiting is None or not waiting.cancel():
                process = self._processes.get(run_id)
                if process is not None:
                    process.terminate()
                # Not started yet: its supervisor sees the cancel before starting a worker.
                return True
            self._waiting.pop(run_id, None)
        self._end(run_id, run_dir, who, build_cancelled(who), "filings.cancelled")
        return True

    def recover(self, runs_dir: Path) -> None:
        """Record the builds a previous server left queued or running as failed (audited), and
        delete their staging folders. Called when the app starts."""
        for state in runs_dir.glob(f"*/{BUILD_STATE}"):
            run_dir = state.parent
            build = read_build(run_dir)
            if build is None or not build.active or not run_dir.name.isdigit():
                continue
            if self.building(int(run_dir.name)) or not lock_is_free(run_dir):
                continue
            if read_state(state).get("built"):  # in place and audited: only not yet marked
                update_state(state, status="done")
                continue
            self._record_failure(int(run_dir.name), run_dir, build.actor, BUILD_INTERRUPTED)
            update_state(state, status="failed", error=BUILD_INTERRUPTED)

    def shutdown(self) -> None:
        """Stop taking builds; running workers are terminated and queued builds dropped (both
        recorded on the next start)."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes.values())
            self._stopped |= set(self._processes)
            for run_id, waiting in list(self._waiting.items()):
                if waiting.cancel():
                    del self._waiting[run_id]
                    self._active.discard(run_id)
        for process in processes:
            process.terminate()
        self.slots.shutdown()

    def _supervise(
        self,
        run_id: int,
        run_dir: Path,
        filing: dict[str, str],
        include_pending: bool,
        actor: str,
    ) -> None:
        state = state_path(run_dir)
        failure: str | None = BUILD_UNEXPECTED
        action = "filings.failed"
        try:
            process: BaseProcess | None = None
            with self._lock:
                self._waiting.pop(run_id, None)
                who = self._cancelled.get(run_id)
                if who is None and not self._stopping:
                    process = start_worker(
                        self.target,
                        (
                            self.database_url,
                            run_id,
                            str(run_dir),
                            filing,
                            include_pending,
                            actor,
                            self.memory_bytes,
                        ),
                        f"clearance-build-{run_id}",
                    )
                    self._processes[run_id] = process
            if process is not None:
                process.join()
            with self._lock:
                stopped = run_id in self._stopped
                who = self._cancelled.get(run_id)
            written = read_state(state)
            if written.get("built"):
                # In place and audited; a stop that came after that changed nothing.
                failure = None
            elif who is not None:
                failure, action, actor = build_cancelled(who), "filings.cancelled", who
            elif process is None or stopped:
                failure = BUILD_INTERRUPTED
            else:
                failure = outcome(
                    process.exitcode,
                    written.get("error"),
                    build_memory_message(self.memory_bytes),
                    BUILD_UNEXPECTED,
                )
                if process.exitcode == EXIT_BUSY:
                    action = "filings.refused"
        except Exception as exc:
            LOG.error("filings build of run %d: supervisor failed: %s", run_id, type(exc).__name__)
        finally:
            self._end(run_id, run_dir, actor, failure, action)

    def _end(
        self, run_id: int, run_dir: Path, actor: str, failure: str | None, action: str
    ) -> None:
        """Record how a build ended and let go of the run. The final state and the end of the
        build change together: once the page says done, failed or cancelled, a new build of
        the run is accepted."""
        try:
            if failure is not None:
                self._record_failure(run_id, run_dir, actor, failure, action)
        finally:
            with self._lock:
                try:
                    status = "cancelled" if action == "filings.cancelled" else "failed"
                    if failure is None:
                        update_state(state_path(run_dir), status="done")
                    elif run_dir.is_dir():
                        update_state(state_path(run_dir), status=status, error=failure)
                finally:
                    self._processes.pop(run_id, None)
                    self._cancelled.pop(run_id, None)
                    self._stopped.discard(run_id)
                    self._active.discard(run_id)

    def _record_failure(
        self, run_id: int, run_dir: Path, actor: str, message: str, action: str = "filings.failed"
    ) -> None:
        """The audit log says why (without data) and a dead worker's staging folder is deleted
        (the lock is free once no worker holds it), before the state file says failed."""
        self._audit(run_id, actor, action, message)
        if not run_dir.is_dir():  # the run was deleted meanwhile: only the audit remains
            return
        if lock_is_free(run_dir):
            for staging in run_dir.glob(".build-*"):
                shutil.rmtree(staging, ignore_errors=True)

    def _audit(self, run_id: int, actor: str, action: str, message: str) -> None:
        with self.sessions() as db:
            audit.append(db, actor, action, f"run:{run_id}", {"error": message[:300]})
            db.commit()
        LOG.info("filings build of run %d: %s", run_id, action.rsplit(".", 1)[-1])
