"""Logging for the web app that cannot carry personal data.

URLs of this app hold identifiers (`/runs/3/people/<SUBJECT_ID>`) and query strings hold
filter values an attorney typed (a name, a case number). The server's own access log prints the
full request line, so it is switched off and replaced by one line per request with the method,
the *route template* (`/runs/{run_id}/people/{subject_id}`), the status and the time taken.
Errors are logged by type and route only: an exception's message can quote a value.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOG = logging.getLogger("clearance.web")


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn and the app: no access log, plain lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "clearance": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


def route_template(scope: Scope) -> str:
    """The matched route's path template, never the concrete path."""
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return "<no route>"


class RequestLog:
    """ASGI middleware: one log line per HTTP request without the path's values or the query.

    It also turns an unhandled error into a plain 500 logged by type and route: left to the
    server, the traceback would be printed with the exception's text, which can quote data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        started_response = False

        async def record_status(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started_response = True
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        except Exception as exc:
            status = 500
            LOG.error("unhandled %s on %s", type(exc).__name__, route_template(scope))
            if not started_response:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send(
                    {"type": "http.response.body", "body": b"Something went wrong on the server."}
                )
        finally:
            LOG.info(
                "%s %s %d %.0fms",
                scope.get("method", "?"),
                route_template(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )
