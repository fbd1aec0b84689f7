"""Policies are versioned: a save never overwrites, each version keeps who saved it and when,
the history page lists them with a diff between any two, and a run links to the exact
version it used."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_site import Site, csrf_of, login

from clearance.policy.loader import policy_text
from clearance.store.models import AuditEntry
from clearance.web.policy_versions import (
    BEFORE_VERSIONS,
    add_version,
    diff_rows,
    list_versions,
)

NAME = "office-2024"


def _text(title: str = "Office policy") -> str:
    base = policy_text("sacramento-2019").replace("name: sacramento-2019", f"name: {NAME}", 1)
    return re.sub(r"(?m)^title:.*$", f"title: {title}", base, count=1)


def _save(client: TestClient, text: str) -> str:
    token = csrf_of(client.get("/policies/new").text)
    response = client.post("/policies", data={"csrf_token": token, "text": text})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_saving_adds_versions_with_who_and_when_and_never_overwrites(site: Site) -> None:
    first, second = _text("Office policy"), _text("Office policy, amended")
    with site.client() as attorney:
        login(attorney, "attorney")
        assert _save(attorney, first) == f"/policies/{NAME}"
        assert "as version 1" in attorney.get(f"/policies/{NAME}").text
    with site.client() as admin:
        login(admin, "admin")
        _save(admin, second)
        page = admin.get(f"/policies/{NAME}").text
        assert "as version 2" in page and f'href="/policies/{NAME}/versions"' in page

        history = admin.get(f"/policies/{NAME}/versions").text
        rows = re.findall(r"<tr>\s*<td class=\"num\"><a[^>]*>version (\d+)</a>.*?<td>(\w+)</td>",
                          history, re.S)  # fmt: skip
        assert rows == [("2", "admin"), ("1", "attorney")]
        # Each version's text is the one saved, unchanged.
        one = admin.get(f"/policies/{NAME}/versions/1").text
        assert "title: Office policy</span>" in html.unescape(one)
        assert "amended" not in one
        assert "amended" in admin.get(f"/policies/{NAME}/versions/2").text

        diff = admin.get(f"/policies/{NAME}/diff?from=1&to=2").text
        assert "<strong>1</strong> line added, <strong>1</strong> line removed" in diff
        assert re.search(r'<tr class="removed">.*?title: Office policy</td>', diff)
        assert re.search(r'<tr class="added">.*?title: Office policy, amended</td>', diff)
        assert "+ added" in diff and "− removed" in diff
        # The latest two by default; unknown or malformed versions are 404, never 500.
        assert admin.get(f"/policies/{NAME}/diff").text == diff
        for bad in ("from=7&to=1", "from=x&to=1", f"from={2**70}&to=1", "from=-1"):
            assert admin.get(f"/policies/{NAME}/diff?{bad}").status_code == 404, bad
        assert admin.get(f"/policies/{NAME}/versions/9").status_code == 404
        assert admin.get(f"/policies/{NAME}/versions/{2**70}").status_code == 404
        assert admin.get("/policies/statute/versions").status_code == 404
        for odd in ("..", "...", "UPPER", "a%2e%2e"):
            assert admin.get(f"/policies/{odd}/versions").status_code == 404, odd

    folder = site.data_dir / "policies"
    assert (folder / f"{NAME}.yaml").read_text(encoding="utf-8") == second
    assert [v.text for v in list_versions(folder, NAME)] == [second, first]
    with site.app.state.sessions() as db:
        saved = [
            (e.actor, e.details_json)
            for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if e.action == "policy.saved"
        ]
    assert [actor for actor, _ in saved] == ["attorney", "admin"]
    assert '"version":2' in saved[-1][1].replace(" ", "")


def test_a_policy_saved_before_versions_keeps_its_text_as_version_one(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / f"{NAME}.yaml").write_text(_text("Old"), encoding="utf-8")
    latest = add_version(folder, NAME, _text("New"), "attorney")
    versions = list_versions(folder, NAME)
    assert [(v.number, v.saved_by) for v in versions] == [(2, "attorney"), (1, BEFORE_VERSIONS)]
    assert versions[1].text == _text("Old") and latest.number == 2
    # Saving the same text again adds no version.
    assert add_version(folder, NAME, _text("New"), "admin").number == 2
    assert len(list_versions(folder, NAME)) == 2


def test_saves_at_the_same_time_each_get_their_own_version(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    texts = [_text(f"Title {i}") for i in range(8)]
    threads = [
        threading.Thread(target=add_version, args=(folder, NAME, text, f"user{i}"))
        for i, text in enumerate(texts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = list_versions(folder, NAME)
    assert sorted(v.number for v in versions) == list(range(1, 9))
    assert sorted(v.text for v in versions) == sorted(texts)


def test_diff_rows_mark_changes_with_line_numbers_and_gaps() -> None:
    older = "\n".join(f"line {i}" for i in range(1, 21))
    newer = older.replace("line 2\n", "line two\n").replace("line 18", "line 18\nline 18b")
    rows = diff_rows(older, newer)
    kinds = [(r.kind, r.old, r.new, r.text) for r in rows if r.kind in ("added", "removed")]
    assert kinds == [
        ("removed", 2, None, "line 2"),
        ("added", None, 2, "line two"),
        ("added", None, 19, "line 18b"),
    ]
    assert [r.kind for r in rows].count("gap") == 1
    assert diff_rows(older, older) == []
