"""Accessibility of the review workspace, checked in a real browser (Government Code 7405,
Section 508: WCAG 2.1 AA).

axe-core (as shipped by the `axe-playwright-python` package) runs in Chromium on:

- every page each role reaches by following the links of the workspace from the runs list
  (a crawl, so that a new page is covered as soon as something links to it), on a workspace
  with a finished run of the sample, a failed run and built filings;
- the states no link leads to: a refused sign-in, a refused upload, a failed run, a policy with
  errors, a review refused for want of a note, an accept refused for its new decision, a saved
  review, a review reset to pending, a searched queue, a refused page, a missing page,
  a refused and a finished record check, and the impact report written with the filings.

The rules are axe's WCAG 2.0 and 2.1 A and AA rules and its best practices (unique landmarks,
headings, regions). Any violation fails the test with the page, the rule and the elements.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from test_web_browser import FILING, Server, browser, server
from web_site import PASSWORD, ROLES, SAMPLE, sample_with_arrest_in

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

__all__ = ["browser", "server"]

#: axe's rule tags checked on every page.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
#: Links that download a file rather than open a page.
DOWNLOADS = re.compile(r"/runs/\d+/files/.|/check/\d+/packet/")
#: Enough for every page kind of every role; a crawl that needs more is a bug.
MAX_PAGES = 80
RAP_SHEET = Path(__file__).resolve().parents[1] / "records" / "rapsheets" / "every-event.txt"
NOTE = "Checked the court file."

_AXE = axe_module.Axe()


def axe_violations(page: Any, where: str) -> list[str]:
    """axe-core's violations on the page as it is now, one line each."""
    results = _AXE.run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:4]
        lines.append(
            f"{where}: {violation['id']} ({violation['impact']}, {len(violation['nodes'])} "
            f"element(s)): {violation['help']} at {targets}"
        )
    return lines


def page_key(url: str) -> str:
    """A page kind: the path with long numbers (people's ids) folded, and the names of its
    query parameters (a queue sorted by another column is the same page)."""
    parts = urlsplit(url)
    path = re.sub(r"\d{5,}", "N", parts.path)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{','.join(keys)}"


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@dataclass
class Workspace:
    server: Server
    done: int
    failed: int


def _start_run(page: Any, base: str, county: str, source: Path = SAMPLE) -> int:
    page.goto(base + "/runs/new")
    page.select_option("#county", county)
    page.select_option("#policy", "sacramento-2019" if county == "Sacramento" else "statute")
    page.fill("#as_of", "2024-01-01")
    page.set_input_files("#file", str(source))
    page.click("#new-run button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    return int(page.url.rsplit("/", 1)[-1])


@pytest.fixture(scope="module")
def workspace(
    server: Server, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """A finished run of the sample with its filings built, and a failed run (the sample
    decided for a county where it holds an arrest and no conviction)."""
    alpine = sample_with_arrest_in(tmp_path_factory.mktemp("alpine"), "ALPINE")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    base = server.base
    sign_in(page, base, "attorney")
    done = _start_run(page, base, "Sacramento")
    page.wait_for_selector("#headline")
    failed = _start_run(page, base, "Alpine", alpine)
    page.wait_for_selector("#run-status .notice.error")
    page.goto(f"{base}/runs/{done}/files")
    for field, value in FILING.items():
        page.fill(f"#filing-{field}", value)
    page.click("#build-filings")
    page.wait_for_selector("#filings-result")
    context.close()
    yield Workspace(server, done, failed)


def crawl(page: Any, base: str, start: str) -> Iterator[str]:
    """Every page kind reachable by links from `start`, breadth first; yields with the page
    loaded."""
    seen = {page_key(base + start)}
    queue = deque([base + start])
    visited = 0
    while queue:
        url = queue.popleft()
        response = page.goto(url)
        assert response is not None and response.status < 400, f"{url}: {response}"
        visited += 1
        assert visited <= MAX_PAGES, "the crawl found more page kinds than expected"
        yield url
        hrefs = page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(a => a.href)"
        )
        for href in hrefs:
            link = href.split("#", 1)[0]
            if not link.startswith(base + "/") or DOWNLOADS.search(urlsplit(link).path):
                continue
            key = page_key(link)
            if key not in seen:
                seen.add(key)
                queue.append(link)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_each_role_has_no_axe_violation(
    workspace: Workspace, browser: Any, role: str
) -> None:
    base = workspace.server.base
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, base, role)
    found: list[str] = []
    paths: list[str] = []
    for url in crawl(page, base, "/"):
        paths.append(urlsplit(url).path)
        found += axe_violations(page, f"{role} {url.removeprefix(base)}")
    context.close()
    # The crawl reached every kind of page of a run (a new page linked from any of them is
    # covered the same way).
    run = f"/runs/{workspace.done}"
    expected = {"/", run, f"{run}/review", f"{run}/files", f"/runs/{workspace.failed}"}
    expected |= {"/policies"}
    if role in ("admin", "attorney", "analyst"):
        expected |= {"/runs/new", "/check"}
    if role == "admin":
        expected |= {"/audit", "/users"}
    assert expected <= set(paths), sorted(expected - set(paths))
    assert any(p.startswith(f"{run}/people/") for p in paths)
    assert any(p.startswith("/policies/") for p in paths)
    assert not found, "\n".join(found)


# ------------------------------------------------------------------------------------------
# States no link leads to


def _login_refused(page: Any, ws: Workspace) -> None:
    page.goto(ws.server.base + "/login")
    page.fill("#username", "attorney")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector(".notice.error")


