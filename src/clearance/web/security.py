"""Who is asking and whether they may: the session, roles and the CSRF token.

The cookie is Starlette's signed cookie (itsdangerous, HttpOnly, SameSite=Lax); it holds only a
random session token and the CSRF token, never anything from the data. The session itself is a
row of the store (`clearance.store.sessions`), looked up on every request: logout, a password
change, disabling an account or changing its role delete it, so a copied cookie stops working
at once, and idle and absolute timeouts end it on the server whatever the cookie says.

Every state-changing request (POST) must carry the session's CSRF token, either as the
`csrf_token` form field or, for HTMX requests, in the `X-CSRF-Token` header that the page sets
for all of them. SameSite=Lax already keeps other sites' forms from carrying the cookie; the
token also covers same-site pages and browsers that ignore SameSite.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from clearance.store.models import User
from clearance.store.sessions import end_session, session_user, start_session

SESSION_ID = "sid"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Who may do what. Reading (dashboards, queue, person pages, downloads) is every role.
CAN_RUN = frozenset({"admin", "attorney", "analyst"})
CAN_REVIEW = frozenset({"admin", "attorney"})
CAN_EDIT_POLICY = frozenset({"admin", "attorney"})
CAN_ADMINISTER = frozenset({"admin"})
#: Who may download files that carry every column of the DOJ file (results.csv: SSN, driver's
#: licence, FBI numbers). Viewers read decisions, not identifiers.
CAN_SEE_FULL_RECORDS = frozenset({"admin", "attorney", "analyst"})

CSRF_REFUSED = (
    "This form has expired or did not come from this site. Reload the page and try again."
)


class LoginRequired(Exception):
    """No valid session: the app answers with the login page (or 401 for HTMX and POSTs)."""


def secret_key(data_dir: Path) -> str:
    """The cookie-signing key, made once per data folder and kept private to its owner.

    Kept on disk so that restarting the server does not log everyone out; a new data folder
    gets a new key, so sessions never cross installations.
    """
    path = data_dir / "session.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (the login page gets one too)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def token_matches(request: Request, sent: object) -> bool:
    """Constant-time check of a sent token against the session's."""
    expected = request.session.get(SESSION_CSRF)
    return (
        isinstance(expected, str)
        and bool(expected)
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


async def verify_csrf(request: Request) -> None:
    """Refuse (403) an unsafe request without the session's token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = form.get(CSRF_FIELD)
    if not token_matches(request, sent):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.sessions() as session:
        yield session


def current_user(request: Request, db: Session = Depends(get_db)) -> User:
    """The user of a live server-side session, or LoginRequired."""
    token = request.session.get(SESSION_ID)
    if not isinstance(token, str):
        raise LoginRequired
    user = session_user(db, token)
    if user is None:
        request.session.clear()
        raise LoginRequired
    return user


def signed_in(request: Request, db: Session) -> bool:
    """Whether the request carries a live session (the login page sends those home)."""
    token = request.session.get(SESSION_ID)
    return isinstance(token, str) and session_user(db, token) is not None


def require(roles: frozenset[str], what: str) -> Callable[[User], User]:
    """A dependency that lets only `roles` through; others get 403 saying what was refused."""

    def check(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            raise HTTPException(
                status_code=403,
                detail=f"Your role ({user.role}) cannot {what}. Ask an administrator.",
            )
        return user

    return check


def sign_in(request: Request, db: Session, user: User) -> None:
    """Start a fresh session for `user` (a new token and CSRF token: no fixation)."""
    request.session.clear()
    request.session[SESSION_ID] = start_session(db, user)
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request, db: Session) -> None:
    """End the session on the server and forget the cookie."""
    token = request.session.get(SESSION_ID)
    if isinstance(token, str):
        end_session(db, token)
    request.session.clear()
