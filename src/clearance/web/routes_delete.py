"""Deleting a run from the workspace: a page that says what will go, then the deletion.

The rules (who, when, in what order) are in `deletion`; these routes ask, refuse with a
message a user can act on, and report what was removed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.store.models import Run, User
from clearance.web.deletion import (
    ACTIVE,
    Deleted,
    DeleteRefused,
    delete_run,
    folder_contents,
    is_inside,
    may_delete_run,
    review_counts,
)
from clearance.web.files import human_size
from clearance.web.pages import render
from clearance.web.routes_runs import run_and_folder
from clearance.web.security import current_user, get_db, verify_csrf

router = APIRouter()


def _deletable(request: Request, user: User, db: Session, run_id: int) -> tuple[Run, Path]:
    """The run and its folder, if this user may delete it: 404 without it, 403 for another's
    run unless an administrator."""
    run, run_dir = run_and_folder(request, db, run_id)
    if not may_delete_run(user, run):
        raise HTTPException(
            status_code=403,
            detail=f"Your role ({user.role}) cannot delete run #{run.id}: only an "
            "administrator or the person who started it can.",
        )
    return run, run_dir


def _active(request: Request, run: Run) -> bool:
    return (
        run.status in ACTIVE
        or run.id in request.app.state.jobs.running()
        or request.app.state.builds.building(run.id)
    )


@router.get("/runs/{run_id}/delete")
def confirm_delete(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """What deleting the run removes, and the button that does it (or why it cannot now)."""
    run, run_dir = _deletable(request, user, db, run_id)
    inside = is_inside(run_dir, request.app.state.config.runs_dir)
    files, size = folder_contents(run_dir) if inside else (0, 0)
    total, reviewed = review_counts(db, run.id)
    return render(
        request,
        "run_delete.html",
        user,
        run=run,
        active=_active(request, run),
        files=files,
        size=human_size(size),
        total=total,
        reviewed=reviewed,
        inside=inside,
    )


def _deleted_message(run_id: int, deleted: Deleted) -> str:
    text = (
        f"Deleted run #{run_id}: {deleted.files:,} file{'s' if deleted.files != 1 else ''} "
        f"({human_size(deleted.bytes)}) and {deleted.determinations:,} decision"
        f"{'s' if deleted.determinations != 1 else ''} ({deleted.reviewed:,} reviewed)."
    )
    if deleted.folder_kept:
        text += " Its folder outside the data folder was left where it is."
    return text


@router.post("/runs/{run_id}/delete", dependencies=[Depends(verify_csrf)])
async def delete(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """Delete the run (folder and rows), audited; refused while it is queued or running."""
    run, run_dir = _deletable(request, user, db, run_id)
    try:
        deleted = await run_in_threadpool(
            delete_run,
            db,
            run,
            run_dir,
            request.app.state.config.runs_dir,
            user.username,
            _active(request, run),
        )
    except DeleteRefused as exc:
        raise HTTPException(status_code=exc.status_code, detail=str(exc)) from None
    request.session["flash"] = _deleted_message(run_id, deleted)
    return RedirectResponse("/", status_code=303)
