"""The review workspace as a FastAPI app: `create_app(database_url, data_dir)`.

Pages are rendered on the server (Jinja2) and made live with HTMX where it helps (the run's
progress, the review queue's filters and paging); there is no front-end build. Every route but
the login page and the static files requires a signed-in user (`current_user`), and every POST a
CSRF token (`verify_csrf`); a test enumerates `app.routes` to hold both.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from clearance.store import audit
from clearance.store.db import session_factory
from clearance.store.sessions import session_user
from clearance.web import (
    routes_admin,
    routes_auth,
    routes_check,
    routes_delete,
    routes_federal,
    routes_files,
    routes_person,
    routes_policies,
    routes_policy_history,
    routes_reconcile,
    routes_review,
    routes_runs,
)
from clearance.web.builds import FilingsBuilds
from clearance.web.headers import SecurityHeaders
from clearance.web.jobs import DEFAULT_JOB_MEMORY_BYTES, RunJobs
from clearance.web.limits import LoginLimits
from clearance.web.logs import RequestLog, route_template
from clearance.web.pages import STATIC_DIR, render
from clearance.web.security import SESSION_ID, LoginRequired, secret_key
from clearance.web.slots import DEFAULT_JOBS, JobSlots
from clearance.web.uploads import DEFAULT_MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_UPLOAD_BYTES

#: How long a session lasts without signing in again.
SESSION_SECONDS = 8 * 60 * 60
#: Requests served at once (the thread pool that runs the routes, set when the app starts),
#: and database connections: one per request thread plus the job supervisors', so under load a
#: request waits for a thread, never for a connection (a pool of 15 timed out after 30 s
#: with 20 clients browsing during a run: 500s).
REQUEST_THREADS = 40
DB_CONNECTIONS = REQUEST_THREADS + 8


@dataclass(frozen=True)
class WebConfig:
    """What the app was started with."""

    database_url: str
    data_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    secure_cookies: bool = False
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    jobs: int = DEFAULT_JOBS
    job_memory_bytes: int = DEFAULT_JOB_MEMORY_BYTES

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


def _private_database(url: str) -> None:
    """A SQLite database made before this server (by a command, a copy) made private too."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    path = Path(parsed.database)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.is_file():
            candidate.chmod(0o600)


def audit_refusal(request: Request, sessions: sessionmaker[Session]) -> None:
    """Record a refused (403) request of a signed-in user: who, which route, which method.

    The route is its template (`/runs/{run_id}/files/{relative:path}`), so no value from the
    URL is written; refusals without a live session (a stale login form) are not recorded, so
    an anonymous client cannot fill the log.
    """
    token = request.session.get(SESSION_ID)
    if not isinstance(token, str):
        return
    with sessions() as db:
        user = session_user(db, token)
        if user is None:
            return
        audit.append(
            db,
            user.username,
            "access.refused",
            route_template(request.scope)[:128],
            {"method": request.method, "role": user.role},
        )
        db.commit()


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "HX-Request" not in request.headers


def create_app(
    database_url: str,
    data_dir: Path,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    secure_cookies: bool = False,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    jobs: int = DEFAULT_JOBS,
    job_memory_bytes: int = DEFAULT_JOB_MEMORY_BYTES,
) -> FastAPI:
    """The web app on `database_url` (migrated on start), keeping files under `data_dir`.

    `jobs` runs and filings builds go on at once, each a worker process that may use up to
    `job_memory_bytes`; the others wait, queued, for a free slot.

    `secure_cookies` adds the Secure flag to the session cookie and sends HSTS: the app is then
    served over HTTPS (behind a proxy); `clearance serve` sets it unless `--insecure-http`
    (plain HTTP on this machine only).
    """
    data_dir = data_dir.resolve()
    config = WebConfig(
        database_url,
        data_dir,
        max_upload_bytes,
        secure_cookies,
        max_decompressed_bytes,
        jobs,
        job_memory_bytes,
    )
    # Everything the workspace writes is personal data: files 0600, folders 0700, whoever
    # writes them (the reader, Polars, the filings, SQLite).
    os.umask(0o077)
    for folder in (data_dir, config.uploads_dir, config.runs_dir):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    sessions = session_factory(database_url, DB_CONNECTIONS)
    _private_database(database_url)
    # Runs and filings builds take turns in the same slots: the machine's cores and memory
    # bound how many jobs go on at once, whatever their kind.
    slots = JobSlots(jobs)
    runs = RunJobs(
        sessions,
        database_url,
        config.runs_dir,
        config.uploads_dir,
        slots=slots,
        memory_bytes=job_memory_bytes,
    )
    builds = FilingsBuilds(sessions, database_url, slots=slots, memory_bytes=job_memory_bytes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        runs.recover()
        builds.recover(config.runs_dir)
        yield
        runs.shutdown()
        builds.shutdown()

    app = FastAPI(
        title="clearance",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.sessions = sessions
    app.state.slots = slots
    app.state.jobs = runs
    app.state.builds = builds
    app.state.login_limits = LoginLimits()

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(data_dir),
        session_cookie="clearance_session",
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(RequestLog)
    # Outermost: its headers reach every response, the RequestLog's plain 500 included.
    app.add_middleware(SecurityHeaders, https=secure_cookies)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        routes_auth,
        routes_runs,
        routes_files,
        routes_delete,
        routes_review,
        routes_person,
        routes_policies,
        routes_policy_history,
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
        if exc.status_code == 403:
            await run_in_threadpool(audit_refusal, request, sessions)
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
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        # A path whose id is not a number (/runs/abc) names nothing: not found, like an id
        # too large to be a row. Bad form or query fields are the caller's error (422).
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in exc.errors()):
            return await http_error(request, HTTPException(404, "No such page."))
        return PlainTextResponse("The request's fields are not valid.", status_code=422)

    return app
