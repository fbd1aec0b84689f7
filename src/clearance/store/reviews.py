"""An attorney's review of each count: accept the engine's decision or override it with a note.

- Only admins and attorneys review (PermissionError otherwise); a disabled account cannot.
- An override needs a note and a valid decision: `reduce` needs the new level (misdemeanor or
  infraction), the other decisions take none.
- "accept" keeps the engine's decision: given together with another decision it is refused (the
  reviewer meant one of the two, and guessing which would record the wrong one).
- A note is at most `NOTE_LIMIT` characters; a longer one is refused, not cut.
- A review can be undone (`reset_review`): the count is pending again, as the engine left it.
- Every review writes an audit entry naming the count by its determination id (the row of
  this store), never by the person's SUBJECT_ID: the log can be shown to whoever may see the
  audit trail. The note itself stays on the count: the entry keeps only its SHA-256, so the log
  proves which note was written without copying what it says about a person.
- Bulk accept only touches counts still pending: it never undoes an attorney's override. Given
  the number the reviewer was shown, it accepts exactly that many or nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import DECISIONS, NEW_LEVELS, Determination, User, utcnow
from clearance.store.runs import FILTERS, StoreError, determination_filters, get_run

__all__ = [
    "NOTE_LIMIT",
    "BulkCountChanged",
    "ReviewError",
    "bulk_accept",
    "pending_matching",
    "reset_review",
    "review_count",
]

#: The longest note a review keeps, in characters.
NOTE_LIMIT = 4000


class ReviewError(ValueError):
    """A review that cannot be recorded as given; the message says what is missing."""


class BulkCountChanged(ReviewError):
    """A bulk accept that would not accept the number of counts the reviewer confirmed."""

    def __init__(self, expected: int, found: int) -> None:
        super().__init__(
            f"{found:,} pending conviction(s) match the filters now, not the {expected:,} "
            "you confirmed; nothing was accepted: check the queue and confirm again"
        )
        self.expected = expected
        self.found = found


def _require_reviewer(user: User) -> None:
    if user.disabled:
        raise PermissionError(f"user {user.username!r} is disabled")
    if user.role not in ("admin", "attorney"):
        raise PermissionError(f"a {user.role} cannot review: only attorneys and admins decide")


def _note_hash(note: str | None) -> str | None:
    return hashlib.sha256(note.encode("utf-8")).hexdigest() if note else None


def _check_accept(row: Determination, decision: str | None, new_level: str | None) -> None:
    """Refuse an accept that names a decision (or level) other than the engine's."""
    if decision and decision != row.decision:
        raise ReviewError(
            f"you chose the new decision {decision!r} but asked to accept the proposed "
            f"{row.decision!r}: choose override to change it, or clear the new decision"
        )
    if new_level and new_level != row.new_level:
        raise ReviewError(
            f"you chose the new level {new_level!r} but asked to accept the proposed decision: "
            "choose override to change it, or clear the new level"
        )


def review_count(
    session: Session,
    run_id: int,
    determination_id: int,
    user: User,
    action: Literal["accept", "override"],
    decision: str | None = None,
    new_level: str | None = None,
    note: str | None = None,
) -> Determination:
    """Record one count's review (commits) and return the count.

    accept: the engine's decision stands (a note is optional). override: `decision` (and for a
    reduction `new_level`) replace it in the reviewed outputs; `note` is required. A count can
    be reviewed again; the audit log keeps every step.
    """
    _require_reviewer(user)
    row = session.get(Determination, determination_id, populate_existing=True)
    if row is None or row.run_id != run_id:
        raise LookupError(f"no count {determination_id} in run {run_id}")
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_LIMIT:
        raise ReviewError(f"the note is {len(text):,} characters long; the limit is {NOTE_LIMIT:,}")
    if action == "accept":
        _check_accept(row, decision, new_level)
        new_decision, level = row.decision, row.new_level
        status = "accepted"
    elif action == "override":
        if text is None:
            raise ReviewError("an override needs a note saying why")
        if decision not in DECISIONS:
            raise ReviewError(f"the decision must be one of {', '.join(DECISIONS)}")
        if decision == "reduce":
            if new_level not in NEW_LEVELS:
                raise ReviewError(f"a reduction needs the new level: {' or '.join(NEW_LEVELS)}")
        elif new_level:
            raise ReviewError(f"only a reduction has a new level, not {decision}")
        level = new_level if decision == "reduce" else None
        if (decision, level) == (row.decision, row.new_level):
            raise ReviewError("that is the engine's decision: accept it instead")
        new_decision, status = decision, "overridden"
    else:
        raise ReviewError("the action is accept or override")
    previous = row.review_status
    row.review_status = status
    row.reviewed_decision = new_decision
    row.reviewed_new_level = level
    row.review_note = text
    row.reviewed_by = user.username
    row.reviewed_at = utcnow()
    audit.append(
        session,
        user.username,
        f"review.{action}",
        f"run:{run_id}/count:{row.id}",
        {
            "run_id": run_id,
            "determination_id": row.id,
            "engine": {"decision": row.decision, "new_level": row.new_level},
            "reviewed": {"decision": new_decision, "new_level": level},
            "previous_status": previous,
            "note_sha256": _note_hash(text),
        },
    )
    session.commit()
    return row


