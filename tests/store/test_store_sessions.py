"""Server-side sessions: a token finds its user until logout or a timeout ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from store_helpers import PASSWORD

from clearance.store import sessions, users
from clearance.store.models import WebSession

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_a_session_lives_until_it_is_ended(session: Session) -> None:
    user = users.add_user(session, "alice", PASSWORD, "attorney")
    token = sessions.start_session(session, user, now=T0)
    found = sessions.session_user(session, token, now=T0 + timedelta(minutes=5))
    assert found is not None and found.id == user.id
    # Only the hash of the token is stored.
    stored = session.execute(select(WebSession.id)).scalar_one()
    assert token not in stored and len(stored) == 64
    assert sessions.session_user(session, token + "x", now=T0) is None
    sessions.end_session(session, token)
    assert sessions.session_user(session, token, now=T0) is None


def test_idle_and_absolute_timeouts(session: Session) -> None:
    user = users.add_user(session, "alice", PASSWORD, "attorney")
    idle = sessions.start_session(session, user, now=T0)
    just_before = T0 + sessions.IDLE - timedelta(seconds=1)
    assert sessions.session_user(session, idle, now=just_before) is not None
    # That request moved the idle clock on; a full idle period after it ends the session.
    assert sessions.session_user(session, idle, now=just_before + sessions.IDLE) is None

    busy = sessions.start_session(session, user, now=T0)
    moment = T0
    while moment + timedelta(minutes=30) < T0 + sessions.ABSOLUTE:
        moment += timedelta(minutes=30)
        assert sessions.session_user(session, busy, now=moment) is not None
    assert sessions.session_user(session, busy, now=T0 + sessions.ABSOLUTE) is None
    # Expired rows are deleted when met.
    count = session.execute(select(func.count()).select_from(WebSession)).scalar_one()
    assert count == 0


def test_a_disabled_user_has_no_session(session: Session) -> None:
    user = users.add_user(session, "alice", PASSWORD, "attorney")
    token = sessions.start_session(session, user, now=T0)
    users.disable_user(session, "alice")
    assert sessions.session_user(session, token, now=T0) is None
