"""Administration: the audit log with its verification, and the users.

The audit page verifies the whole hash chain every time it is shown, so an edited, deleted or
reordered entry is reported on the page an administrator looks at, with the first bad entry
marked, not only by a command nobody runs.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.store.audit import entries, verify
from clearance.store.models import ROLES, User, utcnow
from clearance.store.users import (
    MIN_PASSWORD_LENGTH,
    UserError,
    add_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    set_password,
    set_role,
    unlock_user,
)
from clearance.web.pages import render
from clearance.web.security import CAN_ADMINISTER, get_db, require, verify_csrf

router = APIRouter()

PER_PAGE = 100
admin_only = require(CAN_ADMINISTER, "see or change administration pages")


@router.get("/audit")
def audit_log(
    request: Request,
    page: str = "1",
    user: User = Depends(admin_only),
    db: Session = Depends(get_db),
) -> Response:
    """The log, newest first, with the result of verifying the whole chain."""
    number = int(page) if page.isdigit() and len(page) < 9 else 1
    number = max(1, number)
    rows, total = entries(db, number, PER_PAGE)
    return render(
        request,
        "audit.html",
        user,
        check=verify(db),
        rows=rows,
        page=number,
        has_more=number * PER_PAGE < total,
    )


def _users_page(
    request: Request,
    user: User,
    db: Session,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        user,
        status_code=status_code,
        users=list_users(db),
        now=utcnow(),
        roles=ROLES,
        min_password=MIN_PASSWORD_LENGTH,
        error=error,
        message=request.session.pop("flash", None) if error is None else None,
        form=form or {"role": "viewer"},
    )


@router.get("/users")
def users(
    request: Request, user: User = Depends(admin_only), db: Session = Depends(get_db)
) -> Response:
    """Every account, its role and state, with the forms that change them."""
    return _users_page(request, user, db)


def _target(db: Session, user_id: int) -> User:
    target = get_user(db, user_id)
    if target is None:
        raise HTTPException(status_code=404, detail="No such user.")
    return target


def _done(request: Request, message: str) -> Response:
    request.session["flash"] = message
    return RedirectResponse("/users", status_code=303)


@router.post("/users", dependencies=[Depends(verify_csrf)])
async def add(
    request: Request, user: User = Depends(admin_only), db: Session = Depends(get_db)
) -> Response:
    """Create an account with a first password the person changes by asking again."""
    form = await request.form()
    username = str(form.get("username") or "").strip()[:64]
    role = str(form.get("role") or "")
    password = str(form.get("password") or "")[:1000]
    try:
        created = await run_in_threadpool(add_user, db, username, password, role, user.username)
    except UserError as exc:
        return _users_page(
            request,
            user,
            db,
            error=f"The account was not added: {exc}.",
            status_code=400,
            form={"username": username, "role": role},
        )
    return _done(request, f"Added {created.username} ({created.role}).")


def _account_action(
    change: Callable[..., None], done: str, about: str, not_own: str | None = None
) -> Callable[..., Response]:
    """A route that applies one change to an account (`change(db, username, actor=...)`) and
    says so (`done`, with {name}); `not_own`: the refusal when it is the admin's own account."""

    def action(
        request: Request,
        user_id: int,
        user: User = Depends(admin_only),
        db: Session = Depends(get_db),
    ) -> Response:
        target = _target(db, user_id)
        if not_own is not None and target.id == user.id:
            raise HTTPException(status_code=400, detail=not_own)
        change(db, target.username, actor=user.username)
        return _done(request, done.format(name=target.username))

    action.__doc__ = about
    return action


#: The changes an account takes without any field: path, store function, what the page says,
#: what the route does, and the refusal for the admin's own account.
_ACCOUNT_ACTIONS: tuple[tuple[str, Callable[..., None], str, str, str | None], ...] = (
    ("disable", disable_user, "Disabled {name}; their sessions have ended.",
     "Disable an account; its sessions end at once.", "You cannot disable your own account."),
    ("enable", enable_user, "Enabled {name}.",
     "Let a disabled account sign in again (also clears a lock-out).", None),
    ("unlock", unlock_user, "Unlocked {name}.", "Clear a lock-out after repeated failures.", None),
)  # fmt: skip
for _path, _change, _done_text, _about, _not_own in _ACCOUNT_ACTIONS:
    router.add_api_route(
        f"/users/{{user_id}}/{_path}",
        _account_action(_change, _done_text, _about, _not_own),
        methods=["POST"],
        dependencies=[Depends(verify_csrf)],
        name=_path,
    )


def _refused(request: Request, user: User, db: Session, what: str, exc: UserError) -> Response:
    """The users page again, saying which change was refused and why."""
    return _users_page(request, user, db, error=f"{what}: {exc}.", status_code=400)


@router.post("/users/{user_id}/role", dependencies=[Depends(verify_csrf)])
async def change_role(
    request: Request,
    user_id: int,
    user: User = Depends(admin_only),
    db: Session = Depends(get_db),
) -> Response:
    """Change an account's role; its sessions end, so the new role applies at once."""
    target = _target(db, user_id)
    role = str((await request.form()).get("role") or "")
    if target.id == user.id:
        raise HTTPException(status_code=400, detail="You cannot change your own role.")
    try:
        set_role(db, target.username, role, actor=user.username)
    except UserError as exc:
        return _refused(request, user, db, "The role was not changed", exc)
    return _done(request, f"{target.username} is now {role}; their sessions have ended.")


@router.post("/users/{user_id}/password", dependencies=[Depends(verify_csrf)])
async def reset_password(
    request: Request,
    user_id: int,
    user: User = Depends(admin_only),
    db: Session = Depends(get_db),
) -> Response:
    """Set a new password for an account; its sessions end."""
    target = _target(db, user_id)
    password = str((await request.form()).get("password") or "")[:1000]
    try:
        await run_in_threadpool(set_password, db, target.username, password, user.username)
    except UserError as exc:
        return _refused(request, user, db, "The password was not set", exc)
    if target.id == user.id:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    return _done(request, f"Set a new password for {target.username}; their sessions have ended.")
