"""Runs as jobs in worker processes: memory limit, bounded input, progress, cancel, cleanup."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from fastapi.testclient import TestClient
from web_client import post_run, run_id_of
from web_site import SAMPLE, Site, late_failing_job, login, make_site, slow_job

from clearance.store.models import AuditEntry, Run


def _upload(client: TestClient, token: str, name: str, content: bytes) -> tuple[int, str]:
    """The new run's id, or 0 and the page that refused the upload."""
    response = post_run(client, token, (name, content))
    return (run_id_of(response), "") if response.status_code == 303 else (0, response.text)


def _wait(site: Site, run_id: int, statuses: tuple[str, ...] = ("done", "failed")) -> Run:
    for _ in range(1200):
        with site.app.state.sessions() as db:
            run = db.get(Run, run_id)
            assert run is not None
            if run.status in statuses and run_id not in site.app.state.jobs.running():
                return run
        time.sleep(0.1)
    raise AssertionError("the run did not reach " + "/".join(statuses))


def _sample_head(lines: int) -> bytes:
    with gzip.open(SAMPLE, "rb") as handle:
        return b"".join(handle.readline() for _ in range(lines))


def test_an_endless_line_is_refused_at_upload(site: Site) -> None:
    """The H1 file: valid rows, then tens of MB of 'A' with no newline, gzipped small."""
    bomb = gzip.compress(_sample_head(400) + b"A" * (64 * 1024 * 1024), compresslevel=6)
    assert len(bomb) < 1024 * 1024
    with site.client() as client:
        token = login(client, "analyst")
        run_id, page = _upload(client, token, "bomb.dat.gz", bomb)
    assert run_id == 0
    assert "longer than 1.0 MB" in page and "Nothing was stored" in page
    assert list((site.data_dir / "uploads").iterdir()) == []


def test_decompressed_size_is_limited(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template, max_decompressed_bytes=2 * 1024 * 1024)
    padded = gzip.compress(_sample_head(400) + b"\n" * (4 * 1024 * 1024))
    with site.client() as client:
        token = login(client, "analyst")
        run_id, page = _upload(client, token, "padded.dat.gz", padded)
    assert run_id == 0
    assert "decompresses to more than the limit of 2.0 MB" in page
    assert list((site.data_dir / "uploads").iterdir()) == []


def test_a_job_over_its_memory_limit_fails_cleanly(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template, job_memory_bytes=200 * 1024 * 1024)
    with site.client() as client:
        token = login(client, "analyst")
        run_id, _ = _upload(client, token, "sample.dat.gz", SAMPLE.read_bytes())
        run = _wait(site, run_id)
        assert run.status == "failed"
        assert run.error and "more memory than a job may use (200.0 MB)" in run.error
        assert client.get("/").status_code == 200, "the server itself is untouched"
    assert list((site.data_dir / "uploads").iterdir()) == []
    assert not (site.data_dir / "runs" / str(run_id)).exists()


def test_a_worker_that_dies_leaves_nothing(site: Site) -> None:
    site.app.state.jobs.target = late_failing_job
    with site.client() as client:
        token = login(client, "analyst")
        run_id, _ = _upload(client, token, "sample.dat.gz", SAMPLE.read_bytes())
        run = _wait(site, run_id)
        assert run.status == "failed" and run.error
        assert "unexpected problem" in run.error
        assert client.get(f"/runs/{run_id}/files/convictions.csv").status_code == 404
    assert not (site.data_dir / "runs" / str(run_id)).exists()
    assert list((site.data_dir / "uploads").iterdir()) == []


def test_progress_and_cancel(tmp_path: Path, template: Path) -> None:
    site = make_site(tmp_path / "data", template, jobs=1)
    site.app.state.jobs.target = slow_job
    with site.client() as client:
        token = login(client, "analyst")
        running, _ = _upload(client, token, "sample.dat.gz", SAMPLE.read_bytes())
        queued, _ = _upload(client, token, "sample.dat.gz", SAMPLE.read_bytes())
        for _ in range(600):
            fragment = client.get(f"/runs/{running}/status").text
            if "1.5 MB of 3.0 MB read" in fragment:
                break
            time.sleep(0.1)
        assert "reading: 1.5 MB of 3.0 MB read" in fragment
        waiting = client.get(f"/runs/{queued}/status").text
        assert "queued: waiting for a free job slot" in waiting, "one job at a time"
        # The queued run is dropped before it starts; the running one's worker is stopped.
        for run_id in (queued, running):
            response = client.post(f"/runs/{run_id}/cancel", data={"csrf_token": token})
            assert response.status_code == 303
        for run_id in (queued, running):
            run = _wait(site, run_id, ("failed",))
            assert run.error and run.error.startswith("cancelled by analyst")
        assert client.post(f"/runs/{running}/cancel", data={"csrf_token": token}).status_code == 409
    with site.client() as viewer:
        vtoken = login(viewer, "viewer")
        assert (
            viewer.post(f"/runs/{running}/cancel", data={"csrf_token": vtoken}).status_code == 403
        )
    assert list((site.data_dir / "uploads").iterdir()) == []
    with site.app.state.sessions() as db:
        actions = [e.action for e in db.query(AuditEntry).all()]
    assert actions.count("run.cancelled") == 2
