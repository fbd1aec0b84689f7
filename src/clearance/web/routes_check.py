"""Check one record: upload one person's RAP sheet, see the decisions with reasons, download
the petition packet.

For legal-aid staff and public defenders working one client at a time (attorney and analyst
roles, and admins). The sheet and what is made from it are kept in the data folder under a
random id, readable only by the user who checked it (and admins); the audit log records that a
record was checked, never what it holds. The check's folder is written aside and put in place
whole (`outputs.folder`, as `clearance check` writes its folder): a refusal or a failure at any
point leaves nothing of it.
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from starlette.datastructures import UploadFile

from clearance.policy.loader import policy_from_yaml_text
from clearance.store import audit
from clearance.store.models import User
from clearance.web.pages import render
from clearance.web.policies import all_policies, get_policy
from clearance.web.security import CAN_RUN, require, token_matches
from clearance.web.uploads import safe_filename
from clearance.web.workers import without_paths

router = APIRouter()

#: A RAP sheet is a few pages: anything much larger is not one.
MAX_SHEET_BYTES = 25 * 1024 * 1024
SHEET_SUFFIXES = (".txt", ".pdf")
CHECKS_DIR = "checks"
ABOUT = "check.json"
_ID = r"^[a-f0-9]{32}$"


class CheckRefused(Exception):
    """The sheet could not be decided; the message is for the user (no server path)."""


_DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _checks_dir(request: Request) -> Path:
    data_dir: Path = request.app.state.config.data_dir
    return data_dir / CHECKS_DIR


def _page(
    request: Request, user: User, error: str | None = None, status_code: int = 200, **form: str
) -> Response:
    defaults = {"policy": "statute", "as_of": date.today().isoformat()}
    defaults.update({k: v for k, v in form.items() if v})
    return render(
        request,
        "check.html",
        user,
        status_code=status_code,
        error=error,
        policies=all_policies(request.app.state.config.data_dir),
        form=defaults,
        limit_text=f"{MAX_SHEET_BYTES // (1024 * 1024)} MB",
    )


@router.get("/check")
def check_form(
    request: Request, user: User = Depends(require(CAN_RUN, "check records"))
) -> Response:
    """The form: one RAP sheet, the policy, the as-of date, who signs the petition."""
    return _page(request, user)


@router.post("/check")
async def check_upload(
    request: Request, user: User = Depends(require(CAN_RUN, "check records"))
) -> Response:
    """Read and decide the uploaded sheet; show the decisions. Refusals keep nothing."""
    from clearance.check import CheckError, check_record
    from clearance.engine import EngineError
    from clearance.outputs.filings.data import FilingsError
    from clearance.records.chunks import ReadError

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SHEET_BYTES + 64 * 1024:
        return _page(request, user, "The file is too large for a RAP sheet.", 413)
    form = await request.form(max_files=1, max_fields=20)
    sent = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
    if not token_matches(request, sent):
        raise HTTPException(status_code=403, detail="Missing or wrong CSRF token.")
    fields = {k: str(form.get(k) or "").strip() for k in ("policy", "as_of", "signer",
                                                           "bar_number", "office")}  # fmt: skip
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, user, "Choose the RAP sheet to check.", 400, **fields)
    name = safe_filename(upload.filename)
    if not name.lower().endswith(SHEET_SUFFIXES):
        return _page(request, user, f"{name}: a RAP sheet is a .txt or .pdf file.", 400, **fields)
    try:
        as_of = date.fromisoformat(fields["as_of"])
    except ValueError:
        return _page(request, user, "The as-of date must be a date (YYYY-MM-DD).", 400, **fields)
    policy = get_policy(request.app.state.config.data_dir, fields["policy"])
    if policy is None:
        return _page(request, user, "Choose one of the listed policies.", 400, **fields)
    data = await upload.read(MAX_SHEET_BYTES + 1)
    if len(data) > MAX_SHEET_BYTES:
        return _page(request, user, "The file is too large for a RAP sheet.", 413, **fields)
    from clearance.exits import CommandError
    from clearance.outputs.folder import commit, stage

    check_id = secrets.token_hex(16)
    chosen = policy_from_yaml_text(policy.text, f"{policy.name}.yaml")

    def work() -> dict[str, Any]:
        with stage(_checks_dir(request) / check_id) as staging:
            folder = staging.path
            sheet = folder / "sheet" / name
            sheet.parent.mkdir()
            sheet.write_bytes(data)
            try:
                result = check_record(
                    [sheet],
                    folder / "out",
                    chosen,
                    policy.text,
                    as_of,
                    signer=fields["signer"] or None,
                    bar_number=fields["bar_number"] or None,
                    office=fields["office"] or None,
                )
            except (ReadError, CheckError, EngineError, FilingsError) as exc:
                raise CheckRefused(without_paths(str(exc), [sheet, folder])) from None
            about = _about(result, folder, user.username, name, as_of, policy.name)
            (folder / ABOUT).write_text(json.dumps(about, default=str, indent=2), encoding="utf-8")
            commit(staging, "check")
        return about

    try:
        about = await run_in_threadpool(work)
    except CheckRefused as exc:
        return _page(request, user, str(exc), 400, **fields)
    except CommandError:
        message = "The check could not be written on the server; nothing was kept. Try again."
        return _page(request, user, message, 503, **fields)

    def record() -> None:
        with request.app.state.sessions() as db:
            audit.append(
                db,
                user.username,
                "check_record",
                f"check:{check_id}",
                {
                    "policy": policy.name,
                    "as_of": as_of.isoformat(),
                    "convictions": sum(len(c["decisions"]) for c in about["counties"]),
                },
            )
            db.commit()

    await run_in_threadpool(record)
    return _result_page(request, user, check_id, about)


def _about(
    result: Any, folder: Path, owner: str, sheet: str, as_of: date, policy: str
) -> dict[str, Any]:
    """What the check's pages show again later (check.json): its owner, the decisions of each
    county, and its files by their place in the check's folder."""
    return {
        "owner": owner,
        "sheet": sheet,
        "as_of": as_of.isoformat(),
        "policy": policy,
        "counties": [
            {
                "county": c.county,
                "folder": str(c.run_dir.relative_to(folder)),
                "packet": str(c.packet.relative_to(folder)) if c.packet else None,
                "note": c.note,
                "decisions": c.decisions.drop("reasons").to_dicts() if c.decisions.height else [],
            }
            for c in result.counties
        ],
        "name": result.name,
        "events": result.sources.records.rows_loaded,
        "unrecognised": result.sources.records.rows_quarantined,
        "notes": _notes(result),
        "federal_entries": result.federal_entries,
    }


