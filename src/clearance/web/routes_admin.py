"""Administration: the audit log with its verification, and the users.

The audit page verifies the whole hash chain every time it is shown, so an edited, deleted or
reordered entry is reported on the page an administrator looks at, with the first bad entry
marked, not only by a command nobody runs.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from clearance.store.audit import entries, verify
from clearance.store.models import User, utcnow
from clearance.store.users import disable_user, get_user, list_users
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


@router.get("/users")
def users(
    request: Request, user: User = Depends(admin_only), db: Session = Depends(get_db)
) -> Response:
    """Every account, its role and whether it can sign in."""
    return render(request, "users.html", user, users=list_users(db), now=utcnow())


@router.post("/users/{user_id}/disable", dependencies=[Depends(verify_csrf)])
def disable(
    user_id: int, user: User = Depends(admin_only), db: Session = Depends(get_db)
) -> Response:
    """Disable an account; its sessions end at their next request."""
    target = get_user(db, user_id)
    if target is None:
        raise HTTPException(status_code=404, detail="No such user.")
    if target.id == user.id:
        raise HTTPException(status_code=400, detail="You cannot disable your own account.")
    disable_user(db, target.username, actor=user.username)
    return RedirectResponse("/users", status_code=303)
