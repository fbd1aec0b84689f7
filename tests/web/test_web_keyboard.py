"""The main path of the workspace with the keyboard only, in a real browser.

Sign in, start a run from the sample, open the review queue, open one person, override a
decision with a note, build the filings and download a motion: every step by Tab, typing,
arrow keys, Space and Enter, never the mouse. At every focus the focused control must show a
visible focus indicator; on every page of the path, tabbing goes through every control and out
again (no keyboard trap), and axe-core finds no violation in the state reached.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_web_access import axe_violations, browser, server
from test_web_browser import FILING, Server
from web_site import PASSWORD, SAMPLE

__all__ = ["browser", "server"]

pytest.importorskip("playwright.sync_api")

NOTE = "Reviewed the court file with the keyboard: the People move to dismiss."

#: The focused element, described, with whether its focus indicator shows.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  // A date field's own calendar button (inside the browser's shadow tree) has the focus:
  // the field is then :focus-within, not :focus, and the button draws the outline.
  const picker = el.matches('input[type=date]') && el.matches(':focus-within')
    && !el.matches(':focus');
  const outline = picker ||
    (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2);
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id || '', name: el.getAttribute('name') || '',
    type: el.getAttribute('type') || '', text: (el.innerText || el.value || '').trim().slice(0, 80),
    href: el.getAttribute('href') || '', visible: outline || shadow,
    style: style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.boxShadow,
    onscreen: box.width > 0 && box.height > 0,
    path: (() => { const parts = []; let n = el;
      while (n && n !== document.body) {
        const i = n.parentNode ? Array.prototype.indexOf.call(n.parentNode.children, n) : 0;
        parts.unshift(n.tagName + ':' + i); n = n.parentNode; }
      return parts.join('/'); })(),
  };
}"""

#: How many elements a Tab stops at on the page (visible, enabled, not tabindex=-1).
_TABBABLE = """() => Array.from(document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]'))
  .filter(el => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== 'hidden').length"""


def focused(page: Any) -> dict[str, Any] | None:
    info: dict[str, Any] | None = page.evaluate(_FOCUS)
    return info


def tab(page: Any, key: str = "Tab") -> dict[str, Any] | None:
    """One Tab; the focused element must show its focus."""
    page.keyboard.press(key)
    info = focused(page)
    if info is not None:
        assert info["visible"], f"no visible focus on {info}"
    return info


def tab_to(page: Any, matches: Any, limit: int = 400) -> dict[str, Any]:
    """Tab until the focused element matches; fails if it is never reached (or focus is
    trapped before it)."""
    for _ in range(limit):
        info = tab(page)
        if info is not None and matches(info):
            return info
    raise AssertionError("control not reachable with Tab")


def start_at_top(page: Any) -> None:
    """Put the keyboard's starting point at the top of the page, as on arrival: the next Tab
    goes to the first control."""
    page.evaluate(
        """() => { const mark = document.createElement('span'); mark.tabIndex = -1;
        document.body.prepend(mark); mark.focus(); mark.remove(); }"""
    )


def no_trap(page: Any) -> None:
    """Tabbing from the top goes through every control of the page and leaves it: as many
    distinct stops as the page has tabbable elements, then out of the page."""
    start_at_top(page)
    expected = int(page.evaluate(_TABBABLE))
    seen: list[str] = []
    # A date field takes several stops (month, day, year, its calendar button): one control.
    for _ in range(4 * expected + 5):
        info = tab(page)
        if info is None:
            break
        if not seen or seen[-1] != info["path"]:
            seen.append(info["path"])
    else:
        raise AssertionError(f"focus never left the page: trapped after {len(seen)} stops")
    assert len(set(seen)) == len(seen) == expected, (len(set(seen)), len(seen), expected)
    # Back into the page, at its top, as on arrival.
    page.bring_to_front()
    start_at_top(page)


def press_to_choose(page: Any, selector: str, value: str) -> None:
    """A focused <select> set with the arrow keys (Home, then Down until the value)."""
    page.keyboard.press("Home")
    for _ in range(200):
        if page.eval_on_selector(selector, "el => el.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector}: {value} not reachable with the arrow keys")


def is_link(text: str) -> Any:
    return lambda info: info["tag"] == "a" and info["text"] == text


def is_id(element_id: str) -> Any:
    return lambda info: info["id"] == element_id