def _notes(result: Any) -> list[dict[str, Any]]:
    notes = getattr(result.sources.records, "notes", None)
    if notes is None or notes.height == 0:
        return []
    return [{"line": int(n["source_line"]), "detail": str(n["detail"])}
            for n in notes.iter_rows(named=True)]  # fmt: skip


def _result_page(request: Request, user: User, check_id: str, about: dict[str, Any]) -> Response:
    return render(request, "check_result.html", user, check_id=check_id, about=about)


def _owned(request: Request, user: User, check_id: str) -> tuple[Path, dict[str, Any]]:
    """The check's folder and record, for its owner or an admin; 404 otherwise (the same
    answer for a check that does not exist, so ids cannot be probed)."""
    import re

    folder = _checks_dir(request) / check_id
    if not re.match(_ID, check_id) or not (folder / ABOUT).is_file():
        raise HTTPException(status_code=404, detail="No such check.")
    about: dict[str, Any] = json.loads((folder / ABOUT).read_text(encoding="utf-8"))
    if about.get("owner") != user.username and user.role != "admin":
        raise HTTPException(status_code=404, detail="No such check.")
    return folder, about


@router.get("/check/{check_id}")
def check_result(
    request: Request, check_id: str, user: User = Depends(require(CAN_RUN, "check records"))
) -> Response:
    """A check's decisions, again."""
    _, about = _owned(request, user, check_id)
    return _result_page(request, user, check_id, about)


@router.get("/check/{check_id}/packet/{index}")
def check_packet(
    request: Request,
    check_id: str,
    index: int,
    user: User = Depends(require(CAN_RUN, "check records")),
) -> Response:
    """The petition packet of the index-th county of a check (a PDF download)."""
    folder, about = _owned(request, user, check_id)
    counties = about.get("counties", [])
    if not 0 <= index < len(counties) or not counties[index].get("packet"):
        raise HTTPException(status_code=404, detail="No packet.")
    path = (folder / counties[index]["packet"]).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise HTTPException(status_code=404, detail="No packet.")
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"petition-{counties[index]['county'].lower().replace(' ', '-')}.pdf",
        headers=_DOWNLOAD_HEADERS,
    )
