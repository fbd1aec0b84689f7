"""The findings of the workspace's security probe, replayed on the app as it is now.

Cookie replay after logout / password change / disable and the parallel login race are replayed
in test_web_sessions.py; the endless-line upload refused at the door in test_web_jobs.py. Here:
the same bomb reaching a job anyway (the job's own memory limit and line cap hold), formula
cells in the files people open, every download of a failed run, garbage and oversized ids on
every route, and the security headers on every status code the app answers with.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import shutil
import time
import zipfile
import zlib
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from test_web_security import PARAMS, api_routes
from web_client import post_run, run_id_of
from web_site import FILING, SAMPLE, DoneRun, Site, csrf_of, login, make_site, wait_build

from clearance.outputs.cells import FORMULA_STARTS
from clearance.store.models import Determination, Run
from clearance.store.runs import create_pending_run
from clearance.web.headers import SECURITY_HEADERS
from clearance.web.limits import PER_ACCOUNT
from clearance.web.policies import get_policy


def _wait(site: Site, run_id: int) -> Run:
    for _ in range(3000):
        with site.app.state.sessions() as db:
            run = db.get(Run, run_id)
            assert run is not None
            if run.status in ("done", "failed") and run_id not in site.app.state.jobs.running():
                return run
        time.sleep(0.1)
    raise AssertionError("the run did not end")


def _statute(site: Site) -> str:
    policy = get_policy(site.data_dir, "statute")
    assert policy is not None
    return policy.text


# H1: the memory bomb -------------------------------------------------------------------------


def _bomb(path: Path, endless: int) -> None:
    """The H1 file: valid rows of the sample, then `endless` bytes of 'A' without a newline,
    gzipped (compressed as it is written: the test never holds it whole)."""
    with gzip.open(SAMPLE, "rb") as handle:
        head = b"".join(handle.readline() for _ in range(400))
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    block = b"A" * (16 * 1024 * 1024)
    with path.open("wb") as out:
        out.write(packer.compress(head))
        for _ in range(endless // len(block)):
            out.write(packer.compress(block))
        out.write(packer.flush())


def test_a_bomb_that_reaches_a_job_is_held_by_the_job(tmp_path: Path, template: Path) -> None:
    """Past the upload check (which refuses it: test_web_jobs), the same file given straight to
    a job: 1 GiB on one line, under a job memory limit of 1.5 GB. The reader sets the line aside
    without ever holding it; the server never reads the file at all."""
    site = make_site(tmp_path / "data", template, job_memory_bytes=1536 * 1024 * 1024)
    uploads = site.data_dir / "uploads" / "bomb"
    bomb = uploads / "bomb.dat.gz"
    with site.client() as client:  # started: uploads left by an earlier server are gone
        uploads.mkdir()
        _bomb(bomb, 1024**3)
        assert bomb.stat().st_size < 2 * 1024 * 1024
        login(client, "analyst")
        with site.app.state.sessions() as db:
            pending = create_pending_run(
                db, "SACRAMENTO", "statute", _statute(site), date(2024, 1, 1), "analyst"
            )
        site.app.state.jobs.submit(pending.id, [bomb])
        run = _wait(site, pending.id)
        assert client.get("/").status_code == 200, "the server itself is untouched"
        if run.status == "failed":
            # The only acceptable failure is the job's limit, said plainly.
            assert run.error and "more memory than a job may use (1.5 GB)" in run.error
        else:
            quarantine = client.get(f"/runs/{run.id}/files/quarantine.csv")
            assert quarantine.status_code == 200
            assert "line longer than 1048576 bytes" in quarantine.text
            assert len(quarantine.content) < 1024 * 1024, "the line is not copied whole"
    assert not uploads.exists(), "the upload is deleted after the job"


# M3: formula cells ---------------------------------------------------------------------------

HOSTILE = ('=HYPERLINK("http://attacker.example/?x","CLICK")', "+SUM(1+1)", "-2+3", "@SUM(A1)")


def _hostile_sample() -> bytes:
    """The sample with every name replaced by one that a spreadsheet would run as a formula."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    name, subject = header.index("PRI_NAME"), header.index("SUBJECT_ID")
    for row in body:
        row[name] = HOSTILE[int(row[subject]) % len(HOSTILE)] + ",JANE"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return gzip.compress(out.getvalue().encode("utf-8"))


def _live_formulas(text: str) -> list[str]:
    table = csv.reader(io.StringIO(text))
    next(table)
    return [cell for row in table for cell in row if cell.startswith(FORMULA_STARTS)]


def test_formula_names_are_never_live_in_downloads(site: Site) -> None:
    with site.client() as client:
        token = login(client, "attorney")
        run_id = run_id_of(
            post_run(client, token, ("hostile.dat.gz", _hostile_sample()), policy="sacramento-2019")
        )
        assert _wait(site, run_id).status == "done"
        for name in ("convictions.csv", "people.csv"):
            download = client.get(f"/runs/{run_id}/files/{name}")
            assert download.status_code == 200, name
            assert _live_formulas(download.text) == [], name
            assert "'=HYPERLINK(" in download.text or "'+SUM" in download.text, name
        # The person page shows the name as text (escaped), not as markup or a formula.
        person = client.get(f"/runs/{run_id}/review").text
        assert "=HYPERLINK(&#34;" in person or "=HYPERLINK(&quot;" in person
        started = client.post(
            f"/runs/{run_id}/filings",
            data=FILING | {"csrf_token": token, "include_pending": "yes"},
        )
        assert started.status_code == 303
        assert "Built the reviewed outputs" in wait_build(client, run_id)
        reviewed = client.get(f"/runs/{run_id}/files/reviewed/convictions.csv")
        assert reviewed.status_code == 200 and _live_formulas(reviewed.text) == []
        workbook = client.get(f"/runs/{run_id}/files/filings/review.xlsx")
        assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(workbook.content)) as package:
        for sheet in [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]:
            assert b"<f>" not in package.read(sheet), sheet
    hostile = [
        cell
        for sheet in load_workbook(io.BytesIO(workbook.content))
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)
    ]
    assert hostile, "the names are in the workbook"
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in hostile)


