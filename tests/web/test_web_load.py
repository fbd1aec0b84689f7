"""The load script of `make bench-web`, small: a few clients browse the real server while a
run and a filings build execute, and every request succeeds.

Timings belong to the benchmark (bench/RESULTS.md), never to a test on a shared machine.
"""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import text
from web_site import ROOT, SAMPLE, Site, login

from clearance.web.app import REQUEST_THREADS


@pytest.fixture(scope="module")
def bench_web() -> ModuleType:
    """bench/web.py, the script itself (not a copy of its logic)."""
    spec = importlib.util.spec_from_file_location("bench_web", ROOT / "bench" / "web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_web"] = module
    spec.loader.exec_module(module)
    return module


def test_clients_browse_while_a_run_and_a_build_execute(
    bench_web: ModuleType, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    bench_web.make_users(data_dir)
    with bench_web.serve(data_dir, tmp_path / "server.log") as base:
        site = bench_web.Workspace(base, data_dir)
        first = site.upload(SAMPLE)
        assert site.wait_run(first) == "done"
        targets = bench_web.Targets(first, site.subjects(first))
        assert targets.subjects

        second = site.upload(SAMPLE)
        site.start_build(first)
        targets.following.append(second)
        samples = bench_web.browse(base, targets, 3, requests=12)

        assert len(samples) == 36
        failed = [(s.route, s.status) for s in samples if s.status != 200]
        assert failed == []
        assert {"queue", "person", "files"} <= {s.route for s in samples}
        summary = bench_web.summarize(samples)
        assert summary["all"]["requests"] == 36 and summary["all"]["failed"] == 0

        assert site.wait_run(second) == "done"
        for _ in range(1800):
            if site.build_state(first) not in ("queued", "running"):
                break
            bench_web.time.sleep(0.2)
        assert site.build_state(first) == "done"
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    assert " 500" not in log and "Traceback" not in log


def test_every_request_thread_can_hold_a_database_connection(site: Site) -> None:
    """Under load each request thread holds a connection for the whole request; a pool smaller
    than the thread pool made requests wait for one and fail (500) after 30 s. Here every
    request thread takes one at the same moment, and none waits."""
    sessions = [site.app.state.sessions() for _ in range(REQUEST_THREADS)]
    try:
        with ThreadPoolExecutor(max_workers=REQUEST_THREADS) as pool:
            answers = list(pool.map(lambda db: db.execute(text("SELECT 1")).scalar(), sessions))
        assert answers == [1] * REQUEST_THREADS
    finally:
        for db in sessions:
            db.close()
    with site.client() as client:  # the app started: its thread pool is REQUEST_THREADS wide
        login(client, "viewer")
        assert client.get("/").status_code == 200
