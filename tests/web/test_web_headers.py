"""Headers on every response and status code, private data files, and ids too large to be
row ids (404, never 500)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient
from web_site import DoneRun, Site, login, make_site

from clearance.web.headers import HSTS, SECURITY_HEADERS

HUGE = str(2**63)
HUGER = "9" * 40


def _check(response_headers: object, what: str) -> None:
    headers = response_headers
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"):
        assert name in headers, f"{name} missing on {what}"  # type: ignore[operator]


def test_headers_on_every_status_code(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    broken = APIRouter()

    @broken.get("/__broken")
    def fail() -> None:
        raise RuntimeError("boom")

    site.app.include_router(broken)
    client = TestClient(site.app, follow_redirects=False, raise_server_exceptions=False)
    responses = {
        "login page 200": client.get("/login"),
        "anonymous redirect 303": client.get("/"),
        "htmx 401": client.get("/", headers={"HX-Request": "true"}),
        "static file": client.get("/static/style.css"),
        "missing static 404": client.get("/static/nothing.css"),
        "unknown route 404": client.get("/no/such/page"),
        "500": client.get("/__broken"),
    }
    login(client, "viewer")
    responses |= {
        "403": client.get("/users"),
        "404 run": client.get("/runs/999999"),
        "download": client.get(f"/runs/{run_id}/files/summary.json"),
        "bad field 422": client.get(f"/runs/{run_id}/people/x/y/z"),
    }
    assert responses["500"].status_code == 500
    assert responses["403"].status_code == 403
    for what, response in responses.items():
        _check(response.headers, what)
        assert "Strict-Transport-Security" not in response.headers, "plain HTTP: no HSTS"
    assert responses["download"].headers["Content-Security-Policy"] == (
        "default-src 'none'; sandbox"
    ), "a download keeps its own, stricter policy"


def test_hsts_and_secure_cookie_over_https(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template, secure_cookies=True)
    client = TestClient(site.app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    assert page.headers["Strict-Transport-Security"] == HSTS
    assert client.get("/").headers["Strict-Transport-Security"] == HSTS
    login(client, "viewer")
    assert {h.lower() for h in SECURITY_HEADERS} <= set(client.get("/").headers)


def test_ids_too_large_are_not_found(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    with site.client() as client:
        token = login(client, "admin")
        for path in (
            f"/runs/{HUGE}",
            f"/runs/{HUGER}",
            f"/runs/{HUGE}/files",
            f"/runs/{HUGE}/review",
            f"/runs/{HUGE}/status",
            f"/runs/{HUGE}/policy",
            f"/runs/{HUGE}/files/summary.json",
            "/runs/-1",
        ):
            assert client.get(path).status_code == 404, path
        for path in (
            f"/runs/{run_id}/counts/{HUGE}/review",
            f"/runs/{HUGE}/counts/1/review",
            f"/users/{HUGE}/unlock",
        ):
            response = client.post(path, data={"csrf_token": token, "action": "accept"})
            assert response.status_code == 404, path


def test_data_files_are_private(done_run: DoneRun) -> None:
    data = done_run.site.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    found = 0
    for path in data.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(data)} is {oct(mode)}"
        found += 1
    assert found > 10


def test_no_server_path_in_errors(site: Site) -> None:
    with site.client() as client:
        login(client, "analyst")
        for path in ("/runs/1", "/runs/1/files/../../etc/passwd", "/policies/nothing"):
            response = client.get(path)
            assert str(site.data_dir) not in response.text
            assert str(Path.cwd()) not in response.text and "/tmp/" not in response.text


def test_asset_links_are_relative_to_the_site(done_run: DoneRun) -> None:
    """Stylesheets, scripts and the icon are linked by path, not by an absolute URL built from
    the Host header of the request (behind a proxy that would point elsewhere)."""
    client = TestClient(done_run.site.app, follow_redirects=False, base_url="http://elsewhere")
    pages = {"/login": client.get("/login").text}
    login(client, "admin")
    for path in ("/", f"/runs/{done_run.run_id}/review", "/policies/new"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    for path, page in pages.items():
        links = re.findall(r'(?:href|src)="([^"]*/static/[^"]*)"', page)
        assert links, f"{path}: no asset links found"
        assert all(link.startswith("/static/") for link in links), (path, links)