# M4: downloads from a failed run -------------------------------------------------------------


def test_a_failed_run_gives_no_file_by_any_name(done_run: DoneRun, tmp_path: Path) -> None:
    """Every file a finished run has, asked of a failed run whose folder was left behind
    (as a crash would leave it): all 404, the page lists none, no build starts."""
    site = done_run.site
    done_dir = site.data_dir / "runs" / str(done_run.run_id)
    names = [p.relative_to(done_dir).as_posix() for p in done_dir.rglob("*") if p.is_file()]
    assert {"convictions.csv", "results.csv", "people.csv"} <= set(names)
    with site.app.state.sessions() as db:
        failed = create_pending_run(
            db, "SACRAMENTO", "statute", _statute(site), date(2024, 1, 1), "analyst"
        )
        failed.status, failed.error = "failed", "the run stopped"
        db.commit()
    shutil.copytree(done_dir, site.data_dir / "runs" / str(failed.id))
    try:
        with site.client() as client:
            token = login(client, "admin")
            for name in names:
                response = client.get(f"/runs/{failed.id}/files/{name}")
                assert response.status_code == 404, name
            page = client.get(f"/runs/{failed.id}/files").text
            assert "convictions.csv" not in page and "The run folder holds no file" in page
            build = client.post(f"/runs/{failed.id}/filings", data=FILING | {"csrf_token": token})
            assert build.status_code == 409
    finally:
        shutil.rmtree(site.data_dir / "runs" / str(failed.id))


# Ids: garbage and oversized, on every route ------------------------------------------------

#: Values of an id in a URL that name nothing: text, decimals, signs, overflow, blanks.
GARBAGE = ("abc", "1.5", "-1", "0", "1e3", str(2**63), "9" * 40, "%20", "0x10", "1%00")
#: Path parameters that are row ids (the others are names, checked by their own routes).
ID_PARAMS = ("run_id", "determination_id", "user_id", "index")


def test_garbage_and_oversized_ids_are_not_found_on_every_route(done_run: DoneRun) -> None:
    site = done_run.site
    client = TestClient(site.app, follow_redirects=False, raise_server_exceptions=False)
    token = login(client, "admin")
    # A complete form, so only the id can be what is wrong.
    form = {
        "action": "accept",
        "decision": "dismiss",
        "note": "checked",
        "role": "viewer",
        "password": "a long enough new password",
    }
    tried = 0
    for method, path in api_routes(site):
        names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        for name in [n for n in names if n in ID_PARAMS]:
            for value in GARBAGE:
                values = PARAMS | {name: value}
                url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m, v=values: v[m.group(1)], path)
                response = client.request(
                    method,
                    url,
                    data=form | {"csrf_token": token} if method == "POST" else None,
                    headers={"X-CSRF-Token": token},  # the uploads read it from here
                )
                assert response.status_code == 404, (method, path, value, response.status_code)
                assert "Traceback" not in response.text
                tried += 1
    assert tried > 100


# Headers on every status code --------------------------------------------------------------


def _has_headers(response: object, what: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name in SECURITY_HEADERS:
        assert name in headers, f"{name} missing on {what}"


def test_security_headers_on_every_error_status(
    done_run: DoneRun, template: Path, tmp_path: Path
) -> None:
    """400, 404, 405, 409, 413, 422 and 429 (the 200, 303, 401, 403, 404 and 500 answers are
    checked in test_web_headers.py)."""
    site, run_id = done_run.site, done_run.run_id
    client = TestClient(site.app, follow_redirects=False, raise_server_exceptions=False)
    token = login(client, "attorney")
    with site.app.state.sessions() as db:
        count = db.execute(select(Determination.id).limit(1)).scalar_one()
    responses = {
        400: client.post(f"/runs/{run_id}/filings", data={"csrf_token": token}),
        404: client.get("/runs/abc"),
        405: client.put(f"/runs/{run_id}"),
        409: client.post(f"/runs/{run_id}/cancel", data={"csrf_token": token}),
        422: client.post(f"/runs/{run_id}/counts/{count}/review", data={"csrf_token": token}),
    }
    small = make_site(tmp_path / "small", template, max_upload_bytes=10_000)
    with small.client() as other:
        other_token = login(other, "analyst")
        responses[413] = other.post(
            "/runs",
            data={
                "csrf_token": other_token,
                "county": "Sacramento",
                "policy": "statute",
                "as_of": "2024-01-01",
            },
            files={"file": ("big.dat", b"x" * 50_000, "application/octet-stream")},
        )
        other.cookies.clear()
        for _ in range(PER_ACCOUNT + 1):
            page = other.get("/login")
            responses[429] = other.post(
                "/login",
                data={"username": "nobody", "password": "wrong", "csrf_token": csrf_of(page.text)},
            )
    for status, response in responses.items():
        assert response.status_code == status, (status, response.status_code)
        for name in SECURITY_HEADERS:
            assert name in response.headers, f"{name} missing on {status}"
