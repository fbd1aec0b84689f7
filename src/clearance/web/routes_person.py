"""A person's page in a run: the whole record, each decided count with every rule that fired,
and the review forms (accept, override with a note, reset).

The record's rows come from the run folder through its person index
(`clearance.outputs.person_index`): a page reads the row groups that hold the person, not the
county. The decided counts and their reviews come from the store, by (run, SUBJECT_ID).

The review forms post to the person's own page (`POST /runs/{id}/people/{subject_id}`): a review
refused (no note, a note too long, accept with a new decision) is answered with that page, the
values typed still in the form and the conviction named in the message, so the reviewer never
lands on an address of its own and loses nothing. A saved review redirects back to the page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.engine import all_rules
from clearance.law.rule import Rule
from clearance.outputs.explain import ExplainError, person_record
from clearance.store.models import Determination, Run, User
from clearance.store.reviews import NOTE_LIMIT, ReviewError, reset_review, review_count
from clearance.store.runs import get_determination, valid_id
from clearance.web.pages import render
from clearance.web.routes_review import done_run
from clearance.web.routes_runs import run_dir_of, run_policy
from clearance.web.security import CAN_REVIEW, current_user, get_db, require, verify_csrf

router = APIRouter()


#: The rules of each run's policy, by rule id: parsing the policy's YAML is the person page's
#: largest share of pure-Python work after the template, and a run's policy never changes.
_RULES: dict[tuple[str, str, date], dict[str, Rule]] = {}
_RULES_KEPT = 64


def _rules_of(run: Run) -> dict[str, Rule]:
    """The rules of the run's policy at its as-of date, by id ({} for a policy that no longer
    reads), parsed once per policy text and date."""
    key = (run.policy_sha256, run.policy_name, run.as_of)
    found = _RULES.get(key)
    if found is None:
        policy = run_policy(run)
        found = {r.id: r for r in all_rules(policy, run.as_of)} if policy else {}
        if len(_RULES) >= _RULES_KEPT:
            _RULES.clear()
        _RULES[key] = found
    return found


def _rules_fired(row: Determination, rules: dict[str, Rule]) -> list[dict[str, str]]:
    """Each rule that fired on a count: its id, the explanation line (facts used), citation."""
    lines = (row.explanation or "").split(" | ")
    fired = []
    for i, rule_id in enumerate(row.reason_list):
        rule = rules.get(rule_id)
        line = lines[i] if i < len(lines) else (rule.sentence() if rule else "")
        fired.append({"id": rule_id, "line": line, "citation": rule.citation if rule else ""})
    return fired


def _source(row: dict[str, Any]) -> str:
    name = Path(str(row.get("source_file") or "")).name
    lines = row.get("source_lines") or [row.get("source_line")]
    return ", ".join(f"{name}:{n}" for n in lines if n is not None)


@dataclass(frozen=True)
class ReviewForm:
    """What was typed into one count's review form, kept to show it again after a refusal."""

    determination_id: int
    action: str = "accept"
    decision: str = ""
    new_level: str = ""
    note: str = ""
    error: str = ""


def conviction_label(row: Determination) -> str:
    """A count as a reviewer knows it: offense, conviction date and court case."""
    offense = row.code_section or row.offense_raw or "offense unknown"
    convicted = row.conviction_date.isoformat() if row.conviction_date else "date unknown"
    case = row.court_case_number or "no case number"
    return f"{offense}, convicted {convicted}, case {case}"


