"""The audit chain: any edited, deleted, inserted or reordered entry is found."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from clearance.store import audit


def _fill(session: Session, n: int = 5) -> None:
    for i in range(n):
        audit.append(session, "alice", "test.action", f"thing:{i}", {"i": i, "ok": True})
    session.commit()


def _raw(session: Session, sql: str) -> None:
    """Tamper as someone with database access would: plain SQL, around the application."""
    session.connection().exec_driver_sql(sql)
    session.commit()


def test_append_chains_entries(session: Session) -> None:
    _fill(session)
    result = audit.verify(session)
    assert result.ok and result.checked == 5 and result.first_bad_id is None
    rows, total = audit.entries(session, page=1, per_page=2)
    assert total == 5 and [r.id for r in rows] == [5, 4]
    assert rows[0].prev_hash == rows[1].hash
    assert result.head_hash == rows[0].hash
    first = audit.entries(session, page=3, per_page=2)[0][0]
    assert first.id == 1 and first.prev_hash == audit.GENESIS
    assert first.details == {"i": 0, "ok": True}


def test_empty_log_verifies(session: Session) -> None:
    assert audit.verify(session).ok


@pytest.mark.parametrize(
    "tamper",
    [
        'UPDATE audit_log SET details_json = \'{"i":99,"ok":true}\' WHERE id = 3',
        "UPDATE audit_log SET actor = 'mallory' WHERE id = 3",
        "UPDATE audit_log SET action = 'other' WHERE id = 3",
        "UPDATE audit_log SET target = 'thing:x' WHERE id = 3",
        'UPDATE audit_log SET details_json = \'{"i": 2, "ok": true}\' WHERE id = 3',
    ],
)
def test_edited_entry_is_found(session: Session, tamper: str) -> None:
    _fill(session)
    _raw(session, tamper)
    result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_id == 3
    assert result.checked == 2
    assert result.problem


def test_edited_time_is_found(session: Session) -> None:
    _fill(session)
    entry = audit.entries(session, 1, 10)[0][-1]
    bad = entry.at.replace(year=entry.at.year - 1)
    session.execute(
        text("UPDATE audit_log SET at = :at WHERE id = 1"),
        {"at": bad.replace(tzinfo=None) if session.bind and session.bind.dialect.name == "sqlite"
         else bad},
    )  # fmt: skip
    session.commit()
    assert audit.verify(session).first_bad_id == 1


def test_rehashed_edit_still_breaks_the_next_link(session: Session) -> None:
    _fill(session)
    _raw(session, f"UPDATE audit_log SET hash = '{'ab' * 32}' WHERE id = 2")
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == 2


def test_deleted_entry_is_found(session: Session) -> None:
    _fill(session)
    _raw(session, "DELETE FROM audit_log WHERE id = 2")
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == 3 and "missing" in (result.problem or "")


def test_deleted_last_entry_is_found(session: Session) -> None:
    _fill(session)
    _raw(session, "DELETE FROM audit_log WHERE id = 5")
    result = audit.verify(session)
    assert not result.ok and result.checked == 4 and result.first_bad_id == 5


def test_entry_added_behind_the_logs_back_is_found(session: Session) -> None:
    _fill(session, 2)
    _raw(session, "UPDATE audit_head SET entries = 1")
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == 2


def test_reordered_entries_are_found(session: Session) -> None:
    _fill(session)
    _raw(session, "UPDATE audit_log SET id = -3 WHERE id = 3")
    _raw(session, "UPDATE audit_log SET id = 3 WHERE id = 4")
    _raw(session, "UPDATE audit_log SET id = 4 WHERE id = -3")
    result = audit.verify(session)
    assert not result.ok and result.first_bad_id == 3


def test_appending_after_tampering_keeps_the_break_visible(session: Session) -> None:
    _fill(session)
    _raw(session, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    audit.append(session, "alice", "later", "x", {})
    session.commit()
    assert audit.verify(session).first_bad_id == 2


@pytest.mark.parametrize(
    "details",
    [
        {"name": "DOE,JANE"},
        {"person": {"DOB": "1970-01-01"}},
        {"rows": [{"cii_number": "123"}]},
        {"password": "x"},
        {"note": "free text about a person"},
        {"when": object()},
    ],
)
def test_personal_details_are_refused(session: Session, details: dict[str, object]) -> None:
    with pytest.raises(audit.AuditError):
        audit.append(session, "alice", "x", "y", details)
    session.rollback()
    assert audit.verify(session).checked == 0


def test_failed_transaction_leaves_no_entry(session: Session) -> None:
    _fill(session, 2)
    audit.append(session, "alice", "x", "y", {})
    session.rollback()
    result = audit.verify(session)
    assert result.ok and result.checked == 2
    audit.append(session, "alice", "x", "y", {})
    session.commit()
    assert audit.verify(session).checked == 3


def test_canonical_json_is_stable() -> None:
    assert audit.canonical({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_concurrent_writers_keep_one_chain(db_url: str) -> None:
    """Writers in several threads queue on the head row instead of forking the chain."""
    from concurrent.futures import ThreadPoolExecutor

    from clearance.store.db import session_factory

    factory = session_factory(db_url)

    def write(worker: int) -> None:
        for i in range(10):
            with factory() as s:
                audit.append(s, f"worker{worker}", "test.concurrent", f"n:{i}", {"i": i})
                s.commit()

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write, range(4)))
        with factory() as s:
            result = audit.verify(s)
        assert result.ok and result.checked == 40
    finally:
        factory.kw["bind"].dispose()