def _upload_refused(page: Any, ws: Workspace, tmp: Path) -> None:
    bad = tmp / "notes.txt"
    bad.write_text("not a DOJ bulk file\nat all\n", encoding="utf-8")
    page.goto(ws.server.base + "/runs/new")
    page.select_option("#county", "Sacramento")
    page.fill("#as_of", "2024-01-01")
    page.set_input_files("#file", str(bad))
    page.click("#new-run button[type=submit]")
    page.wait_for_selector("#upload-error")


def _failed_run(page: Any, ws: Workspace) -> None:
    page.goto(f"{ws.server.base}/runs/{ws.failed}")
    page.wait_for_selector(".notice.error")


def _policy_errors(page: Any, ws: Workspace) -> None:
    page.goto(ws.server.base + "/policies/new")
    page.fill("#policy-text", "name: broken\nflow: [unclosed\n")
    page.click("form[action='/policies'] button[type=submit]")
    page.wait_for_selector("#policy-error")


def _first_person(page: Any, ws: Workspace) -> None:
    page.goto(f"{ws.server.base}/runs/{ws.done}/review?status=pending")
    page.click("#queue-table tbody a >> nth=0")
    page.wait_for_selector("form.reviewbox")


def _review_refused(page: Any, ws: Workspace) -> None:
    _first_person(page, ws)
    form = page.locator("form.reviewbox").first
    form.locator("select[name=action]").select_option("override")
    form.locator("select[name=decision]").select_option("dismiss")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#review-error")


def _review_saved(page: Any, ws: Workspace) -> None:
    _first_person(page, ws)
    form = page.locator("form.reviewbox").first
    form.locator("select[name=action]").select_option("accept")
    form.locator("textarea").fill(NOTE)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#review-result")


def _accept_refused(page: Any, ws: Workspace) -> None:
    _first_person(page, ws)
    form = page.locator("form.reviewbox").first
    proposed = page.locator("article.count h3 .badge").first.get_attribute("class") or ""
    other = "dismiss" if "dismiss" not in proposed.split() else "not_eligible"
    form.locator("select[name=action]").select_option("accept")
    form.locator("select[name=decision]").select_option(other)
    form.locator("textarea").fill(NOTE)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#review-error")


def _review_reset(page: Any, ws: Workspace) -> None:
    _review_saved(page, ws)
    page.locator("button[id^=reset-]").first.click()
    page.wait_for_selector("#review-result")


def _queue_searched(page: Any, ws: Workspace) -> None:
    page.goto(f"{ws.server.base}/runs/{ws.done}/review")
    page.fill("#f-search", "a")
    page.press("#f-search", "Enter")
    page.wait_for_url(re.compile(r"search=a"))
    page.wait_for_load_state("networkidle")


def _forbidden(page: Any, ws: Workspace) -> None:
    response = page.goto(ws.server.base + "/runs/new")
    assert response is not None and response.status == 403


def _missing(page: Any, ws: Workspace) -> None:
    response = page.goto(ws.server.base + "/runs/999999")
    assert response is not None and response.status == 404


def _check(page: Any, ws: Workspace, sheet: Path) -> None:
    page.goto(ws.server.base + "/check")
    page.fill("#as_of", "2026-11-21")
    page.set_input_files("#file", str(sheet))
    page.click("#check-record button[type=submit]")


def _check_refused(page: Any, ws: Workspace, tmp: Path) -> None:
    bad = tmp / "empty.txt"
    bad.write_text("nothing to read here\n", encoding="utf-8")
    _check(page, ws, bad)
    page.wait_for_selector("#check-error")


def _check_result(page: Any, ws: Workspace) -> None:
    _check(page, ws, RAP_SHEET)
    page.wait_for_selector("section.county")


def _report(page: Any, ws: Workspace) -> None:
    reports = sorted(ws.server.data_dir.rglob("filings/report.html"))
    assert reports, "the filings hold report.html"
    page.goto(reports[0].as_uri())


State = Callable[[Any, Workspace, Path], None]
STATES: dict[str, tuple[str | None, State]] = {
    "sign-in refused": (None, lambda p, w, t: _login_refused(p, w)),
    "upload refused": ("attorney", _upload_refused),
    "failed run": ("analyst", lambda p, w, t: _failed_run(p, w)),
    "policy with errors": ("attorney", lambda p, w, t: _policy_errors(p, w)),
    "review refused (no note)": ("attorney", lambda p, w, t: _review_refused(p, w)),
    "review saved": ("admin", lambda p, w, t: _review_saved(p, w)),
    "accept with a new decision refused": ("attorney", lambda p, w, t: _accept_refused(p, w)),
    "review reset to pending": ("attorney", lambda p, w, t: _review_reset(p, w)),
    "queue searched": ("analyst", lambda p, w, t: _queue_searched(p, w)),
    "page refused to the role": ("viewer", lambda p, w, t: _forbidden(p, w)),
    "page not found": ("analyst", lambda p, w, t: _missing(p, w)),
    "record check refused": ("analyst", _check_refused),
    "record checked": ("analyst", lambda p, w, t: _check_result(p, w)),
    "impact report of the filings": (None, lambda p, w, t: _report(p, w)),
}


@pytest.mark.parametrize("state", list(STATES))
def test_error_and_result_states_have_no_axe_violation(
    workspace: Workspace, browser: Any, state: str, tmp_path: Path
) -> None:
    role, reach = STATES[state]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    if role is not None:
        sign_in(page, workspace.server.base, role)
    reach(page, workspace, tmp_path)
    found = axe_violations(page, state)
    context.close()
    assert not found, "\n".join(found)
