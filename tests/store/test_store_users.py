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
    # Every refusal is padded to the same answer time, the first as much as the last.
    assert len(no_login_delay) == users.MAX_FAILURES
    assert all(0 <= d <= users.FAILURE_SECONDS for d in no_login_delay)
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
    session: Session, no_login_delay: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([100.0, 100.2])
    monkeypatch.setattr(users.time, "monotonic", lambda: next(clock))
    assert users.authenticate(session, "ghost", PASSWORD, now=T0) is None
    assert no_login_delay == [pytest.approx(users.FAILURE_SECONDS - 0.2)]


def test_parallel_guesses_get_no_more_checks_than_the_limit(db_url: str) -> None:
    """30 simultaneous wrong guesses: at most MAX_FAILURES are checked, then the account is
    locked and the right password is refused too."""
    from concurrent.futures import ThreadPoolExecutor

    from clearance.store.db import session_factory

    factory = session_factory(db_url)
    try:
        with factory() as s:
            users.add_user(s, "alice", PASSWORD, "attorney")

        def guess(i: int) -> bool:
            with factory() as s:
                return users.authenticate(s, "alice", f"wrong-{i}", now=T0) is None

        with ThreadPoolExecutor(max_workers=10) as pool:
            assert all(pool.map(guess, range(30)))
        with factory() as s:
            actions = [
                (e.action, e.details.get("reason"))
                for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            ]
            checked = [a for a in actions if a[1] == "wrong password" or a[0] == "login.locked"]
            assert len(checked) == users.MAX_FAILURES
            assert actions.count(("login.failed", "locked")) == 30 - users.MAX_FAILURES
            assert users.authenticate(s, "alice", PASSWORD, now=T0) is None
            user = users.get_user_by_name(s, "alice")
            assert user is not None and user.locked_until is not None
    finally:
        factory.kw["bind"].dispose()


def test_every_refusal_is_padded_to_the_same_time(
    session: Session, no_login_delay: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown name, wrong password, locked and disabled accounts all answer at
    FAILURE_SECONDS: the padding is what makes up the difference to it."""
    clock = iter(float(i) * 0.01 for i in range(10_000))
    monkeypatch.setattr(users.time, "monotonic", lambda: next(clock))
    users.add_user(session, "alice", PASSWORD, "attorney")
    users.add_user(session, "bob", PASSWORD, "viewer")
    users.disable_user(session, "bob")
    users.authenticate(session, "ghost", PASSWORD, now=T0)
    users.authenticate(session, "alice", "wrong", now=T0)
    users.authenticate(session, "bob", PASSWORD, now=T0)
    for _ in range(users.MAX_FAILURES):
        users.authenticate(session, "alice", "wrong", now=T0)
    assert len(no_login_delay) == 3 + users.MAX_FAILURES
    # Each call reads the clock twice, 0.01 s apart: every pad is the same.
    assert no_login_delay == [pytest.approx(users.FAILURE_SECONDS - 0.01)] * len(no_login_delay)


def test_admin_changes_end_sessions_and_unlock(session: Session) -> None:
    from clearance.store import sessions

    user = users.add_user(session, "alice", PASSWORD, "attorney")
    for change in (
        lambda: users.set_password(session, "alice", "another long password"),
        lambda: users.disable_user(session, "alice"),
        lambda: users.set_role(session, "alice", "viewer"),
    ):
        users.enable_user(session, "alice")
        token = sessions.start_session(session, user)
        assert sessions.session_user(session, token) is not None
        change()
        users.enable_user(session, "alice")
        assert sessions.session_user(session, token) is None
    for _ in range(users.MAX_FAILURES):
        users.authenticate(session, "alice", "wrong", now=T0)
    assert users.authenticate(session, "alice", "another long password", now=T0) is None
    users.unlock_user(session, "alice", actor="admin")
    assert users.authenticate(session, "alice", "another long password", now=T0) is not None
    assert {"user.role_set", "user.unlocked"} <= set(_actions(session))
    with pytest.raises(users.UserError):
        users.set_role(session, "alice", "superuser")
