"""The workspace's state-record page: reconcile a run with a newer upload, keep the history,
list the pending cases, show the dashboard tile; audited, and refused without the right."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from web_site import SAMPLE, Site, login, make_site, upload_sample

from clearance.store.db import session_factory
from clearance.store.models import AuditEntry, Reconciliation
from clearance.synth_age import age_file


@pytest.fixture(scope="module")
def site_run(tmp_path_factory: pytest.TempPathFactory, template: Path) -> tuple[Site, int, Path]:
    from clearance.store import users as store_users

    original = store_users.sleep
    store_users.sleep = lambda _seconds: None
    try:
        base = tmp_path_factory.mktemp("web-reconcile")
        site = make_site(base / "data", template)
        with site.client() as client:
            token = login(client, "analyst")
            run_id = upload_sample(client, token)
        newer = base / "newer.dat.gz"
        age_file(site.data_dir / "runs" / str(run_id), SAMPLE, newer, unchanged=0.3, seed=4)
        return site, run_id, newer
    finally:
        store_users.sleep = original


def _post(client, token: str, run_id: int, path: Path, **fields: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(
            f"/runs/{run_id}/reconcile",
            data={"csrf_token": token, **fields},
            files={"file": (path.name, handle, "application/octet-stream")},
        )


def test_reconcile_in_the_workspace(site_run: tuple[Site, int, Path], tmp_path: Path) -> None:
    site, run_id, newer = site_run
    key = pl.read_csv(newer.with_name(newer.name + ".aging.csv"), infer_schema=False)
    pending = key.filter(pl.col("fate") == "pending").height
    with site.client() as client:
        token = login(client, "analyst")
        page = client.get(f"/runs/{run_id}/reconcile")
        assert page.status_code == 200 and "not been reconciled yet" in page.text
        assert "not reconciled yet" in client.get(f"/runs/{run_id}/reconcile/tile").text
        assert f"/runs/{run_id}/reconcile/tile" in client.get(f"/runs/{run_id}").text
        # A bad date is refused with the form kept, and nothing is kept.
        response = _post(client, token, run_id, newer, kind="doj", as_of="soon")
        assert response.status_code == 400 and "as-of date must be a date" in response.text
        assert not (site.data_dir / "runs" / str(run_id) / "reconcile" / "1").exists()
        response = _post(
            client, token, run_id, newer, kind="doj", as_of="2024-06-03", order_date="2024-03-01"
        )
        assert response.status_code == 303, response.text
        page = client.get(f"/runs/{run_id}/reconcile")
        assert f"{pending:,} pending" in page.text
        assert 'id="pending-cases"' in page.text and "Days pending (since the order)" in page.text
        tile = client.get(f"/runs/{run_id}/reconcile/tile").text
        assert f'<div class="big">{pending:,}</div>' in tile
        report = client.get(f"/runs/{run_id}/files/reconcile/1/reconcile.pdf")
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
        # The court's response later: every relieved case reported dismissed or reduced.
        cases = key["court_case_number"].drop_nulls().unique().sort().to_list()
        court = tmp_path / "court.csv"
        court.write_text(
            "case_number,action\n" + "".join(f"{c},dismissed and sealed\n" for c in cases),
            encoding="utf-8",
        )
        response = _post(client, token, run_id, court, kind="court", as_of="2024-09-02")
        assert response.status_code == 303, response.text
        page = client.get(f"/runs/{run_id}/reconcile")
        assert page.text.count("<tr><td>") >= 2
    with session_factory(site.url)() as db:
        kept = db.scalars(select(Reconciliation).order_by(Reconciliation.id)).all()
        assert [r.source_kind for r in kept] == ["doj", "court"]
        assert kept[0].pending == pending
        assert kept[1].pending < kept[0].pending
        actions = db.scalars(select(AuditEntry.actor).where(AuditEntry.action == "reconcile")).all()
        assert actions == ["analyst", "analyst"]


def test_viewers_cannot_reconcile(site_run: tuple[Site, int, Path]) -> None:
    site, run_id, newer = site_run
    with site.client() as client:
        token = login(client, "viewer")
        response = _post(client, token, run_id, newer, kind="doj", as_of="2024-06-03")
        assert response.status_code == 403
        page = client.get(f"/runs/{run_id}/reconcile")
        assert page.status_code == 200 and 'id="reconcile-form"' not in page.text
