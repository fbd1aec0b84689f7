"""Attorney review: accept, override with a note, bulk accept; who may; what the log keeps."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from store_helpers import PASSWORD, SampleRun

from clearance.store import audit, runs
from clearance.store.models import AuditEntry, Determination, Run, User
from clearance.store.reviews import (
    NOTE_LIMIT,
    ReviewError,
    bulk_accept,
    reset_review,
    review_count,
)
from clearance.store.users import add_user, authenticate, disable_user


@pytest.fixture
def run(session: Session, sample_run: SampleRun) -> Run:
    return runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")


def _first(session: Session, run: Run, **filters: str) -> Determination:
    rows, _ = runs.query_determinations(session, run.id, per_page=1, **filters)  # type: ignore[arg-type]
    return rows[0]


def test_accept(session: Session, run: Run, attorney: User) -> None:
    count = _first(session, run, decision="reduce")
    reviewed = review_count(session, run.id, count.id, attorney, "accept")
    assert reviewed.review_status == "accepted"
    assert reviewed.reviewed_decision == "reduce" and reviewed.reviewed_new_level == count.new_level
    assert reviewed.reviewed_by == "attorney1" and reviewed.reviewed_at is not None
    assert reviewed.final_decision == "reduce"
    assert runs.query_determinations(session, run.id, status="accepted")[1] == 1


def test_override(session: Session, run: Run, attorney: User) -> None:
    count = _first(session, run, decision="reduce")
    reviewed = review_count(
        session, run.id, count.id, attorney, "override", decision="dismiss", note="  lawful now  "
    )
    assert reviewed.review_status == "overridden"
    assert reviewed.decision == "reduce"  # the engine's decision is kept
    assert reviewed.final_decision == "dismiss" and reviewed.final_new_level is None
    assert reviewed.review_note == "lawful now"
    other = _first(session, run, decision="not_eligible")
    reviewed = review_count(session, run.id, other.id, attorney, "override", decision="reduce",
                            new_level="infraction", note="age at offense")  # fmt: skip
    assert (reviewed.final_decision, reviewed.final_new_level) == ("reduce", "infraction")


@pytest.mark.parametrize(
    ("decision", "new_level", "note", "message"),
    [
        ("dismiss", None, None, "note"),
        ("dismiss", None, "   ", "note"),
        ("pardon", None, "why", "decision"),
        (None, None, "why", "decision"),
        ("reduce", None, "why", "new level"),
        ("reduce", "felony", "why", "new level"),
        ("dismiss", "misdemeanor", "why", "only a reduction"),
        ("dismiss' OR '1'='1", None, "why", "decision"),
    ],
)
def test_invalid_override(
    session: Session,
    run: Run,
    attorney: User,
    decision: str | None,
    new_level: str | None,
    note: str | None,
    message: str,
) -> None:
    count = _first(session, run, decision="not_eligible")
    with pytest.raises(ReviewError, match=message):
        review_count(session, run.id, count.id, attorney, "override", decision=decision,
                     new_level=new_level, note=note)  # fmt: skip
    session.rollback()
    assert session.get(Determination, count.id, populate_existing=True).review_status == "pending"  # type: ignore[union-attr]


def test_override_to_the_same_decision_is_an_accept(
    session: Session, run: Run, attorney: User
) -> None:
    count = _first(session, run, decision="dismiss")
    with pytest.raises(ReviewError, match="accept"):
        review_count(session, run.id, count.id, attorney, "override", decision="dismiss",
                     note="same")  # fmt: skip


@pytest.mark.parametrize(("decision", "new_level"), [("dismiss", None), (None, "infraction")])
def test_accept_with_a_new_decision_is_refused(
    session: Session, run: Run, attorney: User, decision: str | None, new_level: str | None
) -> None:
    count = _first(session, run, decision="not_eligible")
    with pytest.raises(ReviewError, match="choose override"):
        review_count(session, run.id, count.id, attorney, "accept", decision=decision,
                     new_level=new_level)  # fmt: skip
    session.rollback()
    assert session.get(Determination, count.id, populate_existing=True).review_status == "pending"  # type: ignore[union-attr]
    # Naming the proposed decision itself is no conflict.
    accepted = review_count(session, run.id, count.id, attorney, "accept", decision="not_eligible")
    assert accepted.review_status == "accepted"


def test_note_limit(session: Session, run: Run, attorney: User) -> None:
    count = _first(session, run, decision="not_eligible")
    with pytest.raises(ReviewError, match=f"{NOTE_LIMIT + 1:,} characters long; the limit is"):
        review_count(session, run.id, count.id, attorney, "override", decision="dismiss",
                     note="x" * (NOTE_LIMIT + 1))  # fmt: skip
    session.rollback()
    saved = review_count(session, run.id, count.id, attorney, "override", decision="dismiss",
                         note="x" * NOTE_LIMIT)  # fmt: skip
    assert saved.review_note == "x" * NOTE_LIMIT


def test_reset_to_pending(session: Session, run: Run, attorney: User) -> None:
    count = _first(session, run, decision="reduce")
    review_count(session, run.id, count.id, attorney, "override", decision="dismiss",
                 note="lawful now")  # fmt: skip
    reset = reset_review(session, run.id, count.id, attorney)
    assert reset.review_status == "pending" and reset.final_decision == "reduce"
    assert (reset.reviewed_decision, reset.review_note, reset.reviewed_by) == (None, None, None)
    with pytest.raises(ReviewError, match="nothing to reset"):
        reset_review(session, run.id, count.id, attorney)
    entry = audit.entries(session, 1, 1)[0][0]
    assert entry.action == "review.reset" and entry.target == f"run:{run.id}/count:{count.id}"
    assert entry.details["undone"]["status"] == "overridden"
    assert entry.details["undone"]["decision"] == "dismiss"
    assert count.subject_id not in entry.details_json
    viewer = add_user(session, "v1", PASSWORD, "viewer")
    with pytest.raises(PermissionError):
        reset_review(session, run.id, count.id, viewer)
    with pytest.raises(LookupError):
        reset_review(session, run.id + 1, count.id, attorney)


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_only_attorneys_and_admins_review(session: Session, run: Run, role: str) -> None:
    user = add_user(session, f"a-{role}", PASSWORD, role)
    count = _first(session, run)
    with pytest.raises(PermissionError):
        review_count(session, run.id, count.id, user, "accept")
    with pytest.raises(PermissionError):
        bulk_accept(session, run.id, user, decision="dismiss")
    admin = add_user(session, "boss", PASSWORD, "admin")
    assert review_count(session, run.id, count.id, admin, "accept").review_status == "accepted"


def test_disabled_attorney_cannot_review(session: Session, run: Run, attorney: User) -> None:
    disable_user(session, attorney.username)
    with pytest.raises(PermissionError):
        review_count(session, run.id, _first(session, run).id, attorney, "accept")


def test_count_of_another_run(session: Session, run: Run, attorney: User) -> None:
    count = _first(session, run)
    with pytest.raises(LookupError):
        review_count(session, run.id + 1, count.id, attorney, "accept")
    with pytest.raises(LookupError):
        review_count(session, run.id, 10**9, attorney, "accept")


def test_bulk_accept(session: Session, run: Run, attorney: User, sample_run: SampleRun) -> None:
    table = pl.read_parquet(sample_run.run_dir / "convictions.parquet")
    dismissals = table.filter(pl.col("decision") == "dismiss").height
    overridden = _first(session, run, decision="dismiss")
    review_count(session, run.id, overridden.id, attorney, "override", decision="review",
                 note="check the sentence")  # fmt: skip
    assert bulk_accept(session, run.id, attorney, decision="dismiss") == dismissals - 1
    # The override stands; a second bulk accept finds nothing pending.
    assert session.get(Determination, overridden.id).review_status == "overridden"  # type: ignore[union-attr]
    assert bulk_accept(session, run.id, attorney, decision="dismiss") == 0
    assert bulk_accept(session, run.id, attorney, status="accepted") == 0
    accepted, n = runs.query_determinations(session, run.id, status="accepted", per_page=5)
    assert n == dismissals - 1
    assert all(r.reviewed_decision == "dismiss" and r.reviewed_by == "attorney1" for r in accepted)
    reason = "remedy_completed"
    pending_with_reason = runs.query_determinations(session, run.id, reason=reason,
                                                    status="pending")[1]  # fmt: skip
    assert bulk_accept(session, run.id, attorney, reason=reason) == pending_with_reason
    with pytest.raises(TypeError, match="unknown filter"):
        bulk_accept(session, run.id, attorney, decisions="dismiss")
    with pytest.raises(runs.StoreError):
        bulk_accept(session, run.id + 1, attorney)
    entries = [e for e in audit.entries(session, 1, 100)[0] if e.action == "review.bulk_accept"]
    assert [e.details["accepted"] for e in entries] == [pending_with_reason, dismissals - 1]
    assert entries[1].details["filters"] == {"decision": "dismiss"}


def test_bulk_accept_keeps_court_case_numbers_out_of_the_log(
    session: Session, run: Run, attorney: User
) -> None:
    case = next(
        r.court_case_number
        for r in runs.query_determinations(session, run.id, per_page=100)[0]
        if r.court_case_number
    )
    assert bulk_accept(session, run.id, attorney, court=case) >= 1
    entry = audit.entries(session, 1, 1)[0][0]
    assert case not in entry.details_json and "court_sha256" in entry.details["filters"]


def test_audit_log_has_no_personal_data(
    session: Session, run: Run, attorney: User, sample_run: SampleRun
) -> None:
    """After a whole review session the log points at rows and holds nothing about people."""
    table = pl.read_parquet(sample_run.run_dir / "convictions.parquet")
    count = _first(session, run, decision="reduce")
    person = table.filter(pl.col("subject_id") == count.subject_id).row(0, named=True)
    note = f"Spoke with {person['name']} born {person['dob']}, CII {person['cii_number']}"
    review_count(session, run.id, count.id, attorney, "override", decision="dismiss", note=note)
    review_count(session, run.id, _first(session, run, decision="dismiss").id, attorney, "accept",
                 note=note)  # fmt: skip
    bulk_accept(session, run.id, attorney, decision="not_eligible")
    authenticate(session, "attorney1", "a wrong password here")
    authenticate(session, "attorney1", PASSWORD)
    runs.export_reviewed_run(session, run.id, sample_run.run_dir.parent / f"export-{run.id}-x")

    log = " ".join(
        f"{e.actor} {e.action} {e.target} {e.details_json}"
        for e in session.execute(select(AuditEntry)).scalars()
    )
    assert f"count:{count.id}" in log  # the count is named by its determination id
    assert count.subject_id not in log, "never by the person's SUBJECT_ID"
    names = table["name"].drop_nulls().unique().to_list()
    dobs = [d.isoformat() for d in table["dob"].drop_nulls().unique().to_list()]
    ciis = table["cii_number"].drop_nulls().unique().to_list()
    cases = table["court_case_number"].drop_nulls().unique().to_list()
    for value in [*names, *dobs, *ciis, *cases, note, PASSWORD, "a wrong password here"]:
        assert str(value) not in log, value
    override = next(e for e in audit.entries(session, 1, 100)[0] if e.action == "review.override")
    assert override.details["note_sha256"] and override.details["determination_id"] == count.id
    assert audit.verify(session).ok
