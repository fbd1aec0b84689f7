"""Reviewing a run: the queue of counts, bulk acceptance, a person's page and the review form.

The queue is paged on the server (`query_determinations`, offset paging on indexed columns), so
a run of 100,000 counts renders a page as fast as a run of 100. Filter values go to the store
as bound parameters and the sort key must be one of the store's `SORTS`, so whatever is typed
into a filter can only fail to match. The search box (name, SUBJECT_ID, CII, date of birth,
part of a case number) is one more of those filters, evaluated by the database.

The review forms post to the person's own page (`POST /runs/{id}/people/{subject_id}`): a review
refused (no note, a note too long, accept with a new decision) is answered with that page, the
values typed still in the form and the conviction named in the message, so the reviewer never
lands on an address of its own and loses nothing. A saved review redirects back to the page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.engine import all_rules
from clearance.law.rule import Rule
from clearance.outputs.explain import ExplainError, person_record
from clearance.store.models import REVIEW_STATUSES, Determination, Run, User
from clearance.store.reviews import (
    NOTE_LIMIT,
    BulkCountChanged,
    ReviewError,
    bulk_accept,
    pending_matching,
    reset_review,
    review_count,
)
from clearance.store.runs import (
    FILTERS,
    SORTS,
    get_determination,
    query_determinations,
    valid_id,
)
from clearance.web.pages import render
from clearance.web.routes_runs import load_summary, run_dir_of, run_or_404, run_policy
from clearance.web.security import CAN_REVIEW, current_user, get_db, require, verify_csrf

router = APIRouter()

PER_PAGE = 50
#: Longest filter value passed on; anything longer cannot match a stored value.
MAX_FILTER = 200
#: The queue's columns: (sort key or None, heading).
COLUMNS: tuple[tuple[str | None, str], ...] = (
    ("name", "Person"),
    ("court_case_number", "Case"),
    ("code_section", "Section"),
    ("conviction_date", "Convicted"),
    ("offense_level", "Level"),
    ("decision", "Decision"),
    (None, "Rules that fired"),
    ("review_status", "Review"),
)


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters, sort and page as read from the URL (or the bulk form)."""

    filters: dict[str, str]
    sort: str
    descending: bool
    page: int

    @classmethod
    def from_params(cls, params: Any) -> QueueQuery:
        """Read and bound every parameter; unknown sorts and bad pages fall back quietly."""
        filters = {name: str(params.get(name) or "").strip()[:MAX_FILTER] for name in FILTERS}
        sort = str(params.get("sort") or "subject_id")
        if sort not in SORTS:
            sort = "subject_id"
        raw_page = str(params.get("page") or "1")
        page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 9 else 1
        descending = str(params.get("desc") or "") in ("1", "true")
        return cls(filters, sort, descending, max(1, page))

    def url(self, run_id: int, **changes: Any) -> str:
        """The queue's URL with some parameters changed (empty ones left out)."""
        values: dict[str, Any] = {
            **self.filters,
            "sort": self.sort,
            "desc": "1" if self.descending else "",
            "page": self.page,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v not in ("", None, 1, "subject_id")}
        query = urlencode(kept)
        return f"/runs/{run_id}/review" + (f"?{query}" if query else "")


