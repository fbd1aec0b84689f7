"""The federal tab of a run: its federal entries screened under the marijuana pardons.

State relief cannot reach a federal conviction, but a county's RAP sheets and DOJ rows carry
federal entries. The tab shows each one's decision (covered by the 2022 or the 2023
proclamation, not covered, review) with every rule that fired, and lets the roles that review
write the federal outputs (federal.csv, the summary and the certificate-application packets)
into the run folder, where the Downloads tab serves them.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.law.federal import DECISIONS, RULES_BY_ID
from clearance.outputs.federal_packets import packet_files
from clearance.outputs.federal_run import FEDERAL_DIR, screen_run, write_run_federal
from clearance.store import audit
from clearance.store.models import User
from clearance.web.pages import render
from clearance.web.routes_runs import run_and_folder
from clearance.web.security import CAN_REVIEW, get_db, require, verify_csrf
from clearance.web.workers import without_paths

router = APIRouter()

#: Rows shown on the page (the CSV has them all).
PAGE_ROWS = 500


def _rows(decided: pl.DataFrame) -> list[dict[str, Any]]:
    stems = packet_files(decided)
    rows = []
    for row in decided.head(PAGE_ROWS).iter_rows(named=True):
        rows.append(
            {
                **row,
                "rules": [
                    (rid, RULES_BY_ID[rid].sentence() if rid in RULES_BY_ID else rid)
                    for rid in row["reasons"]
                ],
                "packet": stems.get(str(row["person_id"]), ""),
            }
        )
    return rows


@router.get("/runs/{run_id}/federal")
async def federal_tab(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_REVIEW, "see the federal screen")),
    db: Session = Depends(get_db),
) -> Response:
    """The run's federal entries and their decisions."""
    run, run_dir = run_and_folder(request, db, run_id)
    done = run.status == "done"
    decided = await run_in_threadpool(screen_run, run_dir) if done else None
    packets = run_dir / FEDERAL_DIR / "packets"
    built = {p.stem for p in packets.glob("*.pdf")} if packets.is_dir() else set()
    counts = (
        {d: int(decided.filter(pl.col("decision") == d).height) for d in DECISIONS}
        if decided is not None
        else {}
    )
    return render(
        request,
        "federal.html",
        user,
        run=run,
        tab="federal",
        rows=_rows(decided) if decided is not None else [],
        total=decided.height if decided is not None else 0,
        counts=counts,
        built=built,
        outputs=(run_dir / FEDERAL_DIR / "federal.csv").is_file(),
        page_rows=PAGE_ROWS,
        message=request.session.pop("flash", None),
        error=request.session.pop("federal_error", None),
    )


@router.post("/runs/{run_id}/federal", dependencies=[Depends(verify_csrf)])
async def build_federal(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_REVIEW, "write the federal outputs")),
    db: Session = Depends(get_db),
) -> Response:
    """Write federal.csv, federal-summary.json and the packets into the run's federal/, whole
    or not at all (the previous federal outputs stay until the new set is complete)."""
    from clearance.exits import CommandError

    run, run_dir = run_and_folder(request, db, run_id)
    if run.status != "done":
        return RedirectResponse(f"/runs/{run.id}/federal", status_code=303)
    try:
        summary = await run_in_threadpool(write_run_federal, run_dir)
    except CommandError as exc:
        error = without_paths(str(exc), [run_dir])
        audit.append(db, user.username, "federal.failed", f"run:{run.id}", {"error": error})
        db.commit()
        request.session.pop("flash", None)  # never a success beside the error
        request.session["federal_error"] = (
            f"The federal outputs were not written (the previous ones are unchanged): {error}"
        )
        return RedirectResponse(f"/runs/{run.id}/federal", status_code=303)
    audit.append(db, user.username, "federal.built", f"run:{run.id}", {"folder": FEDERAL_DIR})
    db.commit()
    request.session["flash"] = (
        f"Federal outputs written: {summary['counts']} federal counts, "
        f"{summary['packets']} certificate-application packets (in {FEDERAL_DIR}/)."
    )
    return RedirectResponse(f"/runs/{run.id}/federal", status_code=303)