def check_page(page: Any, where: str) -> None:
    # Parts of a page that load after it (the dashboard's state-record tile) change its
    # controls: count them once the page has settled.
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[hx-trigger=load]')")
    no_trap(page)
    found = axe_violations(page, where)
    assert not found, "\n".join(found)


def test_the_main_path_with_the_keyboard_only(server: Server, browser: Any, tmp_path: Path) -> None:
    base = server.base
    context = browser.new_context(
        accept_downloads=True, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(60_000)

    # Sign in: the username field has the focus; Tab to the password; Enter submits.
    page.goto(base + "/login")
    check_page(page, "sign in")
    page.goto(base + "/login")
    tab_to(page, is_id("username"))
    page.keyboard.type("attorney")
    tab_to(page, is_id("password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    check_page(page, "runs")

    # The first stop is the link that skips to the content.
    first = tab(page)
    assert first is not None and first["href"] == "#content"

    # New run: county, policy and date by keys, the file through the chooser Space opens.
    tab_to(page, is_link("New run"))
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/runs/new")
    check_page(page, "new run")
    tab_to(page, is_id("county"))
    press_to_choose(page, "#county", "Sacramento")
    tab_to(page, is_id("policy"))
    press_to_choose(page, "#policy", "sacramento-2019")
    tab_to(page, is_id("as_of"))
    page.keyboard.type("01012024")
    assert page.eval_on_selector("#as_of", "el => el.value") == "2024-01-01"
    tab_to(page, is_id("file"))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(SAMPLE))
    tab_to(page, lambda i: i["tag"] == "button" and i["text"] == "Upload and run")
    page.keyboard.press("Enter")
    page.wait_for_selector("#headline")
    run_id = int(re.search(r"/runs/(\d+)$", page.url).group(1))  # type: ignore[union-attr]
    check_page(page, "dashboard")

    # The review queue, then the first person of the queue.
    tab_to(page, is_link("Review queue"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/runs/{run_id}/review")
    check_page(page, "review queue")
    person = tab_to(page, lambda i: i["tag"] == "a" and "/people/" in i["href"])
    count_id = person["href"].rsplit("#count-", 1)[-1]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/people/"))
    check_page(page, "person")

    # Override the count with a note (to a decision other than the one proposed).
    proposed = page.locator(f"#count-{count_id} h3 .badge").first.get_attribute("class") or ""
    target = "not_eligible" if "dismiss" in proposed.split() else "dismiss"
    tab_to(page, is_id(f"action-{count_id}"))
    press_to_choose(page, f"#action-{count_id}", "override")
    tab_to(page, is_id(f"decision-{count_id}"))
    press_to_choose(page, f"#decision-{count_id}", target)
    tab_to(page, is_id(f"note-{count_id}"))
    page.keyboard.type(NOTE)
    save = tab_to(page, lambda i: i["tag"] == "button" and i["text"] == "Save review")
    assert save["tag"] == "button"
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-result, #review-error, .notice.error")
    assert page.locator("#review-result").count() == 1, page.inner_text("main")
    assert "Overridden" in page.inner_text(f"#review-state-{count_id}")
    check_page(page, "person, review saved")

    # Build the filings from the reviewed decisions (the details were filled in before).
    tab_to(page, is_link(f"run #{run_id}"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/runs/{run_id}")
    tab_to(page, is_link("Downloads"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/runs/{run_id}/files")
    check_page(page, "downloads")
    # The filing details the policy leaves blank, typed in, field after field.
    fields = page.eval_on_selector_all(
        "#filings-form input[id^=filing-]", "els => els.map(e => [e.id, e.value])"
    )
    for element_id, value in fields:
        if not value:
            tab_to(page, is_id(element_id))
            page.keyboard.type(FILING[element_id.removeprefix("filing-")])
    tab_to(page, is_id("build-filings"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#filings-result, .notice.error")
    assert page.locator("#filings-result").count() == 1, page.inner_text("main")
    check_page(page, "filings built")

    # Download a filing with Enter on its link. Only reviewed decisions are filed, and the one
    # reviewed here may land in a motion, a notice or the challenge papers: any PDF will do.
    # Its name carries its folder (filings-...), the name it is saved under.
    link = tab_to(page, lambda i: i["tag"] == "a" and re.search(r"^filings-.*\.pdf$", i["text"]))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == link["text"]
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    context.close()
