"""What a run leaves and who may take it: a failed run leaves nothing, uploads are deleted after
every run (and on restart), results.csv is for roles that may see full records, the run's
policy link shows the text the run used, and refused requests are audited."""

from __future__ import annotations

import html
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_site import SAMPLE, DoneRun, Site, csrf_of, late_failing_job, login, make_site

from clearance.store.models import AuditEntry, Run
from clearance.web import create_app


def _upload(client: TestClient, token: str, policy: str = "sacramento-2019") -> int:
    with SAMPLE.open("rb") as handle:
        response = client.post(
            "/runs",
            data={
                "csrf_token": token,
                "county": "Sacramento",
                "policy": policy,
                "as_of": "2024-01-01",
            },
            files={"file": (SAMPLE.name, handle, "application/octet-stream")},
        )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[-1])


def _wait(site: Site, run_id: int) -> Run:
    """The run once it has ended and its job has cleaned up after it."""
    for _ in range(1200):
        with site.app.state.sessions() as db:
            run = db.get(Run, run_id)
            assert run is not None
            if run.status in ("done", "failed") and site.app.state.jobs.active() == 0:
                return run
        time.sleep(0.1)
    raise AssertionError("the run did not end")


def test_a_run_that_fails_late_leaves_no_file_and_a_plain_message(site: Site) -> None:
    # The worker writes part of the run folder (personal data), then dies.
    site.app.state.jobs.target = late_failing_job
    with site.client() as client:
        token = login(client, "analyst")
        with site.client() as viewer:
            login(viewer, "viewer")
            run_id = _upload(client, token)
            run = _wait(site, run_id)
            assert run.status == "failed"
            page = client.get(f"/runs/{run_id}").text
            assert "unexpected problem" in page
            assert "Error" not in page.replace("error", "") and "internal error" not in page
            assert str(site.data_dir) not in page
            for name in ("convictions.csv", "people.csv", "results.csv", "summary.json"):
                assert viewer.get(f"/runs/{run_id}/files/{name}").status_code == 404
                assert client.get(f"/runs/{run_id}/files/{name}").status_code == 404
    assert not (site.data_dir / "runs" / str(run_id)).exists()
    assert list((site.data_dir / "uploads").iterdir()) == []


def test_uploads_are_gone_after_a_run_and_after_a_restart(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template)
    with site.client() as client:
        token = login(client, "analyst")
        run_id = _upload(client, token)
        assert _wait(site, run_id).status == "done"
    assert list((site.data_dir / "uploads").iterdir()) == []

    # A server that stopped mid-run: its run row says running, its upload and partial folder
    # are on disk. The next start fails the run and deletes both.
    with site.app.state.sessions() as db:
        run = db.get(Run, run_id)
        assert run is not None
        run.status = "running"
        db.commit()
    left = site.data_dir / "uploads" / "leftover"
    left.mkdir()
    (left / "county.dat").write_text("personal data", encoding="utf-8")
    restarted = create_app(site.url, site.data_dir)
    with TestClient(restarted):
        pass
    assert list((site.data_dir / "uploads").iterdir()) == []
    assert not (site.data_dir / "runs" / str(run_id)).exists()
    with site.app.state.sessions() as db:
        run = db.get(Run, run_id)
        assert run is not None and run.status == "failed"


def test_viewers_cannot_take_full_records(done_run: DoneRun) -> None:
    site, run_id = done_run.site, done_run.run_id
    with site.client() as viewer:
        login(viewer, "viewer")
        listing = viewer.get(f"/runs/{run_id}/files").text
        assert "results.csv" not in listing
        assert "record/" not in listing
        refused = viewer.get(f"/runs/{run_id}/files/results.csv")
        assert refused.status_code == 403
        assert viewer.get(f"/runs/{run_id}/files/convictions.csv").status_code == 200
    with site.client() as analyst:
        login(analyst, "analyst")
        listing = analyst.get(f"/runs/{run_id}/files").text
        assert "results.csv" in listing and "record/" not in listing
        assert analyst.get(f"/runs/{run_id}/files/results.csv").status_code == 200
    with site.app.state.sessions() as db:
        refusals = [
            e
            for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if e.action == "access.refused"
        ]
    assert refusals and refusals[-1].actor == "viewer"
    assert refusals[-1].target == "/runs/{run_id}/files/{relative:path}"


def test_refused_actions_are_audited_without_values(done_run: DoneRun) -> None:
    site = done_run.site
    with site.client() as client:
        token = login(client, "viewer")
        assert client.get("/users").status_code == 403
        assert client.post("/runs/1/filings", data={"csrf_token": token}).status_code == 403
    with site.app.state.sessions() as db:
        targets = [
            e.target
            for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if e.action == "access.refused"
        ]
    assert "/users" in targets and "/runs/{run_id}/filings" in targets


def test_the_run_policy_link_shows_the_text_the_run_used(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template)
    with site.client() as client:
        token = login(client, "attorney")
        page = client.get("/policies/new?start=sacramento-2019").text
        text = page.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
        original = html.unescape(text).replace("name: sacramento-2019", "name: office-2024", 1)
        saved = client.post("/policies", data={"csrf_token": csrf_of(page), "text": original})
        assert saved.status_code == 303, saved.text
        token = csrf_of(client.get("/runs/new").text)
        run_id = _upload(client, token, policy="office-2024")
        assert _wait(site, run_id).status == "done"
        changed = original.replace("title:", "# changed by another attorney\ntitle:", 1)
        page = client.get("/policies/new?start=office-2024").text
        assert (
            client.post(
                "/policies", data={"csrf_token": csrf_of(page), "text": changed}
            ).status_code
            == 303
        )
        dashboard = client.get(f"/runs/{run_id}").text
        assert f'href="/runs/{run_id}/policy"' in dashboard
        shown = client.get(f"/runs/{run_id}/policy").text
        assert "changed by another attorney" not in shown
        assert 'id="policy-changed"' in shown
        assert "changed by another attorney" in client.get("/policies/office-2024").text
