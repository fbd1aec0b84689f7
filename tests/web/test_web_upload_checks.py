"""Checks before a run starts: the county must be in the file (a refusal names the counties
found), and an as-of date before Proposition 64 or in the future must be confirmed."""

from __future__ import annotations

import gzip
import html
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from web_site import SAMPLE, Site, login, sample_with_arrest_in

from clearance.store.models import Run
from clearance.web.upload_checks import as_of_warning, county_pattern, file_names_county


def _post(
    client: TestClient, token: str, path: Path, county: str, as_of: str, **extra: str
) -> Response:
    with path.open("rb") as handle:
        return client.post(
            "/runs",
            data={"csrf_token": token, "county": county, "policy": "statute", "as_of": as_of}
            | extra,
            files={"file": (path.name, handle, "application/octet-stream")},
        )


def _runs(site: Site) -> int:
    with site.app.state.sessions() as db:
        return int(db.execute(select(func.count()).select_from(Run)).scalar_one())


def _nothing_stored(site: Site) -> bool:
    return list((site.data_dir / "uploads").iterdir()) == [] and _runs(site) == 0


def test_a_county_the_file_does_not_hold_is_refused_naming_the_counties_found(
    site: Site,
) -> None:
    with site.client() as client:
        token = login(client, "analyst")
        response = _post(client, token, SAMPLE, "Alpine", "2024-01-01")
        assert response.status_code == 400
        text = html.unescape(response.text)
        assert "Alpine does not appear in this file" in text
        named = text.split("its court records are from ", 1)[1].split(")", 1)[0]
        assert "Sacramento" in named.split(", ")
        assert 'id="upload-error"' in text
        # The form keeps what was chosen.
        assert '<option value="Alpine" selected>' in response.text
        assert _nothing_stored(site)


def test_the_whole_file_is_searched_when_the_first_rows_do_not_name_the_county(
    tmp_path: Path,
) -> None:
    # One arrest in Alpine at the very end, far past the first megabyte the format check reads.
    alpine = sample_with_arrest_in(tmp_path, "ALPINE")
    assert file_names_county(alpine, "Alpine")
    assert not file_names_county(SAMPLE, "Alpine")
    assert file_names_county(SAMPLE, "sacramento")
    # Any case and spacing as the reader normalises it; never inside a longer word.
    pattern = county_pattern("San Luis Obispo")
    assert pattern.search(b",SAN LUIS  OBISPO,") and pattern.search(b",SAN-LUIS_OBISPO,")
    assert not county_pattern("Inyo").search(b",INYOKERN,")
    # A name split across two blocks of the read is found.
    plain = tmp_path / "split.dat"
    plain.write_bytes(b"x" * (4 * 1024 * 1024 - 3) + b",SAN JOAQUIN,\n")
    assert file_names_county(plain, "San Joaquin")
    packed = tmp_path / "split.dat.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert file_names_county(packed, "San Joaquin")


def test_an_unusual_as_of_date_must_be_confirmed(site: Site) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with site.client() as client:
        token = login(client, "analyst")
        for as_of, words in (("1990-06-01", "before Proposition 64"), (tomorrow, "in the future")):
            response = _post(client, token, SAMPLE, "Sacramento", as_of)
            assert response.status_code == 400, as_of
            text = html.unescape(response.text)
            assert words in text and f"The as-of date {as_of}" in text
            # The confirmation box is shown, required, for that exact date.
            assert 'id="as-of-confirm" hidden' not in response.text
            assert f'name="confirm_as_of" value="{as_of}" required' in response.text
            assert _nothing_stored(site)
            # Confirming another date does not confirm this one.
            assert (
                _post(
                    client, token, SAMPLE, "Sacramento", as_of, confirm_as_of="2020-01-01"
                ).status_code
                == 400
            )
            assert _nothing_stored(site)
        confirmed = _post(client, token, SAMPLE, "Sacramento", "1990-06-01",
                          confirm_as_of="1990-06-01")  # fmt: skip
        assert confirmed.status_code == 303, confirmed.text
        # An ordinary date needs no confirmation, and the box stays hidden.
        assert _post(client, token, SAMPLE, "Sacramento", "2024-01-01").status_code == 303
        assert 'id="as-of-confirm" hidden' in client.get("/runs/new").text


def test_as_of_warning_bounds() -> None:
    today = date(2026, 12, 6)
    assert as_of_warning(date(2016, 11, 9), today) is None
    assert as_of_warning(today, today) is None
    assert as_of_warning(date(2016, 11, 8), today)
    assert as_of_warning(date(2026, 12, 7), today)
