"""Runs: the list, starting one from an upload, its live progress, its dashboard, its files.

The upload is parsed by hand (`uploads.receive_upload`) rather than by the framework, so the
file is streamed straight into the data folder under the size limit and checked before a run
row exists; every refusal leaves nothing behind.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearance.engine import all_rules, normalize_county
from clearance.outputs.filings import FilingsError
from clearance.outputs.filings.data import FILING_OPTIONS, policy_filing_values, resolve_filing
from clearance.policy.loader import PolicyError, policy_from_tool_options, policy_from_yaml_text
from clearance.policy.schema import Policy
from clearance.store import audit
from clearance.store.models import Determination, Run, User
from clearance.store.runs import (
    create_pending_run,
    get_run,
    list_runs,
    text_sha256,
)
from clearance.web import charts
from clearance.web.builds import (
    BUILD_BUSY,
    FILING_DETAILS,
    FILINGS_DIR,
    INCOMPLETE_RUN,
    NOT_WRITTEN,
    BuildBusy,
    FilingsBuilds,
    read_build,
)
from clearance.web.files import (
    download_name,
    human_size,
    is_full_record,
    list_files,
    resolve_download,
)
from clearance.web.pages import render
from clearance.web.policies import all_policies, get_policy, policies_dir
from clearance.web.policy_versions import version_with_text
from clearance.web.security import (
    CAN_REVIEW,
    CAN_RUN,
    CAN_SEE_FULL_RECORDS,
    current_user,
    get_db,
    require,
    verify_csrf,
)
from clearance.web.upload_checks import PROP_64_EFFECTIVE, as_of_warning, check_county
from clearance.web.uploads import UploadRefused, check_doj_file, receive_form_upload, scan_upload

router = APIRouter()

#: The filing details a motion needs (the policy's `filing:` block), in form order: the
#: caption of rule 2.111 and the authority of dismissals beyond the statute.
FILING_FIELDS = tuple(FILING_OPTIONS)

#: A download is always an attachment, never cached, never run as a page of this site (an
#: HTML report holds data, and data is never trusted as markup).
DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

#: California's 58 counties, as the DOJ file spells them (upper case in the data).
COUNTIES = (
    "Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa", "Del Norte",
    "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo", "Kern", "Kings", "Lake",
    "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa", "Mendocino", "Merced", "Modoc",
    "Mono", "Monterey", "Napa", "Nevada", "Orange", "Placer", "Plumas", "Riverside",
    "Sacramento", "San Benito", "San Bernardino", "San Diego", "San Francisco", "San Joaquin",
    "San Luis Obispo", "San Mateo", "Santa Barbara", "Santa Clara", "Santa Cruz", "Shasta",
    "Sierra", "Siskiyou", "Solano", "Sonoma", "Stanislaus", "Sutter", "Tehama", "Trinity",
    "Tulare", "Tuolumne", "Ventura", "Yolo", "Yuba",
)  # fmt: skip


class AsOfUnconfirmed(UploadRefused):
    """An as-of date before Proposition 64 or in the future, not confirmed by the user."""


def run_or_404(db: Session, run_id: int) -> Run:
    """The run, or 404 (the same for a run that does not exist and one never created)."""
    run = get_run(db, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail="No such run.")
    return run


def run_dir_of(request: Request, run: Run) -> Path:
    """The run's folder: where the store says (runs loaded with the CLI live elsewhere), else
    the data folder's runs/<id>. Downloads are confined to it by `resolve_download`."""
    runs_dir: Path = request.app.state.config.runs_dir
    return Path(run.run_dir) if run.run_dir else runs_dir / str(run.id)


def run_and_folder(request: Request, db: Session, run_id: int) -> tuple[Run, Path]:
    """The run (404 when there is none) and its folder: what every route about a run's files
    starts from."""
    run = run_or_404(db, run_id)
    return run, run_dir_of(request, run)


