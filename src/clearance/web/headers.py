"""Security headers on every response: pages, redirects, errors, static files and downloads.

The pages set their own headers when rendered, but a redirect, a 404 from the static files or a
plain-text error did not, so this ASGI middleware adds the missing ones to every response on
its way out. A header already set (a download's sandboxing Content-Security-Policy) is kept.
Over HTTPS (the default for `clearance serve`) it also sends HSTS, so a browser never falls back
to plain HTTP for this site.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Sent on every response unless the response set its own.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
#: One year, subdomains included: the workspace is served over HTTPS or on localhost only.
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """ASGI middleware that sets `SECURITY_HEADERS` (and HSTS when `https`) on every response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if https:
            self.headers["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers and not scope["path"].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