def reset_review(session: Session, run_id: int, determination_id: int, user: User) -> Determination:
    """Undo a count's review (commits): it is pending again with the engine's decision only.

    The audit entry keeps what was undone (status, reviewed decision, the note's SHA-256), so
    the log still shows every step even though the count no longer does.
    """
    _require_reviewer(user)
    row = session.get(Determination, determination_id, populate_existing=True)
    if row is None or row.run_id != run_id:
        raise LookupError(f"no count {determination_id} in run {run_id}")
    if row.review_status == "pending":
        raise ReviewError("this conviction is not reviewed yet: there is nothing to reset")
    undone = {
        "status": row.review_status,
        "decision": row.reviewed_decision,
        "new_level": row.reviewed_new_level,
        "note_sha256": _note_hash(row.review_note),
    }
    row.review_status = "pending"
    row.reviewed_decision = None
    row.reviewed_new_level = None
    row.review_note = None
    row.reviewed_by = None
    row.reviewed_at = None
    audit.append(
        session,
        user.username,
        "review.reset",
        f"run:{run_id}/count:{row.id}",
        {"run_id": run_id, "determination_id": row.id, "undone": undone},
    )
    session.commit()
    return row


def _pending_conditions(run_id: int, filters: dict[str, str | None]) -> list[Any] | None:
    """The WHERE conditions of the pending counts matching `filters` (None: none can match)."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise TypeError(f"unknown filter(s): {', '.join(unknown)}; use {', '.join(FILTERS)}")
    status = filters.get("status")
    if status and status != "pending":
        return None
    return determination_filters(
        run_id,
        decision=filters.get("decision"),
        reason=filters.get("reason"),
        section=filters.get("section"),
        court=filters.get("court"),
        search=filters.get("search"),
        status="pending",
    )


def pending_matching(session: Session, run_id: int, **filters: str | None) -> int:
    """How many pending counts of the run match the filters: what a bulk accept would accept."""
    conditions = _pending_conditions(run_id, filters)
    if conditions is None:
        return 0
    found = session.execute(
        select(func.count()).select_from(Determination).where(and_(*conditions))
    ).scalar_one()
    return int(found)


def bulk_accept(
    session: Session,
    run_id: int,
    user: User,
    expected: int | None = None,
    **filters: str | None,
) -> int:
    """Accept every pending count of the run that matches the filters (commits); returns how many.

    The filters are those of `query_determinations` (decision, reason, section, court, status,
    search). With `expected` (the number the reviewer confirmed), a different number of matching
    counts accepts nothing and raises BulkCountChanged. The audit entry records the filters (a
    court case number only by its SHA-256; the search text not at all, since it may be a name,
    a date of birth or an identifier) and the count; a bulk accept that matched nothing changed
    nothing and leaves no entry.
    """
    _require_reviewer(user)
    conditions = _pending_conditions(run_id, filters)
    if get_run(session, run_id) is None:
        raise StoreError(f"no run {run_id}")
    if conditions is None:
        if expected:
            raise BulkCountChanged(expected, 0)
        return 0
    result = session.execute(
        update(Determination)
        .where(and_(*conditions))
        .values(
            review_status="accepted",
            reviewed_decision=Determination.decision,
            reviewed_new_level=Determination.new_level,
            review_note=None,
            reviewed_by=user.username,
            reviewed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    accepted = int(cast(CursorResult[Any], result).rowcount)
    if expected is not None and accepted != expected:
        session.rollback()
        raise BulkCountChanged(expected, accepted)
    if accepted == 0:
        session.commit()
        return 0
    recorded: dict[str, Any] = {k: v for k, v in filters.items() if v and k != "search"}
    if recorded.get("court"):
        recorded["court_sha256"] = hashlib.sha256(recorded.pop("court").encode()).hexdigest()
    if filters.get("search"):
        recorded["search"] = True
    audit.append(
        session,
        user.username,
        "review.bulk_accept",
        f"run:{run_id}",
        {"run_id": run_id, "filters": recorded, "accepted": accepted},
    )
    session.commit()
    session.expire_all()
    return accepted
