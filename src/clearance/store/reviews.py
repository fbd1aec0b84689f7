"""An attorney's review of each count: accept the engine's decision or override it with a note.

- Only admins and attorneys review (PermissionError otherwise); a disabled account cannot.
- An override needs a note and a valid decision: `reduce` needs the new level (misdemeanor or
  infraction), the other decisions take none.
- Every review writes an audit entry pointing at the run, the count's id and its subject and
  count ids. The note itself stays on the count: the entry keeps only its SHA-256, so the log
  proves which note was written without copying what it says about a person.
- Bulk accept only touches counts still pending: it never undoes an attorney's override.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, and_, update
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import DECISIONS, NEW_LEVELS, Determination, User, utcnow
from clearance.store.runs import FILTERS, StoreError, determination_filters, get_run

__all__ = ["ReviewError", "bulk_accept", "review_count"]


class ReviewError(ValueError):
    """A review that cannot be recorded as given; the message says what is missing."""


def _require_reviewer(user: User) -> None:
    if user.disabled:
        raise PermissionError(f"user {user.username!r} is disabled")
    if user.role not in ("admin", "attorney"):
        raise PermissionError(f"a {user.role} cannot review: only attorneys and admins decide")


def _note_hash(note: str | None) -> str | None:
    return hashlib.sha256(note.encode("utf-8")).hexdigest() if note else None


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
    if action == "accept":
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
            "subject_id": row.subject_id,
            "count_id": row.count_id,
            "engine": {"decision": row.decision, "new_level": row.new_level},
            "reviewed": {"decision": new_decision, "new_level": level},
            "previous_status": previous,
            "note_sha256": _note_hash(text),
        },
    )
    session.commit()
    return row


def bulk_accept(session: Session, run_id: int, user: User, **filters: str | None) -> int:
    """Accept every pending count of the run that matches the filters (commits); returns how many.

    The filters are those of `query_determinations` (decision, reason, section, court, status).
    The audit entry records the filters (a court case number only by its SHA-256) and the count;
    a bulk accept that matched nothing changed nothing and leaves no entry.
    """
    _require_reviewer(user)
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise TypeError(f"unknown filter(s): {', '.join(unknown)}; use {', '.join(FILTERS)}")
    if get_run(session, run_id) is None:
        raise StoreError(f"no run {run_id}")
    status = filters.get("status")
    if status and status != "pending":
        return 0
    conditions = determination_filters(
        run_id,
        decision=filters.get("decision"),
        reason=filters.get("reason"),
        section=filters.get("section"),
        court=filters.get("court"),
        status="pending",
    )
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
    if accepted == 0:
        session.commit()
        return 0
    recorded = {k: v for k, v in filters.items() if v}
    if recorded.get("court"):
        recorded["court_sha256"] = hashlib.sha256(recorded.pop("court").encode()).hexdigest()
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
