"""Security of the web app: sign-in on every route, roles, CSRF, downloads, uploads, filters,
the audit page, the session cookie and the logs."""

from __future__ import annotations

import gzip
import logging
import re
import time
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, text
from web_client import post_run, run_id_of
from web_site import SAMPLE, DoneRun, Site, csrf_of, login, make_site, sample_with_arrest_in

from clearance.store.db import make_engine, session_factory
from clearance.store.models import Determination, Run
from clearance.store.runs import list_runs
from clearance.store.users import MAX_FAILURES
from clearance.web.files import resolve_download

#: Concrete values for path parameters when every route is called.
PARAMS = {
    "run_id": "1",
    "subject_id": "10000001",
    "relative": "summary.json",
    "determination_id": "1",
    "user_id": "1",
    "name": "statute",
    "check_id": "0" * 32,
    "index": "0",
    "number": "1",
}
#: The only routes that answer without a session: the sign-in form and its POST.
PUBLIC = {("GET", "/login"), ("POST", "/login")}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m.group(1)], path)


def api_routes(site: Site) -> list[tuple[str, str]]:
    found = [
        (method, route.path)
        for route in site.app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]
    assert len(found) >= 20, "the app's routes should all be listed in app.routes"
    return found


def test_every_route_refuses_anonymous_access(done_run: DoneRun) -> None:
    site = done_run.site
    anonymous = site.client()
    for method, path in api_routes(site):
        if (method, path) in PUBLIC:
            continue
        response = anonymous.request(method, concrete(path))
        if method == "GET":
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"] == "/login"
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)
        assert "summary" not in response.text and "MITCHELL" not in response.text
    # The only other thing served without a session is the stylesheet and htmx, no data.
    assert anonymous.get("/static/style.css").status_code == 200
    assert anonymous.get("/login").status_code == 200


def test_every_post_requires_the_csrf_token(done_run: DoneRun) -> None:
    site = done_run.site
    with site.client() as client:
        token = login(client, "admin")
        uploads_before = set((site.data_dir / "uploads").iterdir())
        posts = [path for method, path in api_routes(site) if method == "POST"]
        for path in posts:
            for headers in ({}, {"X-CSRF-Token": "forged", "HX-Request": "true"}):
                response = client.post(concrete(path), data={"x": "1"}, headers=headers)
                assert response.status_code == 403, (path, headers, response.status_code)
                response = client.post(
                    concrete(path), data={"csrf_token": token + "x"}, headers=headers
                )
                assert response.status_code == 403, (path, response.status_code)
        # The upload, which reads its own multipart body, refuses a file without a token too.
        with SAMPLE.open("rb") as handle:
            response = client.post(
                "/runs",
                data={"county": "Sacramento", "policy": "statute", "as_of": "2024-01-01"},
                files={"file": (SAMPLE.name, handle)},
            )
        assert response.status_code == 403
        assert set((site.data_dir / "uploads").iterdir()) == uploads_before
        # Still signed in: the refusals changed nothing.
        assert client.get("/").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "viewer",
            "password": "correct horse battery",
            "csrf_token": csrf_of(page.text),
        },
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_is_locked_after_repeated_failures(site: Site) -> None:
    client = site.client()
    for _ in range(MAX_FAILURES):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": "attorney", "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 401
        assert "Wrong username or password" in response.text
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "attorney",
            "password": "correct horse battery",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 401, "the right password must not open a locked account"


def _first_count(site: Site, run_id: int) -> Determination:
    with session_factory(site.url)() as db:
        row = db.execute(
            select(Determination)
            .where(Determination.run_id == run_id, Determination.decision == "reduce")
            .order_by(Determination.id)
            .limit(1)
        ).scalar_one()
        return row


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_attorneys_and_admins_can_override(done_run: DoneRun, role: str) -> None:
    site, run_id = done_run.site, done_run.run_id
    row = _first_count(site, run_id)
    with site.client() as client:
        token = login(client, role)
        page = client.get(f"/runs/{run_id}/people/{row.subject_id}")
        assert page.status_code == 200
        assert 'class="reviewbox"' not in page.text, "no review form for this role"
        assert 'name="determination"' not in page.text, "no reset form either"
        override = {"action": "override", "decision": "dismiss", "note": "not allowed"}
        response = client.post(
            f"/runs/{run_id}/counts/{row.id}/review", data={"csrf_token": token, **override}
        )
        assert response.status_code == 403
        for action in ("override", "reset"):
            on_page = client.post(
                f"/runs/{run_id}/people/{row.subject_id}",
                data={"csrf_token": token, **override, "action": action,
                      "determination": str(row.id)},
            )  # fmt: skip
            assert on_page.status_code == 403
        bulk = client.post(f"/runs/{run_id}/review/accept", data={"csrf_token": token})
        assert bulk.status_code == 403
    assert _first_count(site, run_id).review_status == row.review_status


