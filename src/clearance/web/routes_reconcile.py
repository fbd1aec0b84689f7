"""The state record after the orders: reconcile a run with a newer DOJ file or a court's
response, keep each reconciliation (history, pending cases), and a tile on the dashboard.

The upload is streamed to disk like a run's (`uploads.receive_upload`: the CSRF token before the
file, size-limited, nothing kept on a refusal). The reconciliation reads the run's reviewed
tables when the filings were built from them (`reviewed/`), else the run's own: the relief
looked for is the relief filed. Its files go to `reconcile/<n>/` in the run folder (listed in
Downloads); its counts and pending cases to the store, with an audit entry.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.exits import CommandError
from clearance.outputs.reconcile import ReconcileError, reconcile
from clearance.store.models import User
from clearance.store.reconciliations import history, latest, pending_cases, record
from clearance.web import charts
from clearance.web.builds import REVIEWED_DIR
from clearance.web.pages import render
from clearance.web.routes_runs import run_dir_of, run_or_404
from clearance.web.security import (
    CAN_RUN,
    current_user,
    get_db,
    require,
)
from clearance.web.uploads import UploadRefused, check_doj_file, receive_form_upload

router = APIRouter()

#: Folder of the reconciliations inside a run folder.
RECONCILE_DIR = "reconcile"
KINDS = ("doj", "court")


def _source_run(run_dir: Path) -> Path:
    """The reviewed tables when the filings were built from them, else the run's own."""
    reviewed = run_dir / REVIEWED_DIR
    return reviewed if (reviewed / "summary.json").is_file() else run_dir


def _next_folder(run_dir: Path) -> Path:
    root = run_dir / RECONCILE_DIR
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    return root / str(max(taken, default=0) + 1)


def _page(
    request: Request,
    user: User,
    db: Session,
    run_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    run = run_or_404(db, run_id)
    done = history(db, run.id)
    last = done[-1] if done else None
    page = int(request.query_params.get("page", "1") or 1)
    pending = pending_cases(db, last.id, page) if last is not None else None
    chart = (
        charts.bar_chart(
            [(f"{r.as_of.isoformat()} #{i}", r.pending) for i, r in enumerate(done, start=1)],
            "pending convictions at each reconciliation",
            ("#d08a1e",),
            label_width=130,
        )
        if done
        else None
    )
    folder = None
    if last is not None and last.folder:
        try:
            folder = Path(last.folder).relative_to(run_dir_of(request, run)).as_posix()
        except ValueError:
            folder = None
    return render(
        request,
        "reconcile.html",
        user,
        status_code=status_code,
        run=run,
        tab="reconcile",
        history=done,
        last=last,
        pending=pending,
        chart=chart,
        folder=folder,
        error=error,
        message=request.session.pop("flash", None),
        form=form or {},
    )


@router.get("/runs/{run_id}/reconcile")
def reconcile_page(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """Each reconciliation of the run (how the pending count fell) and the cases still
    pending at the latest, oldest first, for follow-up."""
    return _page(request, user, db, run_id)


@router.get("/runs/{run_id}/reconcile/tile")
def reconcile_tile(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The dashboard's tile: the latest reconciliation's counts (HTMX fragment)."""
    run = run_or_404(db, run_id)
    return render(request, "reconcile_tile.html", user, run=run, last=latest(db, run.id))


def _day(value: str, label: str, required: bool = False) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise UploadRefused(f"The {label} is required (YYYY-MM-DD).")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UploadRefused(f"The {label} must be a date (YYYY-MM-DD).") from None


@router.post("/runs/{run_id}/reconcile")
async def start_reconcile(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_RUN, "reconcile runs")),
) -> Response:
    """Receive a newer DOJ file or a court's response and reconcile the run with it.

    The CSRF token is checked as the body streams (it comes before the file in the form), as
    for a run's upload."""
    try:
        upload = await receive_form_upload(request)
    except UploadRefused as exc:
        with request.app.state.sessions() as db:
            return _page(request, user, db, run_id, str(exc), exc.status_code)
    fields = upload.fields
    form = {k: fields.get(k, "") for k in ("kind", "as_of", "order_date", "motion_date")}
    with request.app.state.sessions() as db:
        run = run_or_404(db, run_id)
        if run.status != "done":
            upload.discard()
            raise HTTPException(status_code=409, detail="The run is not finished.")
        run_dir = run_dir_of(request, run)
        try:
            kind = fields.get("kind", "doj").strip() or "doj"
            if kind not in KINDS:
                raise UploadRefused("Choose a newer DOJ file or a court's response.")
            as_of = _day(fields.get("as_of", ""), "as-of date", required=True)
            order = _day(fields.get("order_date", ""), "order date")
            motion = _day(fields.get("motion_date", ""), "motion date")
            assert upload.path is not None and as_of is not None
            if kind == "doj":
                await run_in_threadpool(check_doj_file, upload.path, upload.filename)
            folder = _next_folder(run_dir)
            # The upload waits beside the folder (hidden, so never listed) and is deleted once
            # read: the reconciliation's folder is built whole and swapped in.
            inputs = folder.parent / f".{folder.name}.input"
            inputs.mkdir(parents=True)
            source = inputs / upload.filename
            shutil.move(str(upload.path), source)
            upload.discard()

            def work() -> tuple[dict[str, object], pl.DataFrame]:
                done = reconcile(
                    _source_run(run_dir),
                    folder,
                    as_of=as_of,
                    newer_files=[source] if kind == "doj" else [],
                    court_response=source if kind == "court" else None,
                    order_date=order,
                    motion_date=motion,
                )
                pending = pl.read_csv(folder / "pending.csv", infer_schema=False)
                return done.summary, pending

            try:
                summary, pending = await run_in_threadpool(work)
            except ReconcileError as exc:
                shutil.rmtree(folder, ignore_errors=True)
                raise UploadRefused(str(exc)) from None
            except CommandError:
                # Its message names server folders: the office is told what happened only.
                shutil.rmtree(folder, ignore_errors=True)
                raise UploadRefused(
                    "The reconciliation could not be written (the server's disk or folder "
                    "refused it); nothing was kept. Ask the administrator to check the data "
                    "folder.",
                    500,
                ) from None
            finally:
                shutil.rmtree(inputs, ignore_errors=True)
        except UploadRefused as exc:
            upload.discard()
            return _page(request, user, db, run_id, str(exc), exc.status_code, form)
        entry = record(db, run.id, summary, pending, user.username, folder)
        db.commit()
        totals = summary["totals"]
        assert isinstance(totals, dict)
        request.session["flash"] = (
            f"Reconciliation #{entry.id}: {totals['reflected']:,} reflected, "
            f"{totals['pending']:,} pending, {totals['contradicting']:,} contradicting, "
            f"{totals['gone']:,} gone."
        )
    return RedirectResponse(f"/runs/{run_id}/reconcile", status_code=303)
