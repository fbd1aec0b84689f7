"""Cancelling a filings build in Chromium: the worker is stopped, the previous filings stay, the
page says who stopped it, and the audit log has it.

The server is the app itself under uvicorn in a thread of the test (not `clearance serve` in a
subprocess), so the test can give the builds a worker that holds until it is stopped; that
worker is still a process of its own, which the cancel terminates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from test_web_access import axe_violations, sign_in
from test_web_browser import browser
from web_site import FILING, Site, held_build, login, make_site, upload_sample, wait_build

from clearance.store.models import AuditEntry
from clearance.web.builds import build_job

__all__ = ["browser"]


@dataclass
class Live:
    """The app served on a free port of this machine, with one finished run."""

    site: Site
    base: str
    run_id: int

    @property
    def run_dir(self) -> Path:
        return self.site.data_dir / "runs" / str(self.run_id)


def _filings(run_dir: Path) -> dict[Path, bytes]:
    folder = run_dir / "filings"
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Live]:
    site = make_site(tmp_path_factory.mktemp("cancel") / "data", template)
    config = uvicorn.Config(site.app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        # A start-up limit, not a speed check: generous, the machine may be busy.
        deadline = time.monotonic() + 120
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as client:
            token = login(client, "attorney")
            run_id = upload_sample(client, token)
            first = client.post(f"/runs/{run_id}/filings", data=FILING | {"csrf_token": token})
            assert first.status_code == 303, first.text
            wait_build(client, run_id)
        yield Live(site, base, run_id)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def test_cancel_a_running_build_in_the_browser(live: Live, browser: Any) -> None:
    before = _filings(live.run_dir)
    assert before, "the first build wrote the filings"
    builds = live.site.app.state.builds
    builds.target = held_build
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, live.base, "attorney")
        page.goto(f"{live.base}/runs/{live.run_id}/files")
        # The form starts from the details of the last build.
        assert page.input_value("#filing-signer") == FILING["signer"]
        page.click("#build-filings")
        page.wait_for_selector("#build-stage:has-text('laying out the exhibits')")
        assert page.is_disabled("#build-filings")
        found = axe_violations(page, "filings build in progress, with its cancel button")
        assert not found, "\n".join(found)
        page.click("#cancel-build")
        page.wait_for_selector("#build-cancelled")
        notice = page.inner_text("#build-cancelled")
        assert "was stopped" in notice and "the build was cancelled by attorney" in notice
        assert "previous ones are unchanged" in notice
        assert page.locator("#filings-result, #build-error, #build-status progress").count() == 0
        assert not page.is_disabled("#build-filings"), "a new build may start"
        found = axe_violations(page, "filings build cancelled")
        assert not found, "\n".join(found)
    finally:
        builds.target = build_job
        context.close()
    assert _filings(live.run_dir) == before
    assert not list(live.run_dir.glob(".build-*")), "the stopped build's staging is deleted"
    with live.site.app.state.sessions() as db:
        last = db.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert last is not None
        assert (last.action, last.actor, last.target) == (
            "filings.cancelled",
            "attorney",
            f"run:{live.run_id}",
        )
