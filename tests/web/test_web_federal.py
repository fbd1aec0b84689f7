"""The federal tab of a run: decisions and reasons for the roles that review, and the packets."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_site import Site, csrf_of, login

from clearance.cli import app as cli_app
from clearance.outputs.folder import verify_folder
from clearance.store.db import session_factory
from clearance.store.runs import store_run

FEDERAL_SHEET = """\
CII/A99999999
DOB/19700101  SEX/F  RAC/W
NAM/01 EXAMPLE, FEDERICA
* * * *
ARR/DET/CITE:         NAM:01
20150505  US PARK POLICE WASHINGTON
CNT:01
  21 USC 844 -POSSESSION OF MARIJUANA
- - - -
COURT:                NAM:01
20150901  US DISTRICT COURT DISTRICT OF COLUMBIA
CNT:01     #15CR3001
  21 USC 844 -POSSESSION OF MARIJUANA
*DISPO:CONVICTED
   SEN: 010 DAYS JAIL
* * * *
ARR/DET/CITE:         NAM:01
20180303  CAPD SACRAMENTO
CNT:01
  11357 HS-POSSESSION OF MARIJUANA
- - - -
COURT:                NAM:01
20180601  CASC SACRAMENTO
CNT:01     #18M0001
  11357 HS-POSSESSION OF MARIJUANA
*DISPO:CONVICTED
CONV STATUS:MISDEMEANOR
* * * END OF MESSAGE * * *
"""


def _stored_run(site: Site, tmp_path: Path, sheet: Path) -> int:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli_app,
        ["run", str(sheet), "--county", "sacramento", "--as-of", "2026-01-01", "--out",
         str(out), "--no-what-if", "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with session_factory(site.url)() as db:
        return store_run(db, out, [sheet], "cli:test").id


@pytest.fixture
def federal_run(site: Site, tmp_path: Path) -> int:
    sheet = tmp_path / "federal-sheet.txt"
    sheet.write_text(FEDERAL_SHEET, encoding="utf-8")
    return _stored_run(site, tmp_path, sheet)


def test_attorney_sees_decisions_builds_packets_and_downloads_them(
    site: Site, federal_run: int
) -> None:
    with site.client() as client:
        login(client, "attorney")
        page = client.get(f"/runs/{federal_run}/federal")
        assert page.status_code == 200, page.text
        assert 'id="federal-table"' in page.text
        assert "21 USC 844" in page.text
        assert "covered 2022" in page.text
        assert "fed_2022_simple_possession" in page.text
        assert "US DISTRICT COURT DISTRICT OF COLUMBIA" in page.text
        assert "/federal/packets/" not in page.text  # not built yet
        built = client.post(f"/runs/{federal_run}/federal", data={"csrf_token": csrf_of(page.text)})
        assert built.status_code == 303
        page = client.get(f"/runs/{federal_run}/federal")
        assert "1 certificate-application packets" in page.text
        link = f"/runs/{federal_run}/files/federal/packets/"
        assert link in page.text
        start = page.text.index(link)
        href = page.text[start : page.text.index('"', start)]
        pdf = client.get(href)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        csv_file = client.get(f"/runs/{federal_run}/files/federal/federal.csv")
        assert b"covered_2022" in csv_file.content


def test_roles_that_do_not_review_cannot_see_or_build(site: Site, federal_run: int) -> None:
    with site.client() as client:
        token = login(client, "analyst")
        assert client.get(f"/runs/{federal_run}/federal").status_code == 403
        refused = client.post(f"/runs/{federal_run}/federal", data={"csrf_token": token})
        assert refused.status_code == 403
        run_page = client.get(f"/runs/{federal_run}")
        assert f"/runs/{federal_run}/federal" not in run_page.text
    with site.client() as client:
        login(client, "attorney")
        missing_token = client.post(f"/runs/{federal_run}/federal", data={})
        assert missing_token.status_code in (400, 403)


def test_a_run_without_federal_entries_says_so(site: Site, tmp_path: Path) -> None:
    sheet = tmp_path / "state-only.txt"
    sheet.write_text(FEDERAL_SHEET.split("* * * *\n", 2)[0] + "* * * *\n"
                     + FEDERAL_SHEET.split("* * * *\n", 2)[2], encoding="utf-8")  # fmt: skip
    run_id = _stored_run(site, tmp_path, sheet)
    with site.client() as client:
        login(client, "admin")
        page = client.get(f"/runs/{run_id}/federal")
        assert page.status_code == 200
        assert 'id="federal-none"' in page.text


def test_federal_outputs_are_written_whole_or_not_at_all(
    site: Site, federal_run: int, tmp_path: Path
) -> None:
    federal = tmp_path / "run" / "federal"
    with site.client() as client:
        login(client, "attorney")
        token = csrf_of(client.get(f"/runs/{federal_run}/federal").text)
        built = client.post(f"/runs/{federal_run}/federal", data={"csrf_token": token})
        assert built.status_code == 303
        assert 'id="federal-result"' in client.get(f"/runs/{federal_run}/federal").text
        assert verify_folder(federal).whole
        before = {p: p.read_bytes() for p in federal.rglob("*") if p.is_file()}
        # Another writer holds the folder: refused with a message, the previous set unchanged.
        with (tmp_path / "run" / ".federal.lock").open("a+") as held:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            refused = client.post(f"/runs/{federal_run}/federal", data={"csrf_token": token})
        assert refused.status_code == 303
        page = client.get(f"/runs/{federal_run}/federal").text
        assert 'id="federal-error"' in page and 'id="federal-result"' not in page
        assert "were not written (the previous ones are unchanged)" in page
        assert str(tmp_path) not in page
        assert {p: p.read_bytes() for p in federal.rglob("*") if p.is_file()} == before
        assert not [p for p in federal.parent.iterdir() if p.name.startswith(".federal.b")]
