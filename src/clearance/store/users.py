"""The people who sign in: Argon2 password hashes, roles, and lock-out after repeated failures.

- Passwords are hashed with Argon2id (argon2-cffi defaults); a hash made with older parameters
  is replaced at the next successful sign-in.
- `MAX_FAILURES` failures in a row lock the account for `LOCK_MINUTES`: a guesser gets a
  handful of tries per quarter hour. The attempt is counted in the database before the password
  is checked, so parallel guesses cannot share a count.
- Every refusal takes `FAILURE_SECONDS` (an unknown or locked name hashes a dummy password), so
  timing does not tell which names exist or are locked; the audit log records failures against
  known users only, and never the password (a password typed into the name field must not end
  up in the log).
- Setting a password, disabling an account and changing its role end its sessions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import ROLES, User, utcnow
from clearance.store.sessions import end_user_sessions

__all__ = [
    "LOCK_MINUTES",
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "UserError",
    "add_user",
    "authenticate",
    "count_users",
    "disable_user",
    "enable_user",
    "get_user",
    "get_user_by_name",
    "list_users",
    "set_password",
    "set_role",
    "unlock_user",
]

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
#: Every refused sign-in answers after this many seconds, whatever the reason.
FAILURE_SECONDS = 1.5
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()

#: Slept after a failure; tests replace it to run without waiting.
sleep: Callable[[float], None] = time.sleep


class UserError(ValueError):
    """A user name, password or role that cannot be used; the message says why."""


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(
    session: Session, username: str, password: str, role: str, actor: str = "system"
) -> User:
    """Create a user (commits); the name is stored lower case."""
    name = normalize_username(username)
    if not _USERNAME.match(name):
        raise UserError(
            "a user name is 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    _check_password(password)
    if get_user_by_name(session, name) is not None:
        raise UserError(f"user {name!r} exists already")
    user = User(
        username=name,
        password_hash=_hasher.hash(password),
        role=role,
        disabled=False,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.added", f"user:{name}", {"role": role})
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id) if 0 < user_id < 2**63 else None


def get_user_by_name(session: Session, username: str) -> User | None:
    return session.execute(
        select(User).where(User.username == normalize_username(username))
    ).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def _require(session: Session, username: str) -> User:
    user = get_user_by_name(session, username)
    if user is None:
        raise UserError(f"no user {normalize_username(username)!r}")
    return user


def disable_user(session: Session, username: str, actor: str = "system") -> None:
    """Stop a user from signing in or reviewing (commits); their past reviews stay."""
    user = _require(session, username)
    user.disabled = True
    end_user_sessions(session, user.id)
    audit.append(session, actor, "user.disabled", f"user:{user.username}", {})
    session.commit()


def enable_user(session: Session, username: str, actor: str = "system") -> None:
    """Let a disabled or locked-out user sign in again (commits)."""
    user = _require(session, username)
    user.disabled = False
    user.failed_logins = 0
    user.locked_until = None
    audit.append(session, actor, "user.enabled", f"user:{user.username}", {})
    session.commit()


def set_password(session: Session, username: str, password: str, actor: str = "system") -> None:
    """Replace a user's password (commits) and clear a lock-out."""
    _check_password(password)
    user = _require(session, username)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    end_user_sessions(session, user.id)
    audit.append(session, actor, "user.password_set", f"user:{user.username}", {})
    session.commit()


def set_role(session: Session, username: str, role: str, actor: str = "system") -> None:
    """Change a user's role (commits); their sessions end, so the new role applies at once."""
    if role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    user = _require(session, username)
    previous = user.role
    user.role = role
    end_user_sessions(session, user.id)
    audit.append(
        session, actor, "user.role_set", f"user:{user.username}", {"from": previous, "to": role}
    )
    session.commit()


def unlock_user(session: Session, username: str, actor: str = "system") -> None:
    """Clear a lock-out and the failure count (commits)."""
    user = _require(session, username)
    user.failed_logins = 0
    user.locked_until = None
    audit.append(session, actor, "user.unlocked", f"user:{user.username}", {})
    session.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _claim_attempt(session: Session, user_id: int, moment: datetime) -> int | None:
    """Count one attempt against the account before its password is checked (commits).

    One UPDATE does the check and the count, so simultaneous guesses each take their own
    number and at most `MAX_FAILURES` of them are ever checked; a lock that has run out starts
    a fresh count. None when the account is locked (or its tries are all taken).
    """
    expired = and_(User.locked_until.is_not(None), User.locked_until <= moment)
    claimed = session.execute(
        update(User)
        .where(
            User.id == user_id,
            or_(and_(User.locked_until.is_(None), User.failed_logins < MAX_FAILURES), expired),
        )
        .values(
            failed_logins=case((expired, 1), else_=User.failed_logins + 1),
            locked_until=case((expired, None), else_=User.locked_until),
        )
        .returning(User.failed_logins)
    ).scalar_one_or_none()
    session.commit()
    return None if claimed is None else int(claimed)


def _attempt(session: Session, username: str, password: str, moment: datetime) -> User | None:
    user = get_user_by_name(session, username)
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    target = f"user:{user.username}"
    if user.disabled:
        _verify(_dummy_hash(), password)
        audit.append(session, "system", "login.failed", target, {"reason": "disabled"})
        session.commit()
        return None
    attempt = _claim_attempt(session, user.id, moment)
    if attempt is None:
        # Locked: the password is not checked (a dummy hash keeps the time the same).
        _verify(_dummy_hash(), password)
        audit.append(session, "system", "login.failed", target, {"reason": "locked"})
        session.commit()
        return None
    session.refresh(user)
    if not _verify(user.password_hash, password):
        if attempt >= MAX_FAILURES:
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(locked_until=moment + timedelta(minutes=LOCK_MINUTES))
            )
            audit.append(
                session,
                "system",
                "login.locked",
                target,
                {"failures": attempt, "minutes": LOCK_MINUTES},
            )
        else:
            audit.append(
                session,
                "system",
                "login.failed",
                target,
                {"reason": "wrong password", "failures": attempt},
            )
        session.commit()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    audit.append(session, user.username, "login.ok", target, {})
    session.commit()
    return user


def authenticate(
    session: Session, username: str, password: str, now: datetime | None = None
) -> User | None:
    """The user if the name and password match and the account may sign in, else None (commits).

    The attempt is counted before the password is checked, atomically in the database, so a
    burst of parallel guesses gets no more than `MAX_FAILURES` checks, and a locked account
    refuses even the right password. Every refusal (unknown name, wrong password, locked,
    disabled) takes the same time, `FAILURE_SECONDS`, so timing tells nothing about the name.
    """
    started = time.monotonic()
    user = _attempt(session, username, password, _aware(now))
    if user is None:
        sleep(max(0.0, FAILURE_SECONDS - (time.monotonic() - started)))
    return user


def count_users(session: Session) -> int:
    """How many users exist (none yet: the first must be added with `clearance users add`)."""
    return int(session.execute(select(func.count()).select_from(User)).scalar_one())
