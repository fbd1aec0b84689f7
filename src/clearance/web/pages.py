"""Rendering pages: one Jinja2 environment, and the context every page needs.

Templates are package data (`clearance/web/templates`), found through importlib.resources so an
installed wheel renders like a checkout. Autoescaping is on for every template: names, offense
texts and policy files are data, never markup.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clearance.store.models import User
from clearance.web.charts import DECISION_LABELS
from clearance.web.deletion import may_delete_run
from clearance.web.security import CAN_REVIEW, CAN_RUN, csrf_token

PACKAGE = resources.files("clearance.web")
TEMPLATES_DIR = Path(str(PACKAGE.joinpath("templates")))
STATIC_DIR = Path(str(PACKAGE.joinpath("static")))

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True
# Whether to offer "Delete this run" (the route checks again).
templates.env.globals["may_delete_run"] = may_delete_run

#: Extra response headers for every page: no framing, no caching of personal data, no referrer
#: (URLs carry identifiers), and scripts only from this server.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def render(
    request: Request,
    name: str,
    user: User | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with the user, their permissions, the CSRF token and the decision labels."""
    role = user.role if user is not None else ""
    base: dict[str, Any] = {
        "user": user,
        "csrf": csrf_token(request),
        "can_run": role in CAN_RUN,
        "can_review": role in CAN_REVIEW,
        "labels": DECISION_LABELS,
        "decisions": tuple(DECISION_LABELS),
    }
    base.update(context)
    return templates.TemplateResponse(
        request,
        name,
        base,
        status_code=status_code,
        headers={**PAGE_HEADERS, **(headers or {})},
    )