def test_override_needs_a_note(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    row = _first_count(site, run_id)
    with site.client() as client:
        token = login(client, "attorney")
        response = client.post(
            f"/runs/{run_id}/counts/{row.id}/review",
            data={"csrf_token": token, "action": "override", "decision": "dismiss", "note": " "},
        )
        assert response.status_code == 400
        assert "needs a note" in response.text
    assert _first_count(site, run_id).review_status == row.review_status


def test_downloads_refuse_path_tricks(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    run_dir = site.data_dir / "runs" / str(run_id)
    outside = site.data_dir / "clearance.db"
    (run_dir / "escape.csv").symlink_to(outside)
    (run_dir / "record" / "up").symlink_to(site.data_dir)
    with site.client() as client:
        login(client, "viewer")
        base = f"/runs/{run_id}/files/"
        summary = client.get(base + "summary.json")
        assert summary.status_code == 200
        assert summary.headers["content-disposition"].startswith("attachment")
        assert "sandbox" in summary.headers["content-security-policy"]
        assert client.get(base + "record/policy.yaml").status_code == 200
        for attempt in (
            "%2E%2E/%2E%2E/clearance.db",
            "..%2F..%2Fclearance.db",
            "record/%2E%2E/%2E%2E/%2E%2E/clearance.db",
            "%2Fetc%2Fpasswd",
            "/etc/passwd",
            "escape.csv",
            "record/up/clearance.db",
            "..%5C..%5Cclearance.db",
            "summary.json%00.txt",
            "record",
            "",
        ):
            response = client.get(base + attempt)
            assert response.status_code in (404, 303, 307), (attempt, response.status_code)
            assert b"SQLite format" not in response.content
            assert b"root:" not in response.content
        listing = client.get(f"/runs/{run_id}/files").text
        assert "escape.csv" not in listing and "record/up" not in listing
    # The function itself, for names a URL cannot carry.
    for name in ("../x", "/etc/passwd", "a/../../x", "a\\..\\x", "a\x00b", ".", "", "a//b"):
        assert resolve_download(run_dir, name) is None, name


def _post_upload(client: TestClient, name: str, content: bytes, token: str) -> Response:
    return client.post(
        "/runs",
        data={
            "csrf_token": token,
            "county": "Sacramento",
            "policy": "statute",
            "as_of": "2024-01-01",
        },
        files={"file": (name, content, "application/octet-stream")},
    )


#: Uploads that are not DOJ bulk files, and the words the refusal must use.
NOT_DOJ = (
    ("extract.dat", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", "is a PDF"),
    (
        "extract.csv",
        b"a,b,c,d,e,f,g,h,i,j\n" + b"1,2,3,4,5,6,7,8,9,10\n" * 50,
        "rows have 10 fields",
    ),
    ("extract.dat.gz", gzip.compress(b"PK\x03\x04 zipped office file"), "ZIP"),
    ("broken.dat.gz", b"\x1f\x8b\x08\x00 not really gzip", "cannot be read"),
    ("motion.pdf", b"%PDF-1.7\n", ".dat or .csv"),
    ("empty.dat", b"", "Not a DOJ bulk file"),
)


def test_non_doj_upload_is_refused_and_nothing_stored(site: Site) -> None:
    with site.client() as client:
        token = login(client, "analyst")
        for name, content, message in NOT_DOJ:
            response = _post_upload(client, name, content, token)
            assert response.status_code == 400, name
            assert message in response.text, name
            assert "nothing was stored" in response.text.lower(), name
            assert list((site.data_dir / "uploads").iterdir()) == [], name
    with session_factory(site.url)() as db:
        assert list_runs(db) == []


def test_upload_over_the_limit_is_refused(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template, max_upload_bytes=100_000)
    with site.client() as client:
        token = login(client, "analyst")
        response = _post_upload(client, SAMPLE.name, SAMPLE.read_bytes(), token)
        assert response.status_code == 413
        assert "upload limit" in response.text
    assert list((site.data_dir / "uploads").iterdir()) == []


SQL_LIKE = (
    "' OR '1'='1",
    "dismiss' OR 1=1 --",
    "1; DROP TABLE determinations; --",
    '" OR ""="',
    "%",
    "_",
    "review_status",
)


def test_sql_like_filter_values_match_nothing(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    with site.client() as client:
        login(client, "viewer")
        url = f"/runs/{run_id}/review"
        everything = client.get(url)
        total = int(re.search(r'id="total">([\d,]+)<', everything.text).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert total == 677
        for value in SQL_LIKE:
            for name in ("decision", "reason", "section", "court", "status"):
                response = client.get(url, params={name: value})
                assert response.status_code == 200, (name, value)
                assert 'id="total">0<' in response.text, (name, value)
            for name in ("sort", "page", "desc"):
                response = client.get(url, params={name: value})
                assert response.status_code == 200, (name, value)
                assert f'id="total">{total:,}<' in response.text
        assert f'id="total">{total:,}<' in client.get(url).text


def test_bulk_accept_by_filter_over_htmx(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    with site.client() as client:
        token = login(client, "attorney")
        queue = client.get(
            f"/runs/{run_id}/review",
            params={"reason": "two_priors_unsettled", "status": "pending"},
        )
        pending = int(re.search(r'id="total">([\d,]+)<', queue.text).group(1))  # type: ignore[union-attr]
        assert pending > 0
        response = client.post(
            f"/runs/{run_id}/review/accept",
            data={"reason": "two_priors_unsettled"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert response.status_code == 200
        assert f"Accepted {pending:,} pending" in response.text
        assert "<html" not in response.text, "an HTMX request gets the fragment only"
        after = client.get(
            f"/runs/{run_id}/review",
            params={"reason": "two_priors_unsettled", "status": "pending"},
        )
        assert 'id="total">0<' in after.text


def test_tampered_audit_row_is_shown_on_the_audit_page(site: Site) -> None:
    with site.client() as client:
        login(client, "admin")
        page = client.get("/audit")
        assert "Chain verified" in page.text
        engine = make_engine(site.url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
        engine.dispose()
        page = client.get("/audit")
        assert page.status_code == 200
        assert "Tampering detected" in page.text
        assert "entry #2" in page.text
        # Only admins see the log.
        login(client, "attorney")
        assert client.get("/audit").status_code == 403


def test_policy_errors_are_shown_next_to_their_line(done_run: DoneRun) -> None:
    site = done_run.site
    text_ok = (
        "name: test-county-2024\ntitle: Test County\nsource: a memo\n"
        "additional_dismissal:\n  age_at_least: 50\n"
    )
    bad = text_ok.replace("age_at_least: 50", "age_at_least: 500")
    with site.client() as client:
        token = login(client, "attorney")
        response = client.post("/policies", data={"csrf_token": token, "text": bad})
        assert response.status_code == 400
        marked = re.search(
            r'<div class="ln bad" id="bad-line"><span class="no">(\d+)</span>', response.text
        )
        assert marked and marked.group(1) == "5"
        assert "line-message" in response.text and "age_at_least" in response.text
        response = client.post(
            "/policies",
            data={"csrf_token": token, "text": bad.replace("test-county-2024", "statute")},
        )
        assert response.status_code == 400
        response = client.post("/policies", data={"csrf_token": token, "text": text_ok})
        assert response.status_code == 303
        assert "test-county-2024" in client.get("/policies").text
        assert 'value="test-county-2024"' in client.get("/runs/new").text
        # A viewer can read policies but not write them.
        token = login(client, "viewer")
        assert client.get("/policies/test-county-2024").status_code == 200
        assert (
            client.post("/policies", data={"csrf_token": token, "text": text_ok}).status_code == 403
        )


def test_request_log_has_route_templates_not_values(
    done_run: DoneRun, caplog: pytest.LogCaptureFixture
) -> None:
    site, run_id = done_run.site, done_run.run_id
    row = _first_count(site, run_id)
    with site.client() as client, caplog.at_level(logging.INFO, logger="clearance"):
        login(client, "viewer")
        client.get(f"/runs/{run_id}/people/{row.subject_id}", params={"q": "MITCHELL"})
        client.get(f"/runs/{run_id}/review", params={"court": str(row.court_case_number)})
    logged = caplog.text
    assert "GET /runs/{run_id}/people/{subject_id} 200" in logged
    assert row.subject_id not in logged
    assert "MITCHELL" not in logged and "court=" not in logged
    assert str(row.court_case_number) not in logged


def test_run_failures_are_reported_without_data(done_run: DoneRun, tmp_path: Path) -> None:
    site = done_run.site
    # The file names Alpine (an arrest there), so it passes the upload's county check, but it
    # holds no conviction there: the run itself fails.
    alpine = sample_with_arrest_in(tmp_path, "ALPINE")
    with site.client() as client:
        token = login(client, "analyst")
        run_id = run_id_of(post_run(client, token, alpine, county="Alpine"))
        for _ in range(150):
            with session_factory(site.url)() as db:
                run = db.get(Run, run_id)
                assert run is not None
                if run.status in ("done", "failed"):
                    break
            time.sleep(0.1)
        page = client.get(f"/runs/{run_id}")
        assert run.status == "failed", run.status
        assert "The run failed" in page.text and "ALPINE" in page.text
        assert "uploaded file was deleted" in page.text
    uploads = site.data_dir / "uploads"
    assert list(uploads.iterdir()) == [], "no upload is kept after a run, done or failed"


def test_disabling_a_user_ends_their_session(site: Site) -> None:
    viewer = site.client()
    login(viewer, "viewer")
    assert viewer.get("/").status_code == 200
    with site.client() as admin:
        token = login(admin, "admin")
        users_page = admin.get("/users").text
        viewer_id = re.search(r"<td>viewer</td>.*?/users/(\d+)/disable", users_page, re.S)
        assert viewer_id
        response = admin.post(f"/users/{viewer_id.group(1)}/disable", data={"csrf_token": token})
        assert response.status_code == 303
    response = viewer.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_an_unexpected_error_is_logged_by_type_only(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise ValueError("MITCHELL,SCOTT K 1975-08-20")

    site.app.add_api_route("/broken", broken)
    with caplog.at_level(logging.INFO, logger="clearance"):
        response = site.client().get("/broken")
    assert response.status_code == 500
    assert "MITCHELL" not in response.text
    assert "unhandled ValueError on /broken" in caplog.text
    assert "MITCHELL" not in caplog.text and "1975" not in caplog.text
