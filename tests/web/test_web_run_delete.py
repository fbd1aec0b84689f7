"""Deleting a run: its folder and its rows go, audited; only an administrator or the run's
owner may; a queued or running run is refused until cancelled."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from web_client import post_run, run_id_of
from web_site import SAMPLE, Site, csrf_of, login, slow_job, upload_sample

from clearance.store.models import AuditEntry, Determination, Person, Run, RunInput


def _count(site: Site, model: type, run_id: int) -> int:
    with site.app.state.sessions() as db:
        column = model.id if model is Run else model.run_id  # type: ignore[attr-defined]
        return int(db.execute(select(func.count()).where(column == run_id)).scalar_one())


def test_the_owner_deletes_a_run_with_its_files_and_rows(site: Site) -> None:
    with site.client() as analyst:
        token = login(analyst, "analyst")
        run_id = upload_sample(analyst, token)
        folder = site.data_dir / "runs" / str(run_id)
        assert folder.is_dir() and _count(site, Determination, run_id) > 0

        # Others may not: not the attorney who did not start it, not a viewer.
        for role in ("attorney", "viewer"):
            with site.client() as other:
                other_token = login(other, role)
                assert f"/runs/{run_id}/delete" not in other.get(f"/runs/{run_id}").text
                assert other.get(f"/runs/{run_id}/delete").status_code == 403
                refused = other.post(f"/runs/{run_id}/delete", data={"csrf_token": other_token})
                assert refused.status_code == 403
        assert folder.is_dir()
        # Without the CSRF token, nothing happens.
        assert analyst.post(f"/runs/{run_id}/delete", data={}).status_code == 403

        page = analyst.get(f"/runs/{run_id}").text
        assert f'href="/runs/{run_id}/delete"' in page
        confirm = analyst.get(f"/runs/{run_id}/delete")
        assert confirm.status_code == 200 and 'id="delete-run"' in confirm.text
        response = analyst.post(
            f"/runs/{run_id}/delete", data={"csrf_token": csrf_of(confirm.text)}
        )
        assert response.status_code == 303 and response.headers["location"] == "/"
        listing = analyst.get("/").text
        assert f"Deleted run #{run_id}" in listing and f'href="/runs/{run_id}"' not in listing
        assert analyst.get(f"/runs/{run_id}").status_code == 404
        assert analyst.get(f"/runs/{run_id}/files/convictions.csv").status_code == 404

    assert not folder.exists()
    assert [p.name for p in (site.data_dir / "runs").iterdir()] == []
    assert list((site.data_dir / "uploads").iterdir()) == []
    for model in (Run, Determination, Person, RunInput):
        assert _count(site, model, run_id) == 0, model
    with site.app.state.sessions() as db:
        entry = db.execute(
            select(AuditEntry).where(AuditEntry.action == "run.deleted")
        ).scalar_one()
    assert entry.actor == "analyst" and entry.target == f"run:{run_id}"
    assert '"determinations":' in entry.details_json


def test_an_admin_may_delete_any_run_but_not_a_running_one(site: Site) -> None:
    site.app.state.jobs.target = slow_job
    with site.client() as analyst, site.client() as admin:
        token = login(analyst, "analyst")
        run_id = run_id_of(post_run(analyst, token, SAMPLE))
        admin_token = login(admin, "admin")
        page = admin.get(f"/runs/{run_id}/delete")
        assert page.status_code == 200 and 'id="delete-refused"' in page.text
        refused = admin.post(f"/runs/{run_id}/delete", data={"csrf_token": admin_token})
        assert refused.status_code == 409
        assert "Cancel it first" in refused.text
        assert _count(site, Run, run_id) == 1

        assert (
            admin.post(f"/runs/{run_id}/cancel", data={"csrf_token": admin_token}).status_code
            == 303
        )
        for _ in range(600):
            with site.app.state.sessions() as db:
                run = db.get(Run, run_id)
                assert run is not None
                if run.status == "failed" and site.app.state.jobs.active() == 0:
                    break
            time.sleep(0.1)
        deleted = admin.post(f"/runs/{run_id}/delete", data={"csrf_token": admin_token})
        assert deleted.status_code == 303
        assert _count(site, Run, run_id) == 0
    assert list((site.data_dir / "uploads").iterdir()) == []