def _person_page(
    request: Request,
    user: User,
    db: Session,
    run: Run,
    subject_id: str,
    message: str | None = None,
    form: ReviewForm | None = None,
    status_code: int = 200,
) -> Response:
    try:
        # The decided counts come from the store (with their reviews), not the record.
        timeline, _, who = person_record(run_dir_of(request, run), subject_id, decisions=False)
    except ExplainError:
        raise HTTPException(status_code=404, detail="No such person in this run.") from None
    stored = list(
        db.execute(
            select(Determination)
            .where(Determination.run_id == run.id, Determination.subject_id == subject_id)
            .order_by(Determination.count_id, Determination.id)
        ).scalars()
    )
    rules = _rules_of(run)
    counts = [
        {
            "row": row,
            "rules": _rules_fired(row, rules),
            "form": form if form and form.determination_id == row.id else ReviewForm(row.id),
            "label": conviction_label(row),
        }
        for row in stored
    ]
    decided = {row.count_id for row in stored}
    steps = [
        {**row, "source": _source(row), "decided": row["count_id"] in decided}
        for row in timeline.iter_rows(named=True)
    ]
    return render(
        request,
        "person.html",
        user,
        status_code=status_code,
        run=run,
        who=who,
        counts=counts,
        timeline=steps,
        message=message,
        error=form.error if form else None,
        error_count=form.determination_id if form else None,
        note_limit=NOTE_LIMIT,
    )


@router.get("/runs/{run_id}/people/{subject_id}")
def person(
    request: Request,
    run_id: int,
    subject_id: str,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """A person's whole record, each decided count with every rule that fired, the review form."""
    run = done_run(db, run_id)
    return _person_page(request, user, db, run, subject_id, request.session.pop("flash", None))


#: What a saved review says (the conviction is named on the page, not in the session cookie).
SAVED = {
    "accept": "Decision accepted.",
    "override": "Override saved with its note.",
    "reset": "Review undone: the conviction is pending again.",
}


def _save_review(
    request: Request, user: User, db: Session, run: Run, row: Determination, form: ReviewForm
) -> Response:
    """Record one review (or its reset); answer with the person's page either way."""
    if form.action not in SAVED:
        raise HTTPException(status_code=400, detail="Choose accept, override or reset.")
    try:
        if form.action == "reset":
            reset_review(db, run.id, row.id, user)
        else:
            review_count(
                db,
                run.id,
                row.id,
                user,
                "accept" if form.action == "accept" else "override",
                decision=form.decision or None,
                new_level=form.new_level or None,
                note=form.note or None,
            )
    except PermissionError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except ReviewError as exc:
        db.rollback()
        refused = replace(form, error=f"Not saved ({conviction_label(row)}): {exc}.")
        return _person_page(request, user, db, run, row.subject_id, form=refused, status_code=400)
    request.session["flash"] = SAVED[form.action]
    return RedirectResponse(
        f"/runs/{run.id}/people/{quote(row.subject_id, safe='')}#count-{row.id}",
        status_code=303,
    )


@router.post("/runs/{run_id}/people/{subject_id}", dependencies=[Depends(verify_csrf)])
def review_on_person_page(
    request: Request,
    run_id: int,
    subject_id: str,
    determination: str = Form(""),
    action: str = Form("accept"),
    decision: str = Form(""),
    new_level: str = Form(""),
    note: str = Form(""),
    user: User = Depends(require(CAN_REVIEW, "review decisions")),
    db: Session = Depends(get_db),
) -> Response:
    """The review forms of a person's page: accept, override (a note is required) or reset."""
    run = done_run(db, run_id)
    row = None
    if determination.isdigit() and len(determination) < 20 and valid_id(int(determination)):
        row = get_determination(db, run.id, int(determination))
    if row is None or row.subject_id != subject_id:
        raise HTTPException(status_code=404, detail="No such conviction of this person.")
    form = ReviewForm(row.id, action, decision, new_level, note)
    return _save_review(request, user, db, run, row, form)


@router.post("/runs/{run_id}/counts/{determination_id}/review", dependencies=[Depends(verify_csrf)])
def review(
    request: Request,
    run_id: int,
    determination_id: int,
    action: str = Form(...),
    decision: str = Form(""),
    new_level: str = Form(""),
    note: str = Form(""),
    user: User = Depends(require(CAN_REVIEW, "review decisions")),
    db: Session = Depends(get_db),
) -> Response:
    """The same review addressed by the count alone (for clients that know only its id)."""
    run = done_run(db, run_id)
    row = get_determination(db, run.id, determination_id)
    if row is None:
        raise HTTPException(status_code=404, detail="No such conviction in this run.")
    form = ReviewForm(row.id, action, decision, new_level, note)
    return _save_review(request, user, db, run, row, form)
