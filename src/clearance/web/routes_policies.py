"""Policies: the presets, a policy's text and rules, and writing or uploading a YAML policy.

A policy is checked by `policy_from_yaml_text` before it is saved; when it fails, the page
shows the text with the offending line marked and the message under it (PolicyError.line), so
the author sees where to look rather than a line number to count to.
"""

from __future__ import annotations

import hashlib
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from clearance.engine import all_rules
from clearance.policy.loader import PolicyError, policy_from_yaml_text
from clearance.store import audit
from clearance.store.models import User
from clearance.web.pages import render
from clearance.web.policies import (
    MAX_POLICY_BYTES,
    all_policies,
    get_policy,
    policies_dir,
    save_policy,
)
from clearance.web.policy_versions import list_versions
from clearance.web.security import CAN_EDIT_POLICY, current_user, get_db, require, verify_csrf

router = APIRouter()

#: The date rules are listed for on a policy's page (rules that depend on the as-of date name
#: it in their sentence; the listing is about what the policy says, not one run).
LISTING_DATE = date(2000, 1, 1)


def _problem_only(exc: PolicyError) -> str:
    """The message without the file, line and key it starts with (shown beside the line)."""
    text = exc.message
    for prefix in (f"{exc.source} line {exc.line}: ", f"{exc.source}: ", f"{exc.key}: "):
        text = text.removeprefix(prefix)
    return text


@router.get("/policies")
def policies(request: Request, user: User = Depends(current_user)) -> Response:
    """Presets first, then the policies saved here."""
    return render(
        request,
        "policies.html",
        user,
        policies=all_policies(request.app.state.config.data_dir),
        can_edit=user.role in CAN_EDIT_POLICY,
    )


@router.get("/policies/new")
def new_policy(
    request: Request, user: User = Depends(require(CAN_EDIT_POLICY, "edit policies"))
) -> Response:
    """The editor, empty or holding a policy to start from (`?start=<name>`)."""
    start = request.query_params.get("start", "statute")
    chosen = get_policy(request.app.state.config.data_dir, start)
    text = chosen.text if chosen is not None else ""
    return render(request, "policy_edit.html", user, text=text, error=None, lines=[])


@router.post("/policies", dependencies=[Depends(verify_csrf)])
async def save(
    request: Request,
    user: User = Depends(require(CAN_EDIT_POLICY, "edit policies")),
    db: Session = Depends(get_db),
) -> Response:
    """Check the text (or the uploaded file) and save it under its name; else show the error."""
    form = await request.form()
    text = str(form.get("text") or "")
    source_name = "policy.yaml"
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_POLICY_BYTES + 1)
        source_name = upload.filename.rsplit("/", 1)[-1][:100] or source_name
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    text = text.replace("\r\n", "\n")
    try:
        policy, version = save_policy(
            request.app.state.config.data_dir, text, source_name, user.username
        )
    except PolicyError as exc:
        error = {
            "message": exc.message,
            "line": exc.line,
            "key": exc.key,
            "problem": _problem_only(exc),
        }
        return render(
            request,
            "policy_edit.html",
            user,
            status_code=400,
            text=text,
            error=error,
            lines=text.splitlines(),
        )
    audit.append(
        db,
        user.username,
        "policy.saved",
        f"policy:{policy.name}",
        {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "version": version.number},
    )
    db.commit()
    request.session["flash"] = f"Saved policy {policy.name} as version {version.number}."
    return RedirectResponse(f"/policies/{policy.name}", status_code=303)


@router.get("/policies/{name}")
def policy_page(request: Request, name: str, user: User = Depends(current_user)) -> Response:
    """A policy's text with line numbers and the rules a run under it evaluates."""
    data_dir = request.app.state.config.data_dir
    chosen = get_policy(data_dir, name)
    if chosen is None:
        raise HTTPException(status_code=404, detail="No such policy.")
    policy = policy_from_yaml_text(chosen.text, f"{chosen.name}.yaml")
    return render(
        request,
        "policy_view.html",
        user,
        policy=chosen,
        lines=chosen.text.splitlines(),
        rules=all_rules(policy, LISTING_DATE),
        can_edit=user.role in CAN_EDIT_POLICY,
        versions=[] if chosen.preset else list_versions(policies_dir(data_dir), name),
        message=request.session.pop("flash", None),
    )
