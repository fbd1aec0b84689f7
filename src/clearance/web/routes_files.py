""" "Download all": every file of a completed run the user may take, as one streamed ZIP.

The ZIP holds what the downloads page lists for the user, no more: a viewer's ZIP has no
results.csv, and no one's has the internal working files. Only a completed run has one; a
failed or unfinished run is 404, like its files. Every download is audited (who, which run,
how many files; never a file's content or a person's id).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from clearance.engine import normalize_county
from clearance.store import audit
from clearance.store.models import User
from clearance.web.bundle import zip_stream
from clearance.web.files import is_full_record, list_files
from clearance.web.routes_runs import DOWNLOAD_HEADERS, run_and_folder
from clearance.web.security import CAN_SEE_FULL_RECORDS, current_user, get_db

router = APIRouter()


def zip_name(run_id: int, county: str) -> str:
    """`run-12-san-joaquin`: the ZIP's name and its top folder."""
    return f"run-{run_id}-" + normalize_county(county).lower().replace(" ", "-")


@router.get("/runs/{run_id}/files.zip")
def download_all(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The run's listed files and a run.json, zipped while they are sent."""
    run, run_dir = run_and_folder(request, db, run_id)
    if run.status != "done" or not run_dir.is_dir():
        raise HTTPException(status_code=404, detail="This run has no files to download.")
    files = list_files(run_dir)
    if user.role not in CAN_SEE_FULL_RECORDS:
        files = [f for f in files if not is_full_record(f.relative)]
    name = zip_name(run.id, run.county)
    audit.append(db, user.username, "file.download_all", f"run:{run.id}", {"files": len(files)})
    db.commit()
    info = {
        "id": run.id,
        "county": run.county,
        "policy": run.policy_name,
        "policy_sha256": run.policy_sha256,
        "as_of": run.as_of.isoformat(),
    }
    return StreamingResponse(
        zip_stream(run_dir, files, name, info),
        media_type="application/zip",
        headers={**DOWNLOAD_HEADERS, "Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