@router.get("/")
def home(
    request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    """Every run, newest first (and what was just deleted, if anything)."""
    message = request.session.pop("flash", None)
    return render(request, "runs.html", user, runs=list_runs(db), message=message)


def _new_run_page(
    request: Request,
    user: User,
    error: str | None = None,
    status_code: int = 200,
    **form: str,
) -> Response:
    limit: int = request.app.state.config.max_upload_bytes
    today = date.today()
    defaults = {"county": "", "policy": "statute", "as_of": today.isoformat()}
    defaults.update({k: v for k, v in form.items() if v})
    try:
        warning = as_of_warning(date.fromisoformat(defaults["as_of"]), today)
    except ValueError:
        warning = None
    return render(
        request,
        "new_run.html",
        user,
        status_code=status_code,
        error=error,
        counties=COUNTIES,
        policies=all_policies(request.app.state.config.data_dir),
        form=defaults,
        limit_text=human_size(limit),
        as_of_warning=warning,
        earliest=PROP_64_EFFECTIVE.isoformat(),
        today=today.isoformat(),
    )


@router.get("/runs/new")
def new_run(request: Request, user: User = Depends(require(CAN_RUN, "start runs"))) -> Response:
    """The upload form: file, county, policy, as-of date."""
    return _new_run_page(request, user)


@router.post("/runs")
async def start_run(
    request: Request, user: User = Depends(require(CAN_RUN, "start runs"))
) -> Response:
    """Stream the upload to disk, check it, and queue the run; refusals store nothing.

    The CSRF token is checked as the body streams (`uploads.receive_form_upload`).
    """
    config = request.app.state.config
    try:
        upload = await receive_form_upload(request)
    except UploadRefused as exc:
        return _new_run_page(request, user, str(exc), exc.status_code)
    fields = upload.fields
    form = {k: fields.get(k, "") for k in ("county", "policy", "as_of", "confirm_as_of")}
    try:
        county = fields.get("county", "").strip()
        if county not in COUNTIES:
            raise UploadRefused("Choose the county to decide.")
        try:
            as_of = date.fromisoformat(fields.get("as_of", "").strip())
        except ValueError:
            raise UploadRefused("The as-of date must be a date (YYYY-MM-DD).") from None
        warning = as_of_warning(as_of, date.today())
        if warning and fields.get("confirm_as_of", "") != as_of.isoformat():
            raise AsOfUnconfirmed(
                f"{warning} Check the date, or tick the box to confirm it and upload the file "
                "again. Nothing was stored."
            )
        policy = get_policy(config.data_dir, fields.get("policy", "").strip())
        if policy is None:
            raise UploadRefused("Choose one of the listed policies.")
        assert upload.path is not None
        seen = await run_in_threadpool(check_doj_file, upload.path, upload.filename)
        await run_in_threadpool(
            scan_upload, upload.path, upload.filename, config.max_decompressed_bytes
        )
        await run_in_threadpool(check_county, upload.path, upload.filename, county, seen)
    except UploadRefused as exc:
        upload.discard()
        return _new_run_page(request, user, str(exc), exc.status_code, **form)
    assert upload.path is not None

    def create() -> int:
        with request.app.state.sessions() as db:
            run = create_pending_run(
                db, normalize_county(county), policy.name, policy.text, as_of, user.username
            )
            return run.id

    run_id = await run_in_threadpool(create)
    request.app.state.jobs.submit(run_id, [upload.path])
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _review_counts(db: Session, run_id: int) -> dict[str, int]:
    rows = db.execute(
        select(Determination.review_status, func.count())
        .where(Determination.run_id == run_id)
        .group_by(Determination.review_status)
    ).all()
    return {status: int(n) for status, n in rows}


def _what_if(summary: dict[str, Any]) -> list[dict[str, Any]]:
    policy = summary.get("policy", {})
    rows = [
        {
            "title": policy.get("title") or policy.get("name", "this policy"),
            "current": True,
            "by_decision": summary.get("by_decision", {}),
            "impact": summary.get("people_impact", {}),
        }
    ]
    for _, other in sorted(summary.get("what_if", {}).items()):
        rows.append(
            {
                "title": other.get("policy", ""),
                "current": False,
                "by_decision": other.get("by_decision", {}),
                "impact": other.get("people_impact", {}),
            }
        )
    return rows


def run_policy(run: Run) -> Policy | None:
    """The run's policy from its stored text (YAML, or the configurable tool's JSON)."""
    try:
        data = json.loads(run.policy_text)
    except ValueError:
        data = None
    try:
        if isinstance(data, dict):
            return policy_from_tool_options(data, run.policy_name)
        return policy_from_yaml_text(run.policy_text, run.policy_name)
    except PolicyError:
        return None


def load_summary(run: Run, run_dir: Path) -> dict[str, Any]:
    """summary.json of the run folder (the store's copy when the folder is gone)."""
    path = run_dir / "summary.json"
    if path.is_file():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    return run.summary


@router.get("/runs/{run_id}")
def run_page(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The dashboard of a finished run, or its live progress until then."""
    run = run_or_404(db, run_id)
    if run.status != "done":
        progress = request.app.state.jobs.progress(run.id)
        return render(request, "run_progress.html", user, run=run, progress=progress)
    summary = load_summary(run, run_dir_of(request, run))
    reasons = sorted(summary.get("by_reason", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return render(
        request,
        "dashboard.html",
        user,
        run=run,
        summary=summary,
        review=_review_counts(db, run.id),
        legend=charts.legend(),
        charts={
            "decisions": charts.decision_bars(summary.get("by_decision", {}), "by decision"),
            "sections": charts.stacked_bars(summary.get("by_section", {}), "by section"),
            "decades": charts.stacked_bars(summary.get("by_decade", {}), "by decade"),
            "reasons": charts.bar_chart(reasons, "rules that fired", label_width=250),
        },
        what_if=_what_if(summary),
    )


@router.get("/runs/{run_id}/policy")
def run_policy_page(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The exact policy text the run used (stored with the run), not the policy's text today."""
    run = run_or_404(db, run_id)
    policy = run_policy(run)
    data_dir = request.app.state.config.data_dir
    current = get_policy(data_dir, run.policy_name)
    changed = current is not None and text_sha256(current.text) != run.policy_sha256
    version = version_with_text(policies_dir(data_dir), run.policy_name, run.policy_sha256)
    return render(
        request,
        "run_policy.html",
        user,
        run=run,
        lines=run.policy_text.splitlines(),
        rules=all_rules(policy, run.as_of) if policy is not None else [],
        changed=changed,
        current=current,
        version=version,
    )


@router.post("/runs/{run_id}/cancel", dependencies=[Depends(verify_csrf)])
def cancel_run(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_RUN, "cancel runs")),
    db: Session = Depends(get_db),
) -> Response:
    """Cancel a queued or running run: its worker stops, its upload and folder are deleted."""
    run = run_or_404(db, run_id)
    if run.status not in ("queued", "running") or not request.app.state.jobs.cancel(
        run.id, user.username
    ):
        raise HTTPException(status_code=409, detail="This run is not queued or running.")
    audit.append(db, user.username, "run.cancelled", f"run:{run.id}", {})
    db.commit()
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@router.get("/runs/{run_id}/status")
def run_status(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The status fragment the progress page polls; opens the dashboard when done."""
    run = run_or_404(db, run_id)
    headers = {"HX-Redirect": f"/runs/{run.id}"} if run.status == "done" else {}
    progress = request.app.state.jobs.progress(run.id)
    return render(request, "run_status.html", user, headers=headers, run=run, progress=progress)


def _files_page(
    request: Request,
    user: User,
    run: Run,
    filing: dict[str, str],
    shown: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    *,
    db: Session,
) -> Response:
    """The downloads page. `shown` is the build the user started (from the URL): its success
    is announced; the last build's failure is always shown, and never beside a success."""
    run_dir = run_dir_of(request, run)
    files = list_files(run_dir) if run.status == "done" else []
    if user.role not in CAN_SEE_FULL_RECORDS:
        files = [f for f in files if not is_full_record(f.relative)]
    review = _review_counts(db, run.id)
    build = read_build(run_dir) if run.status == "done" else None
    message = None
    if build is not None and build.status == "done" and build.id == shown and not error:
        message = build.message
    return render(
        request,
        "files.html",
        user,
        status_code=status_code,
        run=run,
        tab="files",
        files=files,
        size=human_size,
        message=message,
        error=error,
        build=build,
        filing=filing,
        filing_fields=FILING_FIELDS,
        review=review,
        reviewed=review.get("accepted", 0) + review.get("overridden", 0),
        pending=review.get("pending", 0),
    )


@router.get("/runs/{run_id}/files")
def run_files(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """Every file of the run folder, filings and reviewed outputs included when present."""
    run, run_dir = run_and_folder(request, db, run_id)
    policy = run_policy(run)
    filing = policy_filing_values(policy) if policy else dict.fromkeys(FILING_FIELDS, "")
    used = run_dir / FILINGS_DIR / FILING_DETAILS
    if used.is_file():
        filing.update(json.loads(used.read_text(encoding="utf-8")))
    shown = request.query_params.get("build")
    return _files_page(request, user, run, filing, shown, db=db)


@router.get("/runs/{run_id}/files/{relative:path}")
def download(
    request: Request,
    run_id: int,
    relative: str,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """One file of the run folder; any name that would leave the folder is 404."""
    run, run_dir = run_and_folder(request, db, run_id)
    # Only a completed run has files to give: a failed or unfinished one has none.
    target = resolve_download(run_dir, relative) if run.status == "done" else None
    if target is None:
        raise HTTPException(status_code=404, detail="No such file in this run.")
    if is_full_record(relative) and user.role not in CAN_SEE_FULL_RECORDS:
        raise HTTPException(
            status_code=403,
            detail=f"Your role ({user.role}) cannot download {PurePosixPath(relative).name}: "
            "it holds every column of the DOJ file (SSN, driver's licence, FBI numbers).",
        )
    audit.append(db, user.username, "file.download", f"run:{run.id}", {"file": relative})
    db.commit()
    return FileResponse(target, filename=download_name(relative), headers=DOWNLOAD_HEADERS)


def _filings_target(run: Run) -> str:
    return f"run:{run.id}"


@router.post("/runs/{run_id}/filings", dependencies=[Depends(verify_csrf)])
async def build_filings(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_REVIEW, "build filings")),
    db: Session = Depends(get_db),
) -> Response:
    """Start a build of the reviewed outputs (overrides applied) and the filings made from them.

    Only reviewed decisions (accepted or overridden) are filed unless the attorney ticks the
    box that includes the pending ones. The filing details (office, signer, bar number, court)
    come from the form, prefilled from the run's policy, and are checked here, before any job
    starts. The build itself is a job (`builds.FilingsBuilds`): this answers at once with the
    downloads page, which follows the build. Every build is audited, whether it was written,
    failed or refused because another was under way.
    """
    run, run_dir = run_and_folder(request, db, run_id)
    if run.status != "done":
        raise HTTPException(status_code=409, detail="The run is not finished.")
    form = await request.form()
    filing = {key: str(form.get(key) or "").strip()[:300] for key in FILING_FIELDS}
    include_pending = form.get("include_pending") == "yes"

    def failed(action: str, error: str, status_code: int) -> Response:
        audit.append(db, user.username, action, _filings_target(run), {"error": error[:300]})
        db.commit()
        return _files_page(request, user, run, filing, error=error, status_code=status_code, db=db)

    if not run_dir.is_dir():
        return failed(
            "filings.failed",
            "The filings were not written: this run's files are no longer on the server.",
            409,
        )
    policy = run_policy(run)
    if policy is None:
        return failed("filings.failed", INCOMPLETE_RUN, 409)
    try:
        resolve_filing(policy, filing, "form")
    except FilingsError as exc:
        return failed("filings.failed", NOT_WRITTEN + str(exc), 400)
    builds: FilingsBuilds = request.app.state.builds
    try:
        build_id = await run_in_threadpool(
            builds.submit, run.id, run_dir, filing, include_pending, user.username
        )
    except BuildBusy:
        return failed("filings.refused", BUILD_BUSY, 409)
    audit.append(
        db,
        user.username,
        "filings.started",
        _filings_target(run),
        {"pending_included": include_pending},
    )
    db.commit()
    return RedirectResponse(f"/runs/{run.id}/files?build={build_id}", status_code=303)


@router.get("/runs/{run_id}/filings/status")
def build_status(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The build fragment the downloads page polls; reopens the page when the build ends."""
    run, run_dir = run_and_folder(request, db, run_id)
    build = read_build(run_dir) if run.status == "done" else None
    if build is None or not build.active:
        shown = f"?build={build.id}" if build is not None else ""
        headers = {"HX-Redirect": f"/runs/{run.id}/files{shown}"}
        return render(request, "build_status.html", user, headers=headers, run=run, build=None)
    return render(request, "build_status.html", user, run=run, build=build)


@router.post("/runs/{run_id}/filings/cancel", dependencies=[Depends(verify_csrf)])
def cancel_build(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_REVIEW, "cancel filings builds")),
    db: Session = Depends(get_db),
) -> Response:
    """Cancel the run's queued or running filings build: a queued one never starts, a running
    one's worker is stopped; the previous filings stay. The builds record it in the audit log
    under the name of who cancelled, once the build has ended."""
    run, run_dir = run_and_folder(request, db, run_id)
    builds: FilingsBuilds = request.app.state.builds
    if run.status != "done" or not builds.cancel(run.id, run_dir, user.username):
        raise HTTPException(
            status_code=409, detail="No build of this run's filings is queued or running."
        )
    return RedirectResponse(f"/runs/{run.id}/files", status_code=303)
