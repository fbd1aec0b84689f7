"""Runs started from the browser, executed one at a time in a background thread.

A run reads a whole county (hundreds of MB), so it must not hold a request open: the upload
creates a queued run row and returns at once, and a single worker thread reads, decides, writes
the run folder and loads the determinations into the store. One worker, because a run already
uses every core through Polars and holds the county in memory; a second upload waits its turn
("queued").

Progress (stage and bytes read) is kept in memory for the status fragment the page polls; the
run row's status is the truth that survives a restart. A run that was queued or running when
the server stopped is marked failed when it starts again, with a message saying so.
"""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearance.engine import EngineError, decide, normalize_county
from clearance.outputs.run import write_run
from clearance.policy.loader import PolicyError, policy_from_yaml_text
from clearance.records.doj import ReadError, read_doj, total_bytes
from clearance.store.models import Run
from clearance.store.runs import get_run, mark_run, store_run

LOG = logging.getLogger("clearance.web.jobs")

INTERRUPTED = "interrupted: the server stopped during the run; start the run again"
UNEXPECTED = (
    "the run stopped on an unexpected problem (recorded in the server's log, without any "
    "data); start it again, and tell the administrator if it happens again"
)


@dataclass
class Progress:
    """Where a run is: the stage in words and the share of the input read."""

    stage: str
    done: int = 0
    total: int = 0

    @property
    def fraction(self) -> float:
        if self.stage != "reading":
            return {"queued": 0.02, "deciding": 0.7, "writing outputs": 0.8}.get(self.stage, 0.9)
        return 0.05 + 0.6 * (self.done / self.total if self.total else 0.0)


class RunJobs:
    """The queue of runs of one app."""

    def __init__(self, sessions: sessionmaker[Session], runs_dir: Path, uploads_dir: Path) -> None:
        self.sessions = sessions
        self.runs_dir = runs_dir
        self.uploads_dir = uploads_dir
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._progress: dict[int, Progress] = {}

    def progress(self, run_id: int) -> Progress | None:
        """The live progress of a queued or running run (None once it is finished)."""
        with self._lock:
            return self._progress.get(run_id)

    def _set(self, run_id: int, progress: Progress | None) -> None:
        with self._lock:
            if progress is None:
                self._progress.pop(run_id, None)
            else:
                self._progress[run_id] = progress

    def submit(self, run_id: int, inputs: list[Path]) -> None:
        """Queue a run that `create_pending_run` made."""
        self._set(run_id, Progress("queued"))
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="clearance-run"
                )
            executor = self._executor
        executor.submit(self._work, run_id, inputs)

    def recover(self) -> None:
        """Mark runs left queued or running by a previous server as failed, and delete what
        they left: their uploads and partial run folders (personal data no run will read).

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
        with self._lock:
            if self._progress:
                return
        if self.uploads_dir.is_dir():
            for folder in self.uploads_dir.iterdir():
                if folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    folder.unlink(missing_ok=True)

    def shutdown(self) -> None:
        """Stop taking runs; a run in progress is abandoned (and recovered on next start)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _work(self, run_id: int, inputs: list[Path]) -> None:
        try:
            self._run(run_id, inputs)
        except (ReadError, EngineError, PolicyError) as exc:
            # These messages are written for users and never quote the data.
            self._fail(run_id, inputs, str(exc))
        except Exception as exc:
            LOG.error("run %d failed: %s", run_id, type(exc).__name__)
            self._fail(run_id, inputs, UNEXPECTED)
        finally:
            self._set(run_id, None)

    def _delete_uploads(self, inputs: list[Path]) -> None:
        """Delete the upload folders of a run's inputs (only folders inside the uploads)."""
        root = self.uploads_dir.resolve()
        for path in inputs:
            folder = path.resolve().parent
            if folder != root and folder.is_relative_to(root):
                shutil.rmtree(folder, ignore_errors=True)

    def _fail(self, run_id: int, inputs: list[Path], message: str) -> None:
        """Record the failure and delete the uploaded input: no run will ever read it.

        A failed run's upload is personal data that no page leads to; keeping it would only
        leave a copy of a county's records on disk.
        """
        self._delete_uploads(inputs)
        # Whatever the run had written (convictions, people) goes too: a failed run keeps
        # no personal data, and no page or URL can lead to a part of one.
        shutil.rmtree(self.runs_dir / str(run_id), ignore_errors=True)
        message += "; the uploaded file was deleted, upload it again to retry"
        with self.sessions() as session:
            run = get_run(session, run_id)
            if run is not None:
                mark_run(session, run, "failed", error=message)

    def _run(self, run_id: int, inputs: list[Path]) -> None:
        with self.sessions() as session:
            run = get_run(session, run_id)
            if run is None:
                return
            mark_run(session, run, "running")
            county = normalize_county(run.county)
            as_of: date = run.as_of
            policy_text = run.policy_text
            policy = policy_from_yaml_text(policy_text, f"{run.policy_name}.yaml")
            created_by = run.created_by

        progress = Progress("reading", total=total_bytes(inputs))
        self._set(run_id, progress)

        def advance(n: int) -> None:
            progress.done += n

        LOG.info("run %d: reading %d file(s)", run_id, len(inputs))
        records = read_doj(inputs, progress=advance)
        self._set(run_id, Progress("deciding"))
        decided = decide(records, policy, as_of, county)
        self._set(run_id, Progress("writing outputs"))
        run_dir = self.runs_dir / str(run_id)
        write_run(run_dir, decided, records, inputs, policy_text)
        self._set(run_id, Progress("loading the review queue"))
        with self.sessions() as session:
            run = get_run(session, run_id)
            if run is None:
                return
            store_run(session, run_dir, inputs, created_by, run=run)
        # The county's file has been read and its results written: no copy is kept.
        self._delete_uploads(inputs)
        LOG.info("run %d: done", run_id)