def _queue_page(
    request: Request,
    user: User,
    db: Session,
    run: Run,
    query: QueueQuery,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rows, total = query_determinations(
        db,
        run.id,
        **{k: (v or None) for k, v in query.filters.items()},
        sort=query.sort,
        descending=query.descending,
        page=query.page,
        per_page=PER_PAGE,
    )
    pages = max(1, -(-total // PER_PAGE))
    # What the bulk-accept dialog announces: the exact number the button would accept.
    pending = (
        pending_matching(db, run.id, **{k: (v or None) for k, v in query.filters.items()})
        if user.can_review and total
        else 0
    )
    summary = load_summary(run, run_dir_of(request, run))
    fragment = "HX-Request" in request.headers and "HX-History-Restore-Request" not in (
        request.headers
    )

    def sort_url(key: str) -> str:
        flip = query.sort == key and not query.descending
        return query.url(run.id, sort=key, desc="1" if flip else "", page=1)

    return render(
        request,
        "review_table.html" if fragment else "review.html",
        user,
        status_code=status_code,
        run=run,
        tab="review",
        rows=rows,
        total=total,
        pending=pending,
        page=query.page,
        pages=pages,
        f=query.filters,
        sort=query.sort,
        descending=query.descending,
        columns=COLUMNS,
        statuses=REVIEW_STATUSES,
        reasons=sorted(summary.get("by_reason", {})),
        sections=sorted(summary.get("by_section", {})),
        page_url=lambda p: query.url(run.id, page=p),
        sort_url=sort_url,
        message=message,
        error=error,
    )


def _done_run(db: Session, run_id: int) -> Run:
    run = run_or_404(db, run_id)
    if run.status != "done":
        raise HTTPException(status_code=409, detail="The run is not finished yet.")
    return run


@router.get("/runs/{run_id}/review")
def review_queue(
    request: Request,
    run_id: int,
    user: User = Depends(current_user),
    db: Session = Depends(get_db),
) -> Response:
    """The counts of a run, filtered, sorted and paged on the server."""
    run = _done_run(db, run_id)
    message = request.session.pop("flash", None)
    return _queue_page(
        request, user, db, run, QueueQuery.from_params(request.query_params), message
    )


@router.post("/runs/{run_id}/review/accept", dependencies=[Depends(verify_csrf)])
async def accept_matching(
    request: Request,
    run_id: int,
    user: User = Depends(require(CAN_REVIEW, "accept decisions")),
    db: Session = Depends(get_db),
) -> Response:
    """Accept every pending count that matches the queue's current filters.

    The form carries the number its dialog announced (`expected`); when the queue no longer
    holds exactly that many pending matches, nothing is accepted and the page says so.
    """
    run = _done_run(db, run_id)
    form = await request.form()
    query = QueueQuery.from_params(form)
    raw = str(form.get("expected") or "")
    expected = int(raw) if raw.isdigit() and len(raw) < 12 else None
    filters = {k: (v or None) for k, v in query.filters.items()}
    try:
        accepted = bulk_accept(db, run.id, user, expected=expected, **filters)
    except BulkCountChanged as exc:
        return _queue_page(
            request,
            user,
            db,
            run,
            query,
            error=f"Not accepted: {exc}.",
            # HTMX swaps only successful answers; the page itself is refused with 409.
            status_code=200 if "HX-Request" in request.headers else 409,
        )
    message = f"Accepted {accepted:,} pending conviction(s) that match the filters."
    if "HX-Request" in request.headers:
        return _queue_page(request, user, db, run, query, message)
    request.session["flash"] = message
    return RedirectResponse(query.url(run.id), status_code=303)


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
        timeline, _, who = person_record(run_dir_of(request, run), subject_id)
    except ExplainError:
        raise HTTPException(status_code=404, detail="No such person in this run.") from None
    stored = list(
        db.execute(
            select(Determination)
            .where(Determination.run_id == run.id, Determination.subject_id == subject_id)
            .order_by(Determination.count_id, Determination.id)
        ).scalars()
    )
    policy = run_policy(run)
    rules = {r.id: r for r in all_rules(policy, run.as_of)} if policy else {}
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
    run = _done_run(db, run_id)
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
    run = _done_run(db, run_id)
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
    run = _done_run(db, run_id)
    row = get_determination(db, run.id, determination_id)
    if row is None:
        raise HTTPException(status_code=404, detail="No such conviction in this run.")
    form = ReviewForm(row.id, action, decision, new_level, note)
    return _save_review(request, user, db, run, row, form)
