"""Server-side sessions of the review workspace, so that a session can be ended.

A signed cookie alone cannot be revoked: a copy of it keeps working until it expires. Here the
cookie holds only a random token; the table `web_sessions` holds its SHA-256 with the user and
two times. A request is signed in only while its row exists and neither timeout has passed:

- `IDLE` without a request ends the session;
- `ABSOLUTE` after sign-in ends it whatever the activity.

Logout deletes the row; `end_user_sessions` deletes every row of a user, and the store calls it
when a password is set, an account disabled or its role changed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from clearance.store.models import User, WebSession, utcnow

__all__ = [
    "ABSOLUTE",
    "IDLE",
    "end_session",
    "end_user_sessions",
    "session_user",
    "start_session",
]

#: Without a request for this long, a session ends.
IDLE = timedelta(minutes=60)
#: However active, a session ends this long after sign-in.
ABSOLUTE = timedelta(hours=8)
#: The last-seen time is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Session, user: User, now: datetime | None = None) -> str:
    """A new session for `user` (commits); returns the token for the cookie."""
    moment = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.add(WebSession(id=_key(token), user_id=user.id, created_at=moment, last_seen_at=moment))
    db.commit()
    return token


def session_user(db: Session, token: str, now: datetime | None = None) -> User | None:
    """The enabled user of a live session, or None (an expired session's row is deleted)."""
    if not token or len(token) > 200:
        return None
    moment = now or utcnow()
    row = db.get(WebSession, _key(token))
    if row is None:
        return None
    if row.created_at + ABSOLUTE <= moment or row.last_seen_at + IDLE <= moment:
        db.delete(row)
        db.commit()
        return None
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if moment - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = moment
        db.commit()
    return user


def end_session(db: Session, token: str) -> None:
    """End one session (commits); an unknown token is no error."""
    db.execute(delete(WebSession).where(WebSession.id == _key(token)))
    db.commit()


def end_user_sessions(db: Session, user_id: int) -> int:
    """Delete every session of a user (does not commit: part of the caller's change)."""
    result = db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
