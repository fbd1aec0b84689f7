"""The review workspace as a FastAPI app: `create_app(database_url, data_dir)`.

Pages are rendered on the server (Jinja2) and made live with HTMX where it helps (the run's
progress, the review queue's filters and paging); there is no front-end build. Every route but
the login page and the static files requires a signed-in user (`current_user`), and every POST a
CSRF token (`verify_csrf`); a test enumerates `app.routes` to hold both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from clearance.store.db import session_factory
from clearance.web import (
    routes_admin,
    routes_auth,
    routes_check,
    routes_federal,
    routes_policies,
    routes_reconcile,
    routes_review,
    routes_runs,
)
from clearance.web.jobs import RunJobs
from clearance.web.logs import RequestLog
from clearance.web.pages import STATIC_DIR, render
from clearance.web.security import LoginRequired, secret_key
from clearance.web.uploads import DEFAULT_MAX_UPLOAD_BYTES

#: How long a session lasts without signing in again.
SESSION_SECONDS = 8 * 60 * 60


@dataclass(frozen=True)
class WebConfig:
    """What the app was started with."""

    database_url: str
    data_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    secure_cookies: bool = False

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Copy a module's routes onto the app itself, so `app.routes` lists every route flat.

    (Recent FastAPI versions keep included routers as nested entries; the security tests walk
    `app.routes` to prove every route refuses anonymous access, so they must all be there.)
    """
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            dependencies=route.dependencies,
            name=route.name,
            include_in_schema=False,
        )


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "HX-Request" not in request.headers


def create_app(
    database_url: str,
    data_dir: Path,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    secure_cookies: bool = False,
) -> FastAPI:
    """The web app on `database_url` (migrated on start), keeping files under `data_dir`.

    `secure_cookies` adds the Secure flag to the session cookie: set it when the app is served
    over HTTPS (behind a proxy); the default serves plain HTTP on localhost.
    """
    data_dir = data_dir.resolve()
    config = WebConfig(database_url, data_dir, max_upload_bytes, secure_cookies)
    for folder in (config.uploads_dir, config.runs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    sessions = session_factory(database_url)
    jobs = RunJobs(sessions, config.runs_dir, config.uploads_dir)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.recover()
        yield
        jobs.shutdown()

    app = FastAPI(
        title="clearance",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.sessions = sessions
    app.state.jobs = jobs

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(data_dir),
        session_cookie="clearance_session",
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(RequestLog)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        routes_auth,
        routes_runs,
        routes_review,
        routes_policies,
        routes_admin,
        routes_check,
        routes_federal,
        routes_reconcile,
    ):
        _add_routes(app, module.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        if _wants_html(request):
            return RedirectResponse("/login", status_code=303)
        return PlainTextResponse(
            "Sign in first.", status_code=401, headers={"HX-Redirect": "/login"}
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        if "HX-Request" in request.headers:
            return PlainTextResponse(message, status_code=exc.status_code)
        headings = {403: "Not allowed", 404: "Not found", 413: "Too large"}
        return render(
            request,
            "error.html",
            None,
            status_code=exc.status_code,
            heading=headings.get(exc.status_code, "Request refused"),
            message=message,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, _: RequestValidationError) -> Response:
        return PlainTextResponse("The request's fields are not valid.", status_code=422)

    return app
