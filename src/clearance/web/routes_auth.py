"""Signing in and out.

The login form is the only page (with the static files) that answers without a session; it
still carries a CSRF token, so another site cannot sign a browser into an account of its
choosing. Slowing and locking after failures, and auditing them, are the store's
(`authenticate`); the page says the same thing for a wrong password, an unknown name and a
locked account, so it tells a guesser nothing.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import User
from clearance.store.users import LOCK_MINUTES, MAX_FAILURES, authenticate
from clearance.web.limits import TOO_MANY, LoginLimits
from clearance.web.pages import render
from clearance.web.security import (
    current_user,
    get_db,
    sign_in,
    sign_out,
    signed_in,
    verify_csrf,
)

router = APIRouter()
LOG = logging.getLogger("clearance.web.auth")

LOGIN_FAILED = (
    f"Wrong username or password. After {MAX_FAILURES} failures in a row the account is "
    f"locked for {LOCK_MINUTES} minutes."
)


@router.get("/login")
def login_page(request: Request, db: Session = Depends(get_db)) -> Response:
    """The sign-in form (signed-in users go straight to the runs)."""
    if signed_in(request, db):
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", None)


@router.post("/login", dependencies=[Depends(verify_csrf)])
async def login(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    db: Session = Depends(get_db),
) -> Response:
    """Check the password and start a session; refusals all take the same time."""
    limits: LoginLimits = request.app.state.login_limits
    address = request.client.host if request.client else "unknown"
    if limits.blocked(address, username):
        LOG.warning("sign-in refused: too many attempts")
        return render(request, "login.html", None, status_code=429, error=TOO_MANY)
    user = await run_in_threadpool(authenticate, db, username, password)
    if user is None:
        limits.failed(address, username)
        return render(request, "login.html", None, status_code=401, error=LOGIN_FAILED)
    sign_in(request, db, user)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(
    request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)
) -> Response:
    """End the session."""
    audit.append(db, user.username, "logout", f"user:{user.username}", {})
    db.commit()
    sign_out(request, db)
    return RedirectResponse("/login", status_code=303)
