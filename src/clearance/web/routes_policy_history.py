"""A saved policy's history: every version with who saved it and when, any version's text, the
runs that used it, and the changes between two versions.

Versions are what `policy_versions` keeps; runs are matched to a version by the SHA-256 of the
text they stored when they started, so a run points at the exact version it used even when
the policy has changed since.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.policy.loader import preset_names
from clearance.store.models import Run, User
from clearance.web.pages import render
from clearance.web.policies import policies_dir, valid_name
from clearance.web.policy_versions import (
    PolicyVersion,
    diff_rows,
    get_version,
    list_versions,
)
from clearance.web.security import current_user, get_db

router = APIRouter()


def _versions_or_404(request: Request, name: str) -> list[PolicyVersion]:
    if not valid_name(name):
        raise HTTPException(status_code=404, detail="No such policy.")
    if name in preset_names():
        raise HTTPException(
            status_code=404, detail="A shipped preset has one text and no saved versions."
        )
    versions = list_versions(policies_dir(request.app.state.config.data_dir), name)
    if not versions:
        raise HTTPException(status_code=404, detail="No saved versions of this policy.")
    return versions


def _number(value: str | None, default: int) -> int:
    """A version number from the query string; anything that is not one is 404."""
    if value is None or value == "":
        return default
    if not value.isdigit() or len(value) > 4:
        raise HTTPException(status_code=404, detail="No such version.")
    return int(value)


@router.get("/policies/{name}/versions")
def history(
    request: Request,
    name: str,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """Every version, newest first, with the number of runs that used each."""
    versions = _versions_or_404(request, name)
    runs = db.execute(select(Run.policy_sha256).where(Run.policy_name == name)).scalars().all()
    used = {v.number: sum(1 for sha in runs if sha == v.sha256) for v in versions}
    return render(
        request, "policy_history.html", user, policy_name=name, versions=versions, used=used
    )


@router.get("/policies/{name}/versions/{number}")
def version_page(
    request: Request,
    name: str,
    number: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """One version's text with line numbers, and the runs that used exactly this text."""
    versions = _versions_or_404(request, name)
    version = get_version(policies_dir(request.app.state.config.data_dir), name, number)
    if version is None:
        raise HTTPException(status_code=404, detail="No such version.")
    runs = (
        db.execute(
            select(Run)
            .where(Run.policy_name == name, Run.policy_sha256 == version.sha256)
            .order_by(Run.id.desc())
        )
        .scalars()
        .all()
    )
    return render(
        request,
        "policy_version.html",
        user,
        policy_name=name,
        version=version,
        latest=versions[0].number,
        lines=version.text.splitlines(),
        runs=runs,
    )


@router.get("/policies/{name}/diff")
def diff_page(request: Request, name: str, user: User = Depends(current_user)) -> Response:
    """The changes between two versions (`?from=N&to=M`; by default the latest two)."""
    versions = _versions_or_404(request, name)
    latest = versions[0].number
    newer_no = _number(request.query_params.get("to"), latest)
    older_no = _number(request.query_params.get("from"), max(newer_no - 1, 1))
    folder = policies_dir(request.app.state.config.data_dir)
    older = get_version(folder, name, older_no)
    newer = get_version(folder, name, newer_no)
    if older is None or newer is None:
        raise HTTPException(status_code=404, detail="No such version.")
    rows = diff_rows(older.text, newer.text)
    return render(
        request,
        "policy_diff.html",
        user,
        policy_name=name,
        versions=versions,
        older=older,
        newer=newer,
        rows=rows,
        added=sum(1 for r in rows if r.kind == "added"),
        removed=sum(1 for r in rows if r.kind == "removed"),
    )
