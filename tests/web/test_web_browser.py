"""The review workspace driven by a real browser against a real server.

`clearance serve` runs as a subprocess on a free port with a temporary data folder and SQLite;
its log output goes to a file that is checked at the end for names from the sample. Chromium
is the system one (/usr/bin/chromium). Screenshots of the dashboard and a person's page are
written to $CLEARANCE_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from web_site import FILING, PASSWORD, SAMPLE, make_site

from clearance.store.db import session_factory
from clearance.store.models import Determination

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVE = (sys.executable, "-m", "clearance.cli", "serve")
NOTE = "Reviewed the court file: the People move to dismiss this count."


@dataclass
class Server:
    base: str
    data_dir: Path
    log: Path
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Iterator[Server]:
    """`clearance serve` on 127.0.0.1:<free port>, one user per role, log captured to a file."""
    root = tmp_path_factory.mktemp("serve")
    data_dir = root / "data"
    url = make_site(data_dir, template).url
    port = _free_port()
    log = root / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SERVE, "--insecure-http", "--port", str(port), "--data", str(data_dir)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # A start-up limit, not a speed check: generous, the machine may be busy.
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Server(base, data_dir, log, url)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sample_names(limit: int = 40) -> set[str]:
    """A few PRI_NAME values from the sample, whole and by last name."""
    names: set[str] = set()
    with gzip.open(SAMPLE, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("PRI_NAME") or "").strip()
            if name and name != "-":
                names.add(name)
                last = name.split(",")[0].strip()
                if len(last) >= 5:
                    names.add(last)
            if len(names) >= limit:
                break
    return names


def _screens(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLEARANCE_SCREENSHOTS", "") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(page: object, base: str, username: str) -> None:
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(base + "/")  # type: ignore[attr-defined]


def _count_to_override(url: str, run_id: int) -> Determination:
    """A reduced count whose case number no dismissed count shares (so the motion shows it)."""
    with session_factory(url)() as db:
        has_case = Determination.court_case_number.is_not(None)
        dismissed = select(Determination.court_case_number).where(
            Determination.run_id == run_id, Determination.decision != "reduce", has_case
        )
        shared = (
            select(Determination.court_case_number)
            .where(Determination.run_id == run_id, has_case)
            .group_by(Determination.court_case_number)
            .having(func.count() > 1)
        )
        return db.execute(
            select(Determination)
            .where(
                Determination.run_id == run_id,
                Determination.decision == "reduce",
                Determination.court_case_number.is_not(None),
                Determination.court_case_number.not_in(dismissed),
                Determination.court_case_number.not_in(shared),
            )
            .order_by(Determination.id)
            .limit(1)
        ).scalar_one()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_review_a_run_in_the_browser(server: Server, browser: object, tmp_path: Path) -> None:
    screens = _screens(tmp_path)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    base = server.base

    # Sign in as an attorney and start a run from the bundled sample.
    _sign_in(page, base, "attorney")
    page.click("text=New run")
    page.select_option("#county", "Sacramento")
    page.select_option("#policy", "sacramento-2019")
    page.fill("#as_of", "2024-01-01")
    page.set_input_files("#file", str(SAMPLE))
    page.click("text=Upload and run")

    # The progress page polls until the run is done, then opens the dashboard.
    page.wait_for_selector("#headline, #run-status .notice.error", timeout=60_000)
    assert page.locator("#headline").count() == 1, page.inner_text("main")
    run_id = int(re.search(r"/runs/(\d+)$", page.url).group(1))  # type: ignore[union-attr]
    assert "677" in page.inner_text("#headline")
    assert page.locator("svg.chart").count() == 4
    assert "What if" in page.content()
    page.screenshot(path=str(screens / "dashboard.png"), full_page=True)

    # Filter the review queue (HTMX swaps the table) and open a person.
    count = _count_to_override(server.url, run_id)
    page.click("text=Review queue")
    page.select_option("#f-decision", "reduce")
    page.wait_for_url(re.compile(r"decision=reduce"))
    total = int(page.inner_text("#total").replace(",", ""))
    assert 0 < total < 677
    page.goto(f"{base}/runs/{run_id}/people/{count.subject_id}")
    article = page.locator(f"#count-{count.id}")
    assert "reduce" in article.inner_text()
    assert "source" in article.inner_text() and ".dat.gz:" in article.inner_text()
    assert page.locator("table.timeline tbody tr").count() > 1
    page.screenshot(path=str(screens / "person.png"), full_page=True)

    # Override the decision with a note.
    page.select_option(f"#action-{count.id}", "override")
    page.select_option(f"#decision-{count.id}", "dismiss")
    page.fill(f"#note-{count.id}", NOTE)
    article.locator("button[type=submit]").click()
    page.wait_for_selector("#review-result")
    state = page.inner_text(f"#review-state-{count.id}")
    assert "Overridden by attorney" in state and "dismiss" in state and NOTE in state

    # Build the reviewed outputs and filings, and download them from the run's downloads page.
    page.goto(f"{base}/runs/{run_id}/files")
    for field, value in FILING.items():
        page.fill(f"#filing-{field}", value)
    page.click("#build-filings")
    page.wait_for_selector("#filings-result", timeout=300_000)  # the build is a job: follow it
    links = page.locator("#downloads a")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    motions = [
        n for n in names if n.startswith("filings-") and re.search(r"(motion|notice).*\.pdf$", n)
    ]
    assert motions, names
    assert "reviewed-convictions.csv" in names
    texts = {}
    for name in motions:
        with page.expect_download() as info:
            page.click(f"#downloads a:text-is('{name}')")
        texts[name] = _pdf_text(Path(info.value.path()).read_bytes())
    # The count is a reduction whose case no other count shares: only the override can put it
    # in a paper that dismisses. Its sentence is complete, so a dismissal beyond the statute is
    # the People's non-opposition to dismissal on petition, beside the statute's redesignation.
    holding = [n for n, t in texts.items() if str(count.court_case_number) in t]
    assert holding, "the overridden count must be in a motion"
    assert any("no-opposition" in n or "dismiss" in n for n in holding), holding

    # The admin sees the override in the audit log, and the chain verified.
    page.click("text=Sign out")
    _sign_in(page, base, "admin")
    page.click("text=Audit log")
    assert "Chain verified" in page.inner_text("#audit-verify")
    audit = page.inner_text("#audit-table")
    assert "review.override" in audit and f"count:{count.id}" in audit
    assert NOTE not in audit, "the note stays on the count, only its hash is logged"
    context.close()

    # Nothing personal in the server's log: names, the subject's id, the case number.
    time.sleep(0.3)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /runs/{run_id}/people/{subject_id} 303" in log
    for secret in (*_sample_names(), count.subject_id, count.court_case_number, NOTE):
        assert secret not in log, "the server log must not carry personal data"
    requests = [line for line in log.splitlines() if re.search(r" (GET|POST) /", line)]
    assert len(requests) > 10
    assert not any("?" in line for line in requests), "no query string in the log"


def test_check_one_record_in_the_browser(server: Server, browser: object, tmp_path: Path) -> None:
    """An analyst uploads one RAP sheet, reads the decisions with their reasons, and downloads
    the petition packet."""
    sheet = Path(__file__).resolve().parents[1] / "records" / "rapsheets" / "every-event.txt"
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    _sign_in(page, server.base, "analyst")
    page.click("text=Check one record")
    page.fill("#as_of", "2026-11-21")
    page.set_input_files("#file", str(sheet))
    page.click("text=Check the record")
    page.wait_for_selector("section.county")
    main = page.inner_text("main")
    assert "SAMPLE,PAT Q" in main
    assert "Sacramento County" in main and "San Francisco County" in main
    assert "2 not recognised" in main
    assert "Read with care" in main
    # Every decision shows its reasons, each with its citation.
    reasons = page.locator("table.decisions td ul li")
    assert reasons.count() >= 8
    assert "HS 11361.8" in reasons.first.inner_text()
    page.screenshot(path=str(_screens(tmp_path) / "check.png"), full_page=True)
    # The Sacramento court's packet (the Alameda case, set aside under PC 1203.4, has its own).
    sacramento = page.locator("section.county", has_text="Sacramento County")
    with page.expect_download() as download_info:
        sacramento.locator("text=Download the petition packet").click()
    download = download_info.value
    path = tmp_path / "packet.pdf"
    download.save_as(path)
    text = _pdf_text(path.read_bytes())
    assert "PETITION/APPLICATION" in text and "CR-400" in text and "03F04455" in text
    context.close()
