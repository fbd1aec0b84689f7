"""Runs started from the browser, each executed as a job in a worker process of its own.

A run reads a whole county (hundreds of MB to GB), so it runs neither in a request nor in the
web server's process: the upload creates a queued run row and returns at once; a supervisor
thread of the server starts a worker process (`multiprocessing`, spawn: a fresh interpreter)
that reads, decides, writes the run folder and loads the determinations into the store.

- **Memory limit:** the worker limits its own address space (`resource.setrlimit`,
  RLIMIT_AS) before it imports anything heavy, so a hostile or broken file can exhaust only
  the job, never the server; the job then fails with a plain message.
- **A bounded number at once:** runs and filings builds share the app's worker slots
  (`slots.py`, `clearance serve --jobs N`); a run waiting for one is "queued".
- **Live progress:** the worker writes its stage and the bytes read on disk (compressed bytes
  for a gzip file) to a small JSON file in the runs folder, which the status fragment reads.
- **Cancel:** a queued run is dropped before it starts; a running one's worker is terminated.
- **Nothing left behind:** after the job, done or failed, the upload is deleted; a failed or
  cancelled run's partial folder too. A run that was queued or running when the server stopped
  is marked failed when it starts again, and its upload and folder are deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from multiprocessing.process import BaseProcess
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearance.store.models import Run
from clearance.store.runs import get_run, mark_run
from clearance.web.slots import JobSlots
from clearance.web.workers import (
    DEFAULT_JOB_MEMORY_BYTES,
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

LOG = logging.getLogger("clearance.web.jobs")

INTERRUPTED = "interrupted: the server stopped during the run; start the run again"
UNEXPECTED = (
    "the run stopped on an unexpected problem (recorded in the server's log, without any "
    "data); start it again, and tell the administrator if it happens again"
)
CANCELLED = "cancelled by {who}"
__all__ = ["DEFAULT_JOB_MEMORY_BYTES", "Progress", "RunJobs", "progress_file", "run_job"]


def out_of_memory(limit: int) -> str:
    return (
        f"the run needed {over_memory(limit)}; the file is too large or damaged (a very long "
        "line, a decompression bomb); nothing was kept"
    )


@dataclass
class Progress:
    """Where a run is: the stage in words and the share of the input read (bytes on disk)."""

    stage: str
    done: int = 0
    total: int = 0

    @property
    def fraction(self) -> float:
        if self.stage != "reading":
            return {"queued": 0.02, "starting": 0.03, "deciding": 0.7, "writing outputs": 0.8}.get(
                self.stage, 0.9
            )
        return 0.05 + 0.6 * (min(self.done, self.total) / self.total if self.total else 0.0)

    @property
    def text(self) -> str:
        """'reading: 12.3 MB of 40.0 MB read' (compressed bytes for a gzip file)."""
        from clearance.web.files import human_size

        if self.stage == "queued":
            return "queued: waiting for a free job slot (runs and filings builds take turns)"
        if self.stage == "reading" and self.total:
            return f"reading: {human_size(self.done)} of {human_size(self.total)} read"
        return self.stage


def progress_file(runs_dir: Path, run_id: int) -> Path:
    """The state file a run's worker writes its progress to."""
    return runs_dir / f".job-{run_id}.json"


def run_job(
    database_url: str, run_id: int, inputs: list[str], runs_dir: str, memory_bytes: int
) -> None:
    """The worker process: limit memory, then read, decide, write and store one run.

    Exits EXIT_OK when the run is stored (status done); otherwise it writes the message for
    the user into its state file and exits with the code that says why. It never deletes
    anything: the supervisor cleans up after every outcome.
    """
    limit_memory(memory_bytes)
    state = progress_file(Path(runs_dir), run_id)
    code = EXIT_UNEXPECTED
    message = UNEXPECTED
    try:
        from clearance.engine import EngineError
        from clearance.policy.loader import PolicyError
        from clearance.records.doj import ReadError

        try:
            _run(database_url, run_id, [Path(p) for p in inputs], Path(runs_dir), state)
            code, message = EXIT_OK, ""
        except (ReadError, EngineError, PolicyError) as exc:
            # These messages are written for users and never quote the data.
            folders = [Path(p) for p in inputs] + [Path(runs_dir) / str(run_id)]
            code, message = EXIT_REFUSED, without_paths(str(exc), folders)
    except Exception as exc:
        if refused_memory(exc):
            code, message = EXIT_MEMORY, out_of_memory(memory_bytes)
        else:
            LOG.error("run %d failed: %s", run_id, type(exc).__name__)
    if code != EXIT_OK:
        write_state(state, stage="failed", error=message)
    os._exit(code)


