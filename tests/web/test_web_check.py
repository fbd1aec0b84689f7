"""The "check one record" page: one RAP sheet in, decisions with reasons and the packet out,
for the roles that run; nobody else sees another user's check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from web_site import Site, csrf_of, login

from clearance.outputs.folder import verify_folder

SHEETS = Path(__file__).resolve().parents[1] / "records" / "rapsheets"
SHEET = """CII/A55555555
DOB/19800101    SEX/F
NAM/01 CHECKED, ONE R
* * * *
ARR/DET/CITE:         NAM:01
20100110  CAPD SAN FRANCISCO
CNT:01
  11359 HS-POSSESS MARIJUANA FOR SALE
- - - -
COURT:                NAM:01
20100301  CASC SAN FRANCISCO

CNT:01     #2010-SF-88
  11359 HS-POSSESS MARIJUANA FOR SALE
*DISPO:CONVICTED
   CONV STATUS:FELONY
   SEN: 003 YEARS PROBATION
* * * *
MYSTERY EVENT:        NAM:01
20120101  CAPD OAKLAND
* * * END OF MESSAGE * * *
"""


def _check(site: Site, user: str, text: str = SHEET, name: str = "sheet.txt"):  # type: ignore[no-untyped-def]
    client = site.client()
    token = login(client, user)
    page = client.get("/check")
    assert page.status_code == 200
    response = client.post(
        "/check",
        data={"csrf_token": csrf_of(page.text), "policy": "statute", "as_of": "2026-11-21"},
        files={"file": (name, text.encode(), "text/plain")},
    )
    return client, token, response


def test_an_attorney_checks_a_record_and_downloads_the_packet(site: Site) -> None:
    client, _, response = _check(site, "attorney")
    assert response.status_code == 200, response.text
    html = response.text
    assert "CHECKED,ONE R" in html
    assert "San Francisco County" in html
    assert "HS 11359" in html and "2010-SF-88" in html
    assert "misdemeanor" in html  # reduced to a misdemeanor, with the reasons listed
    assert "1 not recognised" in html
    link = re.search(r'href="(/check/[a-f0-9]{32}/packet/0)"', html)
    assert link, html
    packet = client.get(link.group(1))
    assert packet.status_code == 200
    assert packet.content.startswith(b"%PDF-")
    assert packet.headers["content-disposition"].startswith("attachment")
    again = client.get(link.group(1).rsplit("/packet", 1)[0])
    assert again.status_code == 200 and "2010-SF-88" in again.text


def test_an_analyst_may_check_a_viewer_may_not(site: Site) -> None:
    _, _, response = _check(site, "analyst")
    assert response.status_code == 200
    viewer = site.client()
    login(viewer, "viewer")
    assert viewer.get("/check").status_code == 403


def test_another_user_cannot_open_a_check(site: Site) -> None:
    _, _, response = _check(site, "attorney")
    link = re.search(r'href="(/check/[a-f0-9]{32})/packet/0"', response.text)
    assert link
    other = site.client()
    login(other, "analyst")
    assert other.get(link.group(1)).status_code == 404
    assert other.get(link.group(1) + "/packet/0").status_code == 404
    admin = site.client()
    login(admin, "admin")
    assert admin.get(link.group(1)).status_code == 200


def test_refusals_keep_nothing(site: Site) -> None:
    _, _, response = _check(site, "attorney", name="sheet.docx")
    assert response.status_code == 400
    assert "a RAP sheet is a .txt or .pdf file" in response.text
    _, _, response = _check(site, "attorney", text="just some words\n")
    assert response.status_code == 400
    assert "not a RAP sheet" in response.text
    checks = site.data_dir / "checks"
    assert not checks.exists() or not any(checks.iterdir())


def test_a_post_without_the_token_is_refused(site: Site) -> None:
    client = site.client()
    login(client, "attorney")
    response = client.post(
        "/check",
        data={"policy": "statute", "as_of": "2026-11-21"},
        files={"file": ("sheet.txt", SHEET.encode(), "text/plain")},
    )
    assert response.status_code == 403


def test_a_check_is_written_whole_or_not_at_all(site: Site) -> None:
    _, _, response = _check(site, "attorney")
    assert response.status_code == 200, response.text
    checks = site.data_dir / "checks"
    (folder,) = list(checks.iterdir())  # nothing beside it: no half-built folder, no lock
    assert verify_folder(folder).whole
    # A data folder where no check can be written: refused in words, nothing kept.
    shutil.rmtree(checks)
    checks.write_text("not a folder", encoding="utf-8")
    _, _, response = _check(site, "attorney")
    assert response.status_code == 503
    assert "could not be written on the server; nothing was kept" in response.text
    assert str(site.data_dir) not in response.text
    assert sorted(p.name for p in site.data_dir.iterdir() if "check" in p.name) == ["checks"]
