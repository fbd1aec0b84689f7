"""The office's pages driven in Chromium against `clearance serve`: upload checks (county,
as-of date), a versioned policy with its history and diff, the run's link to the version it
used, labelled dashboard figures and the favicon, downloads with distinct names and "download
all", and deleting a run. Every new page and state is checked with axe as well."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web_access import axe_violations, sign_in
from test_web_browser import FILING, Server, browser, server
from web_site import SAMPLE

__all__ = ["browser", "server"]

POLICY = "office-2024"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _no_violations(page: Any, where: str) -> None:
    found = axe_violations(page, where)
    assert not found, "\n".join(found)


def _choose_run(page: Any, base: str, county: str, policy: str, as_of: str) -> None:
    page.goto(base + "/runs/new")
    page.select_option("#county", county)
    page.select_option("#policy", policy)
    page.fill("#as_of", as_of)
    page.set_input_files("#file", str(SAMPLE))


def _run_id(page: Any) -> int:
    found = re.search(r"/runs/(\d+)$", page.url)
    assert found, page.url
    return int(found.group(1))


def _gutter_lines(page: Any) -> list[str]:
    text = page.inner_text("#policy-gutter").strip()
    return text.split("\n")


def test_upload_checks_versions_downloads_and_deletion(server: Server, page: Any) -> None:
    base = server.base
    sign_in(page, base, "attorney")

    # --- A county the file does not hold is refused before any run, naming what it holds.
    _choose_run(page, base, "Alpine", "statute", "2024-01-01")
    page.click("#new-run button[type=submit]")
    page.wait_for_selector("#upload-error")
    error = page.inner_text("#upload-error")
    assert "Alpine does not appear in this file" in error and "Sacramento" in error
    assert page.eval_on_selector("#county", "el => el.value") == "Alpine"
    _no_violations(page, "upload refused for its county")
    page.goto(base + "/")
    assert "No run yet" in page.inner_text("main")
    assert list((server.data_dir / "uploads").iterdir()) == []

    # --- The policy editor: line numbers beside the labelled textarea, kept up as one types.
    page.goto(base + "/policies/new?start=sacramento-2019")
    editor = page.get_by_label("Policy (YAML)")
    assert editor.evaluate("el => el.id") == "policy-text"
    lines = editor.input_value().count("\n") + 1
    assert _gutter_lines(page)[-1] == str(lines) and _gutter_lines(page)[0] == "1"
    text = editor.input_value().replace("name: sacramento-2019", f"name: {POLICY}", 1)
    editor.fill(text + "\n# a line\n# another")
    assert _gutter_lines(page)[-1] == str(text.count("\n") + 3)
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    assert "line 2, column 1" in page.inner_text("#editor-position")
    _no_violations(page, "policy editor")
    editor.fill(text)
    page.click("form[action='/policies'] button[type=submit]")
    page.wait_for_url(f"{base}/policies/{POLICY}")
    assert "as version 1" in page.inner_text("main")

    # --- A run under version 1, on a date before Proposition 64: the page warns at once and
    # the run starts only once that date is confirmed.
    _choose_run(page, base, "Sacramento", POLICY, "2015-06-30")
    assert page.is_visible("#as-of-confirm")
    assert "before Proposition 64" in page.inner_text("#as-of-warning")
    _no_violations(page, "as-of date to confirm")
    # The unticked box keeps the form from being sent.
    assert page.eval_on_selector("#confirm_as_of", "el => el.validity.valueMissing")
    assert not page.eval_on_selector("#new-run", "form => form.checkValidity()")
    page.check("#confirm_as_of")
    page.click("#new-run button[type=submit]")
    page.wait_for_selector("#headline, #run-status .notice.error")
    assert page.locator("#headline").count() == 1, page.inner_text("main")
    early = _run_id(page)

    # --- The dashboard's figures say what they count; the favicon is served.
    cards = page.inner_text("#people-impact")
    assert "people changed to no conviction in the last 7 years" in cards
    assert "people with at least one conviction dismissed or reduced" in cards
    assert "convictions: dismiss" in page.inner_text("#headline")
    icon = page.get_attribute("link[rel=icon]", "href")
    assert icon
    favicon = page.request.get(icon if icon.startswith("http") else base + icon)
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg")

    # --- Version 2 of the policy; history, one version's text, and the diff.
    page.goto(f"{base}/policies/new?start={POLICY}")
    page.get_by_label("Policy (YAML)").fill(text.replace("title:", "# amended\ntitle:", 1))
    page.click("form[action='/policies'] button[type=submit]")
    page.wait_for_url(f"{base}/policies/{POLICY}")
    assert "as version 2" in page.inner_text("main")
    page.click("#policy-versions")
    page.wait_for_url(f"{base}/policies/{POLICY}/versions")
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 2
    assert "attorney" in rows.nth(0).inner_text() and "current" in rows.nth(0).inner_text()
    _no_violations(page, "version history")
    page.click("#compare-form button[type=submit]")
    page.wait_for_url(re.compile(r"/diff\?from=1&to=2$"))
    assert "1 line added, 0 lines removed" in page.inner_text("#diff-summary")
    added = page.locator("#diff tr.added")
    assert added.count() == 1 and "# amended" in added.inner_text()
    assert "added" in added.inner_text()  # said in words, not only in colour
    _no_violations(page, "diff between versions")

    # --- The run links to the version it used (1), not the current text (2).
    page.goto(f"{base}/runs/{early}/policy")
    link = page.locator("#run-policy-version a").first
    assert link.inner_text() == f"version 1 of {POLICY}"
    link.click()
    page.wait_for_url(f"{base}/policies/{POLICY}/versions/1")
    assert "# amended" not in page.inner_text("#version-text")
    assert f"run #{early}" in page.inner_text("#version-runs")
    _no_violations(page, "one version")

    # --- Downloads of a second run: the reviewed copy has its own name; "download all".
    _choose_run(page, base, "Sacramento", "sacramento-2019", "2024-01-01")
    page.click("#new-run button[type=submit]")
    page.wait_for_selector("#headline")
    done = _run_id(page)
    page.goto(f"{base}/runs/{done}/files")
    for field, value in FILING.items():
        page.fill(f"#filing-{field}", value)
    page.check("#include-pending")
    page.click("#build-filings")
    page.wait_for_selector("#filings-result")
    names = page.eval_on_selector_all(
        "#downloads a[download]", "links => links.map(a => a.textContent)"
    )
    assert "convictions.csv" in names and "reviewed-convictions.csv" in names
    assert len(names) == len(set(names))
    assert not [n for n in names if n.endswith(".parquet") or "record" in n.split("-")[0]]
    described = page.locator("#downloads tbody tr", has_text="reviewed-convictions.csv")
    assert "reviews applied" in described.inner_text()
    _no_violations(page, "downloads")
    with page.expect_download() as reviewed:
        page.click("#downloads a[download='reviewed-convictions.csv']")
    assert reviewed.value.suggested_filename == "reviewed-convictions.csv"
    with page.expect_download() as everything:
        page.click("#download-all")
    assert everything.value.suggested_filename == f"run-{done}-sacramento.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(everything.value.path()).read_bytes()))
    members = archive.namelist()
    manifest = json.loads(archive.read(f"run-{done}-sacramento/run.json"))
    assert members[-1].endswith("/run.json")
    assert {f["path"] for f in manifest["files"]} == {m.split("/", 1)[1] for m in members[:-1]}
    assert manifest["run"]["id"] == done

    # --- Deleting the early run: its owner confirms; it is gone with its files.
    page.goto(f"{base}/runs/{early}")
    page.click("#delete-link")
    page.wait_for_url(f"{base}/runs/{early}/delete")
    _no_violations(page, "delete a run")
    page.click("#delete-run button[type=submit]")
    page.wait_for_url(base + "/")
    assert f"Deleted run #{early}" in page.inner_text("#runs-message")
    _no_violations(page, "runs after a deletion")
    assert not (server.data_dir / "runs" / str(early)).exists()
    assert page.goto(f"{base}/runs/{early}").status == 404
    assert (server.data_dir / "runs" / str(done)).is_dir()


def test_a_viewer_sees_no_delete_and_cannot_delete(server: Server, page: Any) -> None:
    base = server.base
    sign_in(page, base, "analyst")
    _choose_run(page, base, "Sacramento", "statute", "2024-01-01")
    page.click("#new-run button[type=submit]")
    page.wait_for_selector("#headline")
    run_id = _run_id(page)
    assert page.locator("#delete-link").count() == 1
    page.context.clear_cookies()
    sign_in(page, base, "viewer")
    page.goto(f"{base}/runs/{run_id}")
    assert page.locator("#delete-link").count() == 0
    assert page.goto(f"{base}/runs/{run_id}/delete").status == 403
