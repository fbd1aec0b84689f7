"""The people who sign in: Argon2 password hashes, roles, and lock-out after repeated failures.

- Passwords are hashed with Argon2id (argon2-cffi defaults); a hash made with older parameters
  is replaced at the next successful sign-in.
- Each failure costs the caller an extra, growing delay, and `MAX_FAILURES` failures in a row
  lock the account for `LOCK_MINUTES`: a guesser gets a handful of tries per quarter hour.
- An unknown user name costs as much time as a wrong password, so timing does not tell which
  names exist; the audit log records failures against known users only, and never the password
  (a password typed into the name field must not end up in the log).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import ROLES, User, utcnow

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
]

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
#: Seconds added per consecutive failure, and the most one failure may cost.
DELAY_STEP = 0.25
DELAY_MAX = 2.0
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


def add_user(session: Session, username: str, password: str, role: str) -> User:
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
    audit.append(session, "system", "user.added", f"user:{name}", {"role": role})
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


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
    audit.append(session, actor, "user.password_set", f"user:{user.username}", {})
    session.commit()


def failure_delay(failures: int) -> float:
    """Seconds a failed sign-in waits: nothing for the first, then growing, capped."""
    return min(DELAY_MAX, DELAY_STEP * max(0, failures - 1))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, username: str, password: str, now: datetime | None = None
) -> User | None:
    """The user if the name and password match and the account may sign in, else None (commits).

    A locked account is refused without checking the password, so guesses during the lock tell
    nothing. The `MAX_FAILURES`-th failure in a row locks the account for `LOCK_MINUTES`.
    """
    moment = _aware(now)
    user = get_user_by_name(session, username)
    if user is None:
        _verify(_dummy_hash(), password)
        sleep(failure_delay(2))
        return None
    target = f"user:{user.username}"
    locked_until = user.locked_until
    if locked_until is not None and locked_until > moment:
        audit.append(session, "system", "login.failed", target, {"reason": "locked"})
        session.commit()
        sleep(DELAY_MAX)
        return None
    if locked_until is not None:
        # The lock has run out: a fresh set of tries.
        user.locked_until = None
        user.failed_logins = 0
    if user.disabled:
        _verify(_dummy_hash(), password)
        audit.append(session, "system", "login.failed", target, {"reason": "disabled"})
        session.commit()
        return None
    if not _verify(user.password_hash, password):
        # Counted in the database, so simultaneous guesses cannot share one failure.
        session.flush()
        failures = int(
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(failed_logins=User.failed_logins + 1)
                .returning(User.failed_logins)
            ).scalar_one()
        )
        if failures >= MAX_FAILURES:
            user.locked_until = moment + timedelta(minutes=LOCK_MINUTES)
            audit.append(
                session,
                "system",
                "login.locked",
                target,
                {"failures": failures, "minutes": LOCK_MINUTES},
            )
        else:
            audit.append(
                session,
                "system",
                "login.failed",
                target,
                {"reason": "wrong password", "failures": failures},
            )
        session.commit()
        sleep(failure_delay(failures))
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    audit.append(session, user.username, "login.ok", target, {})
    session.commit()
    return user


def count_users(session: Session) -> int:
    """How many users exist (none yet: the first must be added with `clearance users add`)."""
    return int(session.execute(select(func.count()).select_from(User)).scalar_one())
