"""Deleting a run: its folder (outputs, filings, reconciliations and their uploads), its rows
in the store (determinations with their reviews, people, inputs, reconciliations), audited.

Who may: an administrator, or the user who started the run if their role may start runs. A
run that is queued or running is refused (its worker still writes the folder and the store);
cancel it first. A run whose filings are being built is refused for the same reason.

Order, so that nothing is left half-deleted where a page could reach it: the folder is first
renamed aside (one rename: from then on no URL leads to it), then the store rows are deleted
in one transaction with the audit entry; only then is the folder removed from disk. If the
store refuses, the folder is put back. A folder outside the data folder (a run loaded from the
command line) is the office's own: it is left on disk and the page says so.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import Determination, Run, User
from clearance.web.security import CAN_RUN

#: Statuses during which a run's worker still writes its folder and rows.
ACTIVE = ("queued", "running")


class DeleteRefused(Exception):
    """The run cannot be deleted now; the message says why and what to do."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed (for the message and the audit entry)."""

    files: int
    bytes: int
    determinations: int
    reviewed: int
    folder_kept: bool


def may_delete_run(user: User | None, run: Run) -> bool:
    """Whether `user` may delete `run`: an administrator, or its owner in a role that runs."""
    if user is None:
        return False
    return user.role == "admin" or (user.role in CAN_RUN and user.username == run.created_by)


def is_inside(run_dir: Path, runs_dir: Path) -> bool:
    """Whether a run's folder is one of the data folder's run folders (deleted with the run)."""
    folder, root = run_dir.resolve(), runs_dir.resolve()
    return folder != root and folder.is_relative_to(root)


def folder_contents(folder: Path) -> tuple[int, int]:
    """Files and bytes under a folder (0, 0 when there is none)."""
    if not folder.is_dir():
        return 0, 0
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return len(files), sum(p.stat().st_size for p in files)


def review_counts(db: Session, run_id: int) -> tuple[int, int]:
    """Decisions of the run, and how many of them were reviewed."""
    total, reviewed = db.execute(
        select(
            func.count(),
            func.count().filter(Determination.review_status != "pending"),
        ).where(Determination.run_id == run_id)
    ).one()
    return int(total), int(reviewed)


def delete_run(
    db: Session, run: Run, run_dir: Path, runs_dir: Path, actor: str, active: bool
) -> Deleted:
    """Delete the run's folder and rows and audit it; DeleteRefused while it is active."""
    if active or run.status in ACTIVE:
        raise DeleteRefused(
            f"Run #{run.id} is {run.status}: its worker is still writing. Cancel it first "
            "(the Cancel button on its page), then delete it."
        )
    inside = is_inside(run_dir, runs_dir)
    files, size = folder_contents(run_dir) if inside else (0, 0)
    total, reviewed = review_counts(db, run.id)
    aside: Path | None = None
    if inside and run_dir.exists():
        aside = runs_dir / f".deleting-{run.id}-{uuid.uuid4().hex}"
        run_dir.rename(aside)
    try:
        details = {
            "county": run.county,
            "status": run.status,
            "determinations": total,
            "reviewed": reviewed,
            "files": files,
            "bytes": size,
        }
        run_id = run.id
        # Rows of the run go with it (ON DELETE CASCADE), in one statement per table: a run
        # holds millions of determinations, never loaded as objects.
        db.execute(delete(Determination).where(Determination.run_id == run_id))
        db.execute(delete(Run).where(Run.id == run_id))
        audit.append(db, actor, "run.deleted", f"run:{run_id}", details)
        db.commit()
    except Exception:
        db.rollback()
        if aside is not None:
            aside.rename(run_dir)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return Deleted(files, size, total, reviewed, folder_kept=not inside and run_dir.exists())
