"""Reviewing a run: the queue of counts, bulk acceptance, a person's page and the review form.

The queue is paged on the server (`query_determinations`, offset paging on indexed columns), so
a run of 100,000 counts renders a page as fast as a run of 100. Filter values go to the store
as bound parameters and the sort key must be one of the store's `SORTS`, so whatever is typed
into a filter can only fail to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.engine import all_rules
from clearance.law.rule import Rule
from clearance.outputs.explain import ExplainError, person_record
from clearance.store.models import REVIEW_STATUSES, Determination, Run, User
from clearance.store.reviews import ReviewError, bulk_accept, review_count
from clearance.store.runs import FILTERS, SORTS, get_determination, query_determinations
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
        run=run,
        tab="review",
        rows=rows,
        total=total,
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
    """Accept every pending count that matches the queue's current filters."""
    run = _done_run(db, run_id)
    form = await request.form()
    query = QueueQuery.from_params(form)
    accepted = bulk_accept(db, run.id, user, **{k: (v or None) for k, v in query.filters.items()})
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


def _person_page(
    request: Request,
    user: User,
    db: Session,
    run: Run,
    subject_id: str,
    message: str | None = None,
    error: str | None = None,
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
    counts = [{"row": row, "rules": _rules_fired(row, rules)} for row in stored]
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
        error=error,
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


@router.post("/runs/{run_id}/counts/{determination_id}/review", dependencies=[Depends(verify_csrf)])
def review(
    request: Request,
    run_id: int,
    determination_id: int,
    action: str = Form(...),
    decision: str = Form(""),
    new_level: str = Form(""),
    note: str = Form("", max_length=4000),
    user: User = Depends(require(CAN_REVIEW, "review decisions")),
    db: Session = Depends(get_db),
) -> Response:
    """Accept a count's decision or override it (a note is required to override)."""
    run = _done_run(db, run_id)
    row = get_determination(db, run.id, determination_id)
    if row is None:
        raise HTTPException(status_code=404, detail="No such conviction in this run.")
    if action not in ("accept", "override"):
        raise HTTPException(status_code=400, detail="Choose accept or override.")
    try:
        review_count(
            db,
            run.id,
            row.id,
            user,
            "accept" if action == "accept" else "override",
            decision=decision or None,
            new_level=new_level or None,
            note=note or None,
        )
    except PermissionError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except ReviewError as exc:
        db.rollback()
        return _person_page(
            request, user, db, run, row.subject_id, error=f"Not saved: {exc}.", status_code=400
        )
    request.session["flash"] = (
        "Decision accepted." if action == "accept" else "Override saved with its note."
    )
    return RedirectResponse(
        f"/runs/{run.id}/people/{row.subject_id}#count-{row.id}", status_code=303
    )
