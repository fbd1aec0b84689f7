"""Users: Argon2 hashes, roles, lock-out after repeated failures, and nothing secret in the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from store_helpers import PASSWORD

from clearance.store import audit, users
from clearance.store.models import AuditEntry

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def _log_text(session: Session) -> str:
    return " ".join(
        f"{e.actor} {e.action} {e.target} {e.details_json}"
        for e in session.execute(select(AuditEntry)).scalars()
    )


def test_add_user_hashes_with_argon2(session: Session) -> None:
    user = users.add_user(session, "  Alice ", PASSWORD, "attorney")
    assert user.username == "alice"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.created_at.tzinfo is not None
    assert users.get_user(session, user.id) is user
    assert [u.username for u in users.list_users(session)] == ["alice"]
    assert _actions(session) == ["user.added"]


@pytest.mark.parametrize(
    ("name", "password", "role"),
    [
        ("alice", PASSWORD, "judge"),
        ("alice", "short", "attorney"),
        ("a", PASSWORD, "attorney"),
        ("al ice", PASSWORD, "attorney"),
        ("alice'; drop table users; --", PASSWORD, "admin"),
    ],
)
def test_bad_users_are_refused(session: Session, name: str, password: str, role: str) -> None:
    with pytest.raises(users.UserError):
        users.add_user(session, name, password, role)
    assert users.list_users(session) == []


def test_user_names_are_unique(session: Session) -> None:
    users.add_user(session, "alice", PASSWORD, "viewer")
    with pytest.raises(users.UserError, match="exists"):
        users.add_user(session, "ALICE", PASSWORD, "admin")


def test_roles() -> None:
    assert users.ROLES == ("admin", "attorney", "analyst", "viewer")


def test_authenticate(session: Session) -> None:
    users.add_user(session, "alice", PASSWORD, "analyst")
    assert users.authenticate(session, "alice", PASSWORD, now=T0) is not None
    assert users.authenticate(session, "Alice", PASSWORD, now=T0) is not None
    assert users.authenticate(session, "alice", PASSWORD + "x", now=T0) is None
    assert users.authenticate(session, "nobody", PASSWORD, now=T0) is None
    user = users.get_user_by_name(session, "alice")
    assert user is not None and user.failed_logins == 1


def test_lock_out_after_repeated_failures(session: Session, no_login_delay: list[float]) -> None:
    users.add_user(session, "alice", PASSWORD, "attorney")
    for i in range(users.MAX_FAILURES):
        assert users.authenticate(session, "alice", f"wrong-guess-{i}", now=T0) is None
    user = users.get_user_by_name(session, "alice")
    assert user is not None and user.failed_logins == users.MAX_FAILURES
    assert user.locked_until == T0 + timedelta(minutes=users.LOCK_MINUTES)
    # Slowed before the lock: each failure waits longer than the one before.
    assert no_login_delay[0] == 0 and no_login_delay == sorted(no_login_delay)
    assert no_login_delay[-1] > 0
    # Locked: even the right password is refused, and it does not count as a new failure.
    assert users.authenticate(session, "alice", PASSWORD, now=T0 + timedelta(minutes=14)) is None
    # Once the lock has run out, the right password works and the count starts again.
    later = T0 + timedelta(minutes=users.LOCK_MINUTES, seconds=1)
    assert users.authenticate(session, "alice", PASSWORD, now=later) is not None
    user = users.get_user_by_name(session, "alice")
    assert user is not None and user.failed_logins == 0 and user.locked_until is None
    actions = _actions(session)
    assert actions.count("login.failed") == users.MAX_FAILURES  # 4 wrong + 1 while locked
    assert actions.count("login.locked") == 1
    assert actions[-1] == "login.ok"
    assert audit.verify(session).ok


def test_lock_survives_a_new_session(db_url: str) -> None:
    from clearance.store.db import session_factory

    factory = session_factory(db_url)
    try:
        with factory() as s:
            users.add_user(s, "alice", PASSWORD, "attorney")
            for _ in range(users.MAX_FAILURES):
                users.authenticate(s, "alice", "nope-nope-nope", now=T0)
        with factory() as s:
            assert users.authenticate(s, "alice", PASSWORD, now=T0 + timedelta(minutes=1)) is None
    finally:
        factory.kw["bind"].dispose()


def test_disabled_user_cannot_sign_in(session: Session) -> None:
    users.add_user(session, "alice", PASSWORD, "attorney")
    users.disable_user(session, "alice")
    assert users.authenticate(session, "alice", PASSWORD, now=T0) is None
    users.enable_user(session, "alice")
    assert users.authenticate(session, "alice", PASSWORD, now=T0) is not None
    with pytest.raises(users.UserError):
        users.disable_user(session, "nobody")
    assert "user.disabled" in _actions(session)


def test_set_password(session: Session) -> None:
    users.add_user(session, "alice", PASSWORD, "attorney")
    users.set_password(session, "alice", "another long password")
    assert users.authenticate(session, "alice", PASSWORD, now=T0) is None
    assert users.authenticate(session, "alice", "another long password", now=T0) is not None


def test_no_password_or_unknown_name_in_the_log(session: Session) -> None:
    users.add_user(session, "alice", PASSWORD, "attorney")
    users.authenticate(session, "alice", "hunter2-secret-guess", now=T0)
    users.authenticate(session, "my-password-typed-as-name", PASSWORD, now=T0)
    text = _log_text(session)
    for secret in (PASSWORD, "hunter2-secret-guess", "my-password-typed-as-name"):
        assert secret not in text
    assert "login.failed" in _actions(session)


def test_unknown_user_costs_time_like_a_wrong_password(
    session: Session, no_login_delay: list[float]
) -> None:
    assert users.authenticate(session, "ghost", PASSWORD, now=T0) is None
    assert no_login_delay and no_login_delay[0] > 0
