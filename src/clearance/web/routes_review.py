"""Reviewing a run: the queue of counts and bulk acceptance (a person's page and its review
forms are in `routes_person`).

The queue is paged on the server (`query_determinations`, offset paging on indexed columns), so
a run of 100,000 counts renders a page as fast as a run of 100. Filter values go to the store
as bound parameters and the sort key must be one of the store's `SORTS`, so whatever is typed
into a filter can only fail to match. The search box (name, SUBJECT_ID, CII, date of birth,
part of a case number) is one more of those filters, evaluated by the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.store.models import REVIEW_STATUSES, Run, User
from clearance.store.reviews import BulkCountChanged, bulk_accept, pending_matching
from clearance.store.runs import FILTERS, SORTS, query_determinations
from clearance.web.pages import render
from clearance.web.routes_runs import load_summary, run_dir_of, run_or_404
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


def done_run(db: Session, run_id: int) -> Run:
    """The run, when it is finished (404 when there is none, 409 while it runs)."""
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
    run = done_run(db, run_id)
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
    run = done_run(db, run_id)
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
