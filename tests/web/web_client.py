"""Signing in and starting a run through the workspace's own forms, as a browser does: the
helpers the web tests (through web_site) and the load benchmark (bench/web.py) share.

Any httpx-style client works: FastAPI's TestClient on the app, or an httpx.Client on a served
one. Nothing here needs pytest, so the benchmark imports it as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: The filing details of a build (the sample county's court), as an attorney fills them in.
FILING = {
    "office": "Office of the District Attorney",
    "signer": "Alex Attorney",
    "bar_number": "123456",
    "office_address": "901 G Street, Sacramento, CA 95814",
    "phone": "(916) 555-0100",
    "email": "alex.attorney@example.org",
    "court_name": "Superior Court of California, County of Sacramento",
    "court_address": "720 Ninth Street, Sacramento, CA 95814",
    "policy_authority_serving": "pc1385",
    "policy_authority_completed": "pc1203.4",
}


class Refused(RuntimeError):
    """The workspace did not accept a form that should have been accepted."""


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not found:
        raise Refused("the page has no CSRF token")
    return found.group(1)


def sign_in(client: Any, username: str, password: str) -> str:
    """Sign in through the form (any earlier session forgotten); the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    if response.status_code != 303:
        raise Refused(f"sign-in of {username} refused ({response.status_code}): {response.text}")
    return csrf_of(client.get("/").text)


def post_run(
    client: Any,
    token: str,
    source: Path | tuple[str, bytes],
    *,
    county: str = "Sacramento",
    policy: str = "statute",
    as_of: str = "2024-01-01",
) -> Any:
    """Post the upload form with a file (a path, streamed, or a name and its bytes); the
    response, a redirect to the new run when the upload is accepted."""
    data = {"csrf_token": token, "county": county, "policy": policy, "as_of": as_of}
    if isinstance(source, Path):
        with source.open("rb") as handle:
            files = {"file": (source.name, handle, "application/octet-stream")}
            return client.post("/runs", data=data, files=files)
    name, content = source
    return client.post(
        "/runs", data=data, files={"file": (name, content, "application/octet-stream")}
    )


def run_id_of(response: Any) -> int:
    """The id of the run an accepted upload started (Refused when it was not accepted)."""
    if response.status_code != 303:
        raise Refused(f"upload refused ({response.status_code}): {response.text[:300]}")
    return int(response.headers["location"].rsplit("/", 1)[-1])
