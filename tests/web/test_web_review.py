"""The review pages in a real browser: the queue's search, the person page's width, the review
forms when a review is refused, the bulk-accept dialog, reset to pending, and what the audit
log names.

A real server (`clearance serve`) on a free port decides the sample once for the module; the
expected results come from the database and the run's own convictions.parquet, never from the
pages under test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest
from sqlalchemy import func, select, update
from test_web_browser import Server, browser, server
from web_site import PASSWORD, SAMPLE

from clearance.store.db import session_factory
from clearance.store.models import AuditEntry, Determination, Run
from clearance.store.reviews import NOTE_LIMIT

__all__ = ["browser", "server"]

pytest.importorskip("playwright.sync_api")

NOTE = "Checked the court file: the sentence was completed in 2012."


@dataclass
class Reviewed:
    """The module's server, the finished run of the sample and its convictions table."""

    server: Server
    run_id: int
    table: pl.DataFrame


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.fixture(scope="module")
def reviewed(server: Server, browser: Any) -> Iterator[Reviewed]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    _sign_in(page, server.base, "analyst")
    page.goto(server.base + "/runs/new")
    page.select_option("#county", "Sacramento")
    page.select_option("#policy", "sacramento-2019")
    page.fill("#as_of", "2024-01-01")
    page.set_input_files("#file", str(SAMPLE))
    page.click("#new-run button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[-1])
    page.wait_for_selector("#headline")
    context.close()
    with session_factory(server.url)() as db:
        run = db.get(Run, run_id)
        assert run is not None and run.status == "done"
        folder = Path(run.run_dir) if run.run_dir else server.data_dir / "runs" / str(run_id)
    yield Reviewed(server, run_id, pl.read_parquet(folder / "convictions.parquet"))


@pytest.fixture
def page(reviewed: Reviewed, browser: Any) -> Iterator[Any]:
    """An attorney's page at the width of a common office laptop (1,366 px)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    _sign_in(tab, reviewed.server.base, "attorney")
    yield tab
    context.close()


def _row(reviewed: Reviewed, **where: Any) -> Determination:
    """A stored count, by column values (the first by id)."""
    with session_factory(reviewed.server.url)() as db:
        query = select(Determination).where(Determination.run_id == reviewed.run_id)
        for column, value in where.items():
            query = query.where(getattr(Determination, column) == value)
        return db.execute(query.order_by(Determination.id).limit(1)).scalar_one()


def _person_url(reviewed: Reviewed, row: Determination) -> str:
    return f"{reviewed.server.base}/runs/{reviewed.run_id}/people/{quote(row.subject_id)}"


def _total(page: Any) -> int:
    return int(page.inner_text("#total").replace(",", ""))


def _search(page: Any, reviewed: Reviewed, text: str) -> int:
    """Type a search into the queue, submit it with Enter, and read how many match."""
    page.goto(f"{reviewed.server.base}/runs/{reviewed.run_id}/review")
    page.fill("#f-search", text)
    with page.expect_response(lambda r: "search=" in r.url and r.request.method == "GET"):
        page.press("#f-search", "Enter")
    page.wait_for_url(re.compile(r"search="))
    page.wait_for_load_state("networkidle")
    return _total(page)


def _keys(frame: pl.DataFrame) -> set[str]:
    return set(frame["subject_id"].cast(pl.String).to_list())


def _a_person(reviewed: Reviewed) -> dict[str, Any]:
    """A person of the sample with a name, a date of birth, a CII number and a case number."""
    usable = reviewed.table.filter(
        pl.col("name").str.contains(",")
        & pl.col("dob").is_not_null()
        & pl.col("cii_number").is_not_null()
        & pl.col("court_case_number").is_not_null()
    )
    return usable.row(usable.height // 2, named=True)


def _queue_subjects(page: Any) -> set[str]:
    hrefs = page.eval_on_selector_all(
        "#queue-table tbody a", "links => links.map(a => a.getAttribute('href'))"
    )
    return {re.search(r"/people/([^/#?]+)", h).group(1) for h in hrefs}  # type: ignore[union-attr]


def test_queue_search_by_name_ids_date_of_birth_and_case(page: Any, reviewed: Reviewed) -> None:
    table = reviewed.table
    person = _a_person(reviewed)
    subject = str(person["subject_id"])
    mine = table.filter(pl.col("subject_id") == subject)

    # SUBJECT_ID and CII: exactly this person's convictions.
    assert _search(page, reviewed, subject) == mine.height
    assert _queue_subjects(page) == {subject}
    by_cii = table.filter(pl.col("cii_number") == person["cii_number"])
    assert _search(page, reviewed, str(person["cii_number"])) == by_cii.height
    assert _queue_subjects(page) == _keys(by_cii)

    # A name, first name first and in lower case.
    last, first = str(person["name"]).split(",", 1)
    words = [last.strip(), first.split()[0]]
    named = table.filter(
        pl.all_horizontal(pl.col("name").str.contains(w, literal=True) for w in words)
    )
    assert _search(page, reviewed, f"{words[1].lower()} {words[0].lower()}") == named.height
    assert subject in _queue_subjects(page)

    # A date of birth, as an ISO date and as written in the US.
    born: date = person["dob"]
    same_day = table.filter(pl.col("dob") == born)
    assert _search(page, reviewed, born.isoformat()) == same_day.height
    assert _search(page, reviewed, born.strftime("%m/%d/%Y")) == same_day.height
    assert subject in _queue_subjects(page)

    # Part of a case number (not the whole): the case is among the matches.
    case = str(person["court_case_number"])
    part = case[1:-1]
    found = _search(page, reviewed, part.lower())
    holding = table.filter(pl.col("court_case_number").str.contains(part, literal=True))
    assert found >= holding.height > 0
    cases = page.eval_on_selector_all(
        "#queue-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.innerText)"
    )
    if found <= 50:
        assert case in cases

    # Nothing matches: the queue says so.
    assert _search(page, reviewed, "02/30/1990") == 0
    assert "No conviction matches" in page.inner_text("#queue-table")


def test_person_page_fits_a_1366_pixel_window(page: Any, reviewed: Reviewed) -> None:
    # The person with the most convictions decided has the longest page.
    busiest = (
        reviewed.table.group_by("subject_id").len().sort(["len", "subject_id"], descending=True)
    )["subject_id"][0]
    row = _row(reviewed, subject_id=str(busiest))
    page.goto(_person_url(reviewed, row))
    page.wait_for_selector("form.reviewbox")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert widths[2] == 1366
    wide = page.evaluate(
        "() => Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > innerWidth)"
        ".slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().right) + ' ' + (e.innerText || '').slice(0, 60))"
    )
    assert widths[0] <= 1366 and widths[1] <= 1366, (widths, wide)


def _form(page: Any, row: Determination) -> Any:
    return page.locator(f"#count-{row.id} form.reviewbox")


def test_a_refused_review_keeps_the_form_and_names_the_conviction(
    page: Any, reviewed: Reviewed
) -> None:
    row = _row(reviewed, decision="reduce", review_status="pending")
    url = _person_url(reviewed, row)
    page.goto(url)
    form = _form(page, row)

    # The note's limit is on the form: the field stops at it and a counter says how much is used.
    note = form.locator("textarea[name=note]")
    assert note.get_attribute("maxlength") == str(NOTE_LIMIT)
    counter = page.locator(f"#note-count-{row.id}")
    assert counter.inner_text() == "0 of 4,000 characters"
    note.press_sequentially("abc")
    assert counter.inner_text() == "3 of 4,000 characters"
    note.fill("")

    # An override without a note: refused, the choices kept, the conviction named, same page.
    form.locator("select[name=action]").select_option("override")
    form.locator("select[name=decision]").select_option("reduce")
    form.locator("select[name=new_level]").select_option("infraction")
    form.locator("button[type=submit]").click()
    error = page.locator("#review-error")
    error.wait_for()
    text = error.inner_text()
    assert "needs a note" in text
    assert str(row.code_section) in text and str(row.court_case_number) in text
    assert row.conviction_date is not None and row.conviction_date.isoformat() in text
    assert page.url.split("#")[0] == url, "the reviewer stays on the person's page"
    form = _form(page, row)
    assert form.locator("select[name=action]").input_value() == "override"
    assert form.locator("select[name=decision]").input_value() == "reduce"
    assert form.locator("select[name=new_level]").input_value() == "infraction"

    # Accept with a new decision chosen: refused with a message, not silently accepted.
    form.locator("select[name=action]").select_option("accept")
    form.locator("select[name=decision]").select_option("dismiss")
    form.locator("select[name=new_level]").select_option("")
    form.locator("textarea[name=note]").fill(NOTE)
    form.locator("button[type=submit]").click()
    page.wait_for_function("() => /choose override/.test(document.body.innerText)")
    assert "choose override" in page.inner_text("#review-error")
    assert page.url.split("#")[0] == url
    form = _form(page, row)
    assert form.locator("textarea[name=note]").input_value() == NOTE
    assert form.locator("select[name=decision]").input_value() == "dismiss"
    assert _row(reviewed, id=row.id).review_status == "pending"

    # A note over the limit (a browser that ignores maxlength): a clear message, the text kept.
    long_note = "n" * (NOTE_LIMIT + 1)
    form.locator("select[name=action]").select_option("override")
    form.locator("textarea[name=note]").evaluate(
        "(el, text) => { el.removeAttribute('maxlength'); el.value = text; }", long_note
    )
    form.locator("button[type=submit]").click()
    page.wait_for_function("() => /the limit is 4,000/.test(document.body.innerText)")
    assert "4,001 characters long; the limit is 4,000" in page.inner_text("#review-error")
    assert _form(page, row).locator("textarea[name=note]").input_value() == long_note
    assert page.locator(f"#note-count-{row.id}").inner_text() == "4,001 of 4,000 characters"
    assert page.url.split("#")[0] == url

    # Corrected, it saves and comes back to the page.
    form = _form(page, row)
    form.locator("textarea[name=note]").fill(NOTE)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#review-result")
    assert page.url.split("#")[0] == url
    saved = _row(reviewed, id=row.id)
    assert (saved.review_status, saved.reviewed_decision) == ("overridden", "dismiss")
    assert saved.review_note == NOTE


def test_reset_to_pending_is_audited(page: Any, reviewed: Reviewed) -> None:
    row = _row(reviewed, decision="not_eligible", review_status="pending")
    page.goto(_person_url(reviewed, row))
    form = _form(page, row)
    form.locator("select[name=action]").select_option("accept")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#review-result")
    assert "Accepted" in page.inner_text(f"#review-state-{row.id}")
    assert _row(reviewed, id=row.id).review_status == "accepted"

    page.click(f"#reset-{row.id}")
    page.wait_for_selector("#review-result")
    assert "pending again" in page.inner_text("#review-result")
    assert page.locator(f"#review-state-{row.id}").count() == 0
    reset = _row(reviewed, id=row.id)
    assert reset.review_status == "pending" and reset.reviewed_by is None
    with session_factory(reviewed.server.url)() as db:
        entry = db.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert (entry.actor, entry.action) == ("attorney", "review.reset")
    assert entry.target == f"run:{reviewed.run_id}/count:{row.id}"
    assert entry.details["undone"]["status"] == "accepted"


def _pending(reviewed: Reviewed, decision: str) -> int:
    with session_factory(reviewed.server.url)() as db:
        return int(
            db.execute(
                select(func.count())
                .select_from(Determination)
                .where(
                    Determination.run_id == reviewed.run_id,
                    Determination.decision == decision,
                    Determination.review_status == "pending",
                )
            ).scalar_one()
        )


def test_bulk_accept_dialog_says_how_many(page: Any, reviewed: Reviewed) -> None:
    base = f"{reviewed.server.base}/runs/{reviewed.run_id}/review"
    expected = _pending(reviewed, "dismiss")
    assert expected > 1
    page.goto(base + "?decision=dismiss")
    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#bulk-accept")
    assert f"Accept the proposed decision of {expected:,} pending convictions" in messages[0]
    assert _pending(reviewed, "dismiss") == expected, "dismissing the dialog accepts nothing"

    # The queue changed behind the page (another attorney accepted one): the number confirmed
    # is no longer true, so nothing is accepted and the page says why.
    other = _row(reviewed, decision="dismiss", review_status="pending")
    with session_factory(reviewed.server.url)() as db:
        db.execute(
            update(Determination)
            .where(Determination.id == other.id)
            .values(review_status="accepted", reviewed_decision="dismiss", reviewed_by="admin")
        )
        db.commit()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-accept")
    page.wait_for_selector("#bulk-error")
    assert f"{expected - 1:,} pending conviction(s) match" in page.inner_text("#bulk-error")
    assert _pending(reviewed, "dismiss") == expected - 1

    # Confirmed with the right number (the page now shows it), every one is accepted.
    page.goto(base + "?decision=dismiss")
    messages.clear()

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click("#bulk-accept")
    page.wait_for_selector("#bulk-result")
    assert f"of {expected - 1:,} pending convictions" in messages[0]
    assert f"Accepted {expected - 1:,} pending" in page.inner_text("#bulk-result")
    assert _pending(reviewed, "dismiss") == 0
    assert page.locator("#bulk-accept").count() == 0, "nothing pending left to accept"


def test_bulk_accept_of_a_search(page: Any, reviewed: Reviewed) -> None:
    row = _row(reviewed, decision="reduce", review_status="pending")
    with session_factory(reviewed.server.url)() as db:
        pending = db.execute(
            select(func.count())
            .select_from(Determination)
            .where(
                Determination.run_id == reviewed.run_id,
                Determination.subject_id == row.subject_id,
                Determination.decision == "reduce",
                Determination.review_status == "pending",
            )
        ).scalar_one()
    page.goto(
        f"{reviewed.server.base}/runs/{reviewed.run_id}/review?decision=reduce"
        f"&search={quote(row.subject_id)}"
    )
    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click("#bulk-accept")
    page.wait_for_selector("#bulk-result")
    noun = "conviction that matches" if pending == 1 else "convictions that match"
    assert f"of {pending:,} pending {noun}" in messages[0]
    assert _row(reviewed, id=row.id).review_status == "accepted"


def test_no_audit_entry_holds_a_subject_id(page: Any, reviewed: Reviewed) -> None:
    """Runs last in the module: every review above (accept, override, refusals, reset, bulk
    accept of a search by SUBJECT_ID) has written its entries by now."""
    with session_factory(reviewed.server.url)() as db:
        entries = list(db.execute(select(AuditEntry)).scalars())
        subjects = set(
            db.execute(
                select(Determination.subject_id).where(Determination.run_id == reviewed.run_id)
            ).scalars()
        )
    actions = {e.action for e in entries}
    assert {"review.accept", "review.override", "review.reset", "review.bulk_accept"} <= actions
    for entry in entries:
        text = f"{entry.actor} {entry.target} {entry.details_json}"
        tokens = set(re.findall(r"[A-Za-z0-9]+", text))
        assert not tokens & subjects, (entry.action, tokens & subjects)
    bulk = [e for e in entries if e.action == "review.bulk_accept"]
    assert any(e.details["filters"].get("search") is True for e in bulk)
