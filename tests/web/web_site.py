"""Fixtures for the web app: a data folder with users, a TestClient, and a finished run."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_client import FILING as FILING
from web_client import csrf_of as csrf_of
from web_client import post_run, run_id_of, sign_in

from clearance.store import users as store_users
from clearance.store.db import session_factory
from clearance.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "peer-generated-sacramento-20k.dat.gz"
PASSWORD = "correct horse battery"
ROLES = ("admin", "attorney", "analyst", "viewer")


@dataclass
class Site:
    """An app on a fresh data folder, with one user per role (named after the role)."""

    app: FastAPI
    data_dir: Path
    url: str

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


def make_template(folder: Path) -> Path:
    """A migrated database with the four users (Argon2 hashing is slow on purpose: do it once)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.db"
    with session_factory(f"sqlite:///{path}")() as db:
        for role in ROLES:
            store_users.add_user(db, role, PASSWORD, role)
    return path


def make_site(data_dir: Path, template: Path, **options: int) -> Site:
    """An app on its own copy of the template database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "clearance.db"
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    url = f"sqlite:///{path}"
    return Site(create_app(url, data_dir, **options), data_dir, url)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(autouse=True)
def no_login_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed sign-ins sleep in production; the tests count failures, not seconds."""
    monkeypatch.setattr(store_users, "sleep", lambda _seconds: None)


@pytest.fixture
def site(tmp_path: Path, template: Path) -> Site:
    return make_site(tmp_path / "data", template)


def login(client: Any, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form as one of the site's users; the session's CSRF token."""
    return sign_in(client, username, password)


def upload_sample(client: Any, token: str, path: Path = SAMPLE, county: str = "Sacramento") -> int:
    """Start a run from a file and wait until it is done; returns the run id."""
    run_id = run_id_of(post_run(client, token, path, county=county, policy="sacramento-2019"))
    # A limit against a run that never ends, not a speed check: generous on a busy machine.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = client.get(f"/runs/{run_id}/status")
        if "HX-Redirect" in status.headers:
            return run_id
        assert "failed" not in status.text, status.text
        time.sleep(0.2)
    raise AssertionError("the run did not finish in time")


def wait_build(client: TestClient, run_id: int) -> str:
    """Follow a filings build until it ends; the downloads page it then opens (its HTML)."""
    for _ in range(1800):
        status = client.get(f"/runs/{run_id}/filings/status", headers={"HX-Request": "true"})
        assert status.status_code == 200, status.text
        if "HX-Redirect" in status.headers:
            page = client.get(status.headers["HX-Redirect"])
            assert page.status_code == 200
            return page.text
        time.sleep(0.2)
    raise AssertionError("the filings build did not end")


def sample_with_arrest_in(folder: Path, county: str = "ALPINE") -> Path:
    """The sample plus one person arrested in `county` and never convicted there: the file
    names the county (so the upload's county check lets it through) but holds no court event
    of it, so a run for that county fails in the engine."""
    import gzip

    with gzip.open(SAMPLE, "rb") as handle:
        data = handle.read()
    lines = data.split(b"\n")
    arrest = next(line for line in lines[1:] if b"ARREST/DETAINED/CITED" in line)
    subject = arrest.split(b",")[2]
    extra = arrest.replace(b"SACRAMENTO", county.encode("ascii"), 1).replace(
        b"," + subject + b",", b",99999999,", 1
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sample-with-an-arrest-in-{county.lower()}.dat.gz"
    path.write_bytes(gzip.compress(data.rstrip(b"\n") + b"\n" + extra + b"\n"))
    return path


@dataclass
class DoneRun:
    """A site with a finished run of the sample, shared by the read-mostly tests."""

    site: Site
    run_id: int


@pytest.fixture(scope="module")
def done_run(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[DoneRun]:
    original = store_users.sleep
    store_users.sleep = lambda _seconds: None
    try:
        site = make_site(tmp_path_factory.mktemp("web") / "data", template)
        with site.client() as client:
            token = login(client, "analyst")
            run_id = upload_sample(client, token)
        yield DoneRun(site, run_id)
    finally:
        store_users.sleep = original


# Job targets for the worker-process tests: module-level, so a spawned worker can import them.


def late_failing_job(
    database_url: str, run_id: int, inputs: list[str], runs_dir: str, memory_bytes: int
) -> None:
    """A worker that writes part of a run folder (personal data) and then dies."""
    import os

    folder = Path(runs_dir) / str(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "convictions.csv").write_text("subject_id,name\n1,DOE,JANE\n", encoding="utf-8")
    os._exit(5)


def slow_job(
    database_url: str, run_id: int, inputs: list[str], runs_dir: str, memory_bytes: int
) -> None:
    """A worker that reports half its input read, then waits to be cancelled."""
    from clearance.web.jobs import progress_file
    from clearance.web.workers import write_state

    write_state(
        progress_file(Path(runs_dir), run_id), stage="reading", done=1_572_864, total=3_145_728
    )
    time.sleep(120)


def held_build(
    database_url: str,
    run_id: int,
    run_dir: str,
    filing: dict[str, str],
    include_pending: bool,
    actor: str,
    memory_bytes: int,
) -> None:
    """A build that reports a stage and waits for the test's `release` file, then builds."""
    from clearance.web.builds import build_job, state_path, update_state

    folder = Path(run_dir)
    update_state(state_path(folder), status="running", stage="laying out the exhibits", steps=3)
    while not (folder / "release").exists():
        time.sleep(0.05)
    (folder / "release").unlink()
    build_job(database_url, run_id, run_dir, filing, include_pending, actor, memory_bytes)


def dying_build(
    database_url: str,
    run_id: int,
    run_dir: str,
    filing: dict[str, str],
    include_pending: bool,
    actor: str,
    memory_bytes: int,
) -> None:
    """A build worker that leaves a half-written staging folder and dies."""
    import os

    staging = Path(run_dir) / ".build-dead"
    (staging / "filings").mkdir(parents=True, exist_ok=True)
    (staging / "filings" / "motion.pdf").write_bytes(b"%PDF-1.7 half")
    os._exit(5)