def _run(database_url: str, run_id: int, inputs: list[Path], runs_dir: Path, state: Path) -> None:
    from clearance.engine import decide, normalize_county
    from clearance.outputs.person_index import write_person_index
    from clearance.outputs.run import RECORD_DIR, write_run
    from clearance.policy.loader import policy_from_yaml_text
    from clearance.records.doj import read_doj, total_bytes
    from clearance.store.db import make_engine
    from clearance.store.runs import store_run

    engine = make_engine(database_url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session:
        run = get_run(session, run_id)
        if run is None:
            return
        mark_run(session, run, "running")
        county = normalize_county(run.county)
        as_of: date = run.as_of
        policy_text = run.policy_text
        policy = policy_from_yaml_text(policy_text, f"{run.policy_name}.yaml")
        created_by = run.created_by

    total = total_bytes(inputs)
    done = 0
    write_state(state, stage="reading", done=0, total=total)

    def advance(n: int) -> None:
        nonlocal done
        done += n
        write_state(state, stage="reading", done=done, total=total)

    records = read_doj(inputs, progress=advance)
    write_state(state, stage="deciding")
    decided = decide(records, policy, as_of, county)
    write_state(state, stage="writing outputs")
    run_dir = runs_dir / str(run_id)
    write_run(run_dir, decided, records, inputs, policy_text)
    # The person page reads one person's rows through it, not the whole record.
    write_person_index(run_dir / RECORD_DIR)
    write_state(state, stage="loading the review queue")
    with sessions() as session:
        run = get_run(session, run_id)
        if run is None:
            return
        store_run(session, run_dir, inputs, created_by, run=run)
    engine.dispose()


#: What a supervisor starts in the worker process (tests replace it to inject failures).
JobTarget = Callable[[str, int, list[str], str, int], None]


class RunJobs:
    """The runs of one app, each a worker process in one of the app's job slots."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        database_url: str,
        runs_dir: Path,
        uploads_dir: Path,
        *,
        slots: JobSlots | None = None,
        memory_bytes: int = DEFAULT_JOB_MEMORY_BYTES,
    ) -> None:
        self.sessions = sessions
        self.database_url = database_url
        self.runs_dir = runs_dir
        self.uploads_dir = uploads_dir
        self.slots = slots if slots is not None else JobSlots()
        self.memory_bytes = memory_bytes
        self.target: JobTarget = run_job
        self._lock = threading.Lock()
        #: Runs waiting for a slot: the slot's future and the run's inputs.
        self._queued: dict[int, tuple[Future[None], list[Path]]] = {}
        self._processes: dict[int, BaseProcess] = {}
        self._cancelled: dict[int, str] = {}
        self._stopping = False

    def progress(self, run_id: int) -> Progress | None:
        """The live progress of a queued or running run (None once it is finished)."""
        with self._lock:
            if run_id in self._queued:
                return Progress("queued")
            if run_id not in self._processes:
                return None
        state = read_state(progress_file(self.runs_dir, run_id))
        stage = str(state.get("stage") or "starting")
        if stage == "failed":
            stage = "stopping"
        return Progress(stage, int(state.get("done") or 0), int(state.get("total") or 0))

    def running(self) -> set[int]:
        """Ids of the runs queued or running in this server (cleanup included)."""
        with self._lock:
            return set(self._queued) | set(self._processes)

    def active(self) -> int:
        """Runs queued or running in this server."""
        with self._lock:
            return len(self._queued) + len(self._processes)

    def submit(self, run_id: int, inputs: list[Path]) -> None:
        """Queue a run that `create_pending_run` made."""
        with self._lock:
            self._stopping = False
            future = self.slots.submit(self._supervise, run_id, inputs)
            self._queued[run_id] = (future, inputs)

    def cancel(self, run_id: int, who: str) -> bool:
        """Cancel a queued or running run of this server; False when it is neither. A queued
        run is dropped at once; a running one's worker is stopped."""
        with self._lock:
            queued = self._queued.get(run_id)
            if queued is None:
                process = self._processes.get(run_id)
                if process is None or run_id in self._cancelled:
                    return False
                self._cancelled[run_id] = who
                process.terminate()
                return True
            future, inputs = queued
            self._cancelled[run_id] = who
            if not future.cancel():
                return True  # its supervisor is starting: it sees the cancel first
            del self._queued[run_id]
        try:
            self._finish(run_id, inputs, CANCELLED.format(who=who))
        finally:
            with self._lock:
                self._cancelled.pop(run_id, None)
        return True

    def recover(self) -> None:
        """Mark runs left queued or running by a previous server as failed, and delete what
        they left: their uploads, partial run folders and job files.

        Called when the app starts, before it takes any upload, so every upload folder found
        then belongs to a run that will never finish.
        """
        with self.sessions() as session:
            stale = session.execute(
                select(Run).where(Run.status.in_(("queued", "running")))
            ).scalars()
            for run in list(stale):
                if self.progress(run.id) is None:  # not one of this process's own runs
                    shutil.rmtree(self.runs_dir / str(run.id), ignore_errors=True)
                    mark_run(session, run, "failed", error=INTERRUPTED)
        if self.active():
            return
        for leftover in self.runs_dir.glob(".job-*.json*"):
            leftover.unlink(missing_ok=True)
        if self.uploads_dir.is_dir():
            for folder in self.uploads_dir.iterdir():
                if folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    folder.unlink(missing_ok=True)

    def shutdown(self) -> None:
        """Stop taking runs; running workers are terminated and queued runs dropped (both are
        recovered on the next start)."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes.values())
            for run_id, (future, _inputs) in list(self._queued.items()):
                if future.cancel():
                    del self._queued[run_id]
        for process in processes:
            process.terminate()
        self.slots.shutdown()

    def _supervise(self, run_id: int, inputs: list[Path]) -> None:
        state = progress_file(self.runs_dir, run_id)
        message: str | None = None
        try:
            with self._lock:
                self._queued.pop(run_id, None)
                who = self._cancelled.get(run_id)
                process: BaseProcess | None = None
                if who is None and not self._stopping:
                    write_state(state, stage="starting")
                    process = start_worker(
                        self.target,
                        (
                            self.database_url,
                            run_id,
                            [str(p) for p in inputs],
                            str(self.runs_dir),
                            self.memory_bytes,
                        ),
                        f"clearance-run-{run_id}",
                    )
                    self._processes[run_id] = process
            if process is not None:
                process.join()
                who = self._cancelled.get(run_id)
            if who is not None:
                message = CANCELLED.format(who=who)
            elif self._stopping or process is None:
                message = INTERRUPTED
            else:
                message = outcome(
                    process.exitcode,
                    read_state(state).get("error"),
                    out_of_memory(self.memory_bytes),
                    UNEXPECTED,
                )
        except Exception as exc:
            LOG.error("run %d: supervisor failed: %s", run_id, type(exc).__name__)
            message = UNEXPECTED
        finally:
            self._finish(run_id, inputs, message)
            with self._lock:
                self._processes.pop(run_id, None)
                self._cancelled.pop(run_id, None)
                self._queued.pop(run_id, None)
            state.unlink(missing_ok=True)

    def _delete_uploads(self, inputs: list[Path]) -> None:
        """Delete the upload folders of a run's inputs (only folders inside the uploads)."""
        root = self.uploads_dir.resolve()
        for path in inputs:
            folder = path.resolve().parent
            if folder != root and folder.is_relative_to(root):
                shutil.rmtree(folder, ignore_errors=True)

    def _finish(self, run_id: int, inputs: list[Path], failure: str | None) -> None:
        """Delete the upload after every run; on failure also the partial run folder, and
        record why. A failed run keeps no personal data, and no page or URL leads to a part of
        one."""
        self._delete_uploads(inputs)
        with self.sessions() as session:
            run = get_run(session, run_id)
            if run is not None and run.status == "done":
                # Stored whole (the status is set last): a worker stopped after that point
                # has lost nothing.
                LOG.info("run %d: done", run_id)
                return
            shutil.rmtree(self.runs_dir / str(run_id), ignore_errors=True)
            if run is not None:
                text = failure or UNEXPECTED
                mark_run(
                    session,
                    run,
                    "failed",
                    error=f"{text}; the uploaded file was deleted, upload it again to retry",
                )
        LOG.info("run %d: failed", run_id)
