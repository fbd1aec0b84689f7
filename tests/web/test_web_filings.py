"""Filings built in the workspace, each build a job in a worker process: only reviewed
decisions unless the attorney includes the pending ones; live progress; one build at a time per
run; a failed, refused or dead build keeps the previous filings and shows only its error; every
build is audited."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from web_client import post_run, run_id_of
from web_site import (
    FILING,
    SAMPLE,
    DoneRun,
    csrf_of,
    dying_build,
    held_build,
    login,
    slow_job,
    wait_build,
)

from clearance.store import reviews
from clearance.store.models import AuditEntry, Determination, Run
from clearance.store.users import get_user_by_name
from clearance.web.builds import BUILD_LOCK, BUILD_STATE, build_job, read_build
from clearance.web.jobs import run_job
from clearance.web.slots import JobSlots


def _run_dir(done_run: DoneRun) -> Path:
    return done_run.site.data_dir / "runs" / str(done_run.run_id)


def _build(done_run: DoneRun, token: str, client: TestClient, **extra: str) -> Response:
    data = FILING | {"csrf_token": token} | extra
    return client.post(f"/runs/{done_run.run_id}/filings", data=data)


def _built(done_run: DoneRun, token: str, client: TestClient, **extra: str) -> str:
    """Start a build, follow it to its end; the downloads page it opens."""
    started = _build(done_run, token, client, **extra)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(f"/runs/{done_run.run_id}/files?build=")
    return wait_build(client, done_run.run_id)


def _filings_bytes(done_run: DoneRun) -> dict[Path, bytes]:
    filings = _run_dir(done_run) / "filings"
    return {p.relative_to(filings): p.read_bytes() for p in filings.rglob("*") if p.is_file()}


def _manifest(done_run: DoneRun) -> dict[str, object]:
    path = _run_dir(done_run) / "filings" / "manifest.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _audit_actions(done_run: DoneRun) -> list[str]:
    with done_run.site.app.state.sessions() as db:
        return [e.action for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def _accept_reductions(done_run: DoneRun) -> int:
    with done_run.site.app.state.sessions() as db:
        attorney = get_user_by_name(db, "attorney")
        assert attorney is not None
        return reviews.bulk_accept(db, done_run.run_id, attorney, decision="reduce")


def test_pending_decisions_are_filed_only_when_the_attorney_includes_them(
    done_run: DoneRun,
) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        page = client.get(f"/runs/{done_run.run_id}/files")
        with done_run.site.app.state.sessions() as db:
            total = int(
                db.execute(
                    select(func.count()).where(Determination.run_id == done_run.run_id)
                ).scalar_one()
            )
        assert f"<strong>{total:,}</strong> decisions still pending" in page.text
        assert 'name="include_pending"' in page.text

        # Nothing reviewed yet: no order and no court update row, everything held out.
        flash = _built(done_run, token, client)
        manifest = _manifest(done_run)
        assert manifest["review"] == {
            "reviewed_convictions": 0,
            "pending_convictions": total,
            "pending_included": False,
            "filed_from": "reviewed decisions only",
        }
        assert manifest["ordered_convictions"] == 0
        report = (_run_dir(done_run) / "filings" / "report.html").read_text(encoding="utf-8")
        assert "not yet reviewed by an attorney" in report
        assert 'id="filings-result"' in flash
        assert f"{total:,} decisions still pending review are in no filing" in flash
        later = client.get(f"/runs/{done_run.run_id}/files").text
        assert 'id="filings-result"' not in later and 'id="last-build"' in later

        # Accept the reductions: exactly those are filed.
        accepted = _accept_reductions(done_run)
        assert 0 < accepted < total
        _built(done_run, token, client)
        manifest = _manifest(done_run)
        review = manifest["review"]
        assert isinstance(review, dict)
        assert review["reviewed_convictions"] == accepted
        assert review["pending_convictions"] == total - accepted
        assert 0 < int(str(manifest["ordered_convictions"])) <= accepted

        # Explicitly including the pending ones files them, and says so.
        flash = _built(done_run, token, client, include_pending="yes")
        manifest = _manifest(done_run)
        review = manifest["review"]
        assert isinstance(review, dict)
        assert review["pending_included"] is True
        assert review["filed_from"] == "reviewed and unreviewed (pending) decisions"
        assert int(str(manifest["ordered_convictions"])) > accepted
        report = (_run_dir(done_run) / "filings" / "report.html").read_text(encoding="utf-8")
        assert "UNREVIEWED" in report
        assert "unreviewed (pending) decisions are included" in flash
    actions = _audit_actions(done_run)
    assert actions.count("filings.started") == actions.count("filings.built") == 3


def test_a_failed_build_keeps_the_previous_filings(done_run: DoneRun) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        _built(done_run, token, client)
        before = _filings_bytes(done_run)
        reviewed = (_run_dir(done_run) / "reviewed" / "summary.json").read_bytes()

        failed = _build(done_run, token, client, policy_authority_serving="whenever")
        assert failed.status_code == 400
        assert "previous ones are unchanged" in failed.text
        assert 'class="notice ok"' not in failed.text, "no success beside the error"
        assert "--policy-authority" not in failed.text and "clearance " not in failed.text
        assert _filings_bytes(done_run) == before
        assert (_run_dir(done_run) / "reviewed" / "summary.json").read_bytes() == reviewed
        assert not [p for p in _run_dir(done_run).iterdir() if p.name.startswith(".build-")]
    assert "filings.failed" in _audit_actions(done_run)


def test_missing_filing_details_name_the_form_fields(done_run: DoneRun) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        failed = _build(done_run, token, client, signer="", office="")
        assert failed.status_code == 400
        assert "fill in office, signer in the form" in failed.text
        assert "--signer" not in failed.text


def test_a_second_build_of_the_same_run_is_refused_cleanly(done_run: DoneRun) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        page = client.get(f"/runs/{done_run.run_id}/files")
        token = csrf_of(page.text)
        # Another build holds the run's build lock (as a concurrent request or worker would).
        with (_run_dir(done_run) / BUILD_LOCK).open("a+") as held:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            refused = _build(done_run, token, client)
        assert refused.status_code == 409
        assert "Another build of this run" in refused.text
        assert "previous filings stay" in refused.text
        assert 'id="filings-result"' in _built(done_run, token, client)
    actions = _audit_actions(done_run)
    assert "filings.refused" in actions


def test_a_build_is_a_job_with_progress_and_a_second_is_refused(done_run: DoneRun) -> None:
    builds = done_run.site.app.state.builds
    builds.target = held_build
    run_dir = _run_dir(done_run)
    try:
        with done_run.site.client() as client:
            token = login(client, "attorney")
            started = _build(done_run, token, client)
            assert started.status_code == 303, "the request answers at once"
            for _ in range(600):
                page = client.get(started.headers["location"]).text
                if "laying out the exhibits" in page:
                    break
                time.sleep(0.1)
            assert "Building the filings (started by attorney" in page
            assert "laying out the exhibits (step 3)" in page
            assert 'id="build-filings" disabled' in page
            assert "/filings/status" in page, "the page follows the build"
            # A second build of the same run while this one runs: refused, not a 500.
            second = _build(done_run, token, client)
            assert second.status_code == 409
            assert "Another build of this run" in second.text
            (run_dir / "release").touch()
            done = wait_build(client, done_run.run_id)
            assert 'id="filings-result"' in done and "Built the reviewed outputs" in done
            assert not (run_dir / "release").exists()
    finally:
        builds.target = build_job
    actions = _audit_actions(done_run)
    assert actions[-4:] == ["filings.started", "filings.refused", "run.exported", "filings.built"]


def test_a_build_that_dies_keeps_the_previous_filings(done_run: DoneRun) -> None:
    builds = done_run.site.app.state.builds
    with done_run.site.client() as client:
        token = login(client, "attorney")
        _built(done_run, token, client)
        before = _filings_bytes(done_run)
        builds.target = dying_build
        try:
            page = _built(done_run, token, client)
        finally:
            builds.target = build_job
        assert "The last build of the filings" in page and "unexpected problem" in page
        assert 'class="notice ok"' not in page and 'id="last-build"' not in page
        assert "clearance " not in page and "--" not in page.split("<main", 1)[-1]
        assert _filings_bytes(done_run) == before
        assert not list(_run_dir(done_run).glob(".build-*")), "its staging folder is deleted"
    assert _audit_actions(done_run)[-1] == "filings.failed"


def test_a_build_over_its_memory_limit_fails_cleanly(done_run: DoneRun) -> None:
    builds = done_run.site.app.state.builds
    limit = builds.memory_bytes
    with done_run.site.client() as client:
        token = login(client, "attorney")
        _built(done_run, token, client)
        before = _filings_bytes(done_run)
        builds.memory_bytes = 150 * 1024 * 1024
        try:
            page = _built(done_run, token, client)
        finally:
            builds.memory_bytes = limit
        assert "needed more memory than a job may use (150.0 MB)" in page
        assert "previous ones are unchanged" in page
        assert 'class="notice ok"' not in page
        assert _filings_bytes(done_run) == before
        assert client.get("/").status_code == 200, "the server itself is untouched"
    assert _audit_actions(done_run)[-1] == "filings.failed"


def test_a_build_interrupted_by_a_stop_is_recorded_on_the_next_start(done_run: DoneRun) -> None:
    failed_before = _audit_actions(done_run).count("filings.failed")
    state = _run_dir(done_run) / BUILD_STATE
    state.write_text(
        json.dumps(
            {"id": "abc", "status": "running", "actor": "attorney", "started": "2026-01-01T00:00"}
        ),
        encoding="utf-8",
    )
    staging = _run_dir(done_run) / ".build-left"
    staging.mkdir()
    with done_run.site.client() as client:  # the app starts: recovery
        login(client, "attorney")
        page = client.get(f"/runs/{done_run.run_id}/files").text
        assert "the server stopped during the build" in page
    assert not staging.exists()
    assert _audit_actions(done_run).count("filings.failed") == failed_before + 1


def _last_audit(done_run: DoneRun) -> AuditEntry:
    with done_run.site.app.state.sessions() as db:
        entry = db.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert entry is not None
        return entry


def _page_when(client: TestClient, url: str, text: str) -> str:
    """The page once it shows `text` (a generous limit, not a speed check)."""
    for _ in range(1200):
        page = client.get(url).text
        if text in page:
            return page
        time.sleep(0.1)
    raise AssertionError(f"{url} never showed {text!r}")


def test_a_running_build_is_cancelled_and_the_previous_filings_stay(done_run: DoneRun) -> None:
    builds = done_run.site.app.state.builds
    run_dir = _run_dir(done_run)
    with done_run.site.client() as client:
        token = login(client, "attorney")
        _built(done_run, token, client)
        before = _filings_bytes(done_run)
        reviewed = (run_dir / "reviewed" / "summary.json").read_bytes()
        builds.target = held_build
        try:
            started = _build(done_run, token, client)
            assert started.status_code == 303
            page = _page_when(client, started.headers["location"], "laying out the exhibits")
            assert 'id="cancel-build"' in page and 'id="cancel-build-form"' in page
            cancel = f"/runs/{done_run.run_id}/filings/cancel"
            response = client.post(cancel, data={"csrf_token": token})
            assert response.status_code == 303
            page = wait_build(client, done_run.run_id)
        finally:
            builds.target = build_job
        assert "was stopped" in page and "the build was cancelled by attorney" in page
        assert "previous ones are unchanged" in page
        assert 'class="notice ok"' not in page and 'id="build-error"' not in page
        assert _filings_bytes(done_run) == before
        assert (run_dir / "reviewed" / "summary.json").read_bytes() == reviewed
        assert not list(run_dir.glob(".build-*")), "its staging folder is deleted"
        assert client.post(cancel, data={"csrf_token": token}).status_code == 409
        login(client, "viewer")
        viewer = csrf_of(client.get("/").text)
        assert client.post(cancel, data={"csrf_token": viewer}).status_code == 403
    with done_run.site.app.state.sessions() as db:
        cancelled = [
            e
            for e in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
            if e.action == "filings.cancelled"
        ]
    assert [(e.actor, e.target) for e in cancelled][-1:] == [("attorney", f"run:{done_run.run_id}")]


def test_runs_and_builds_share_the_job_slots(done_run: DoneRun) -> None:
    """With one slot, a build waits for a run (queued, cancellable before it starts), and
    starts once the run gives the slot back."""
    app = done_run.site.app
    shared = JobSlots(1)
    original = (app.state.jobs.slots, app.state.builds.slots)
    app.state.jobs.slots = app.state.builds.slots = shared
    app.state.jobs.target = slow_job
    run_dir = _run_dir(done_run)
    files = f"/runs/{done_run.run_id}/files"
    try:
        with done_run.site.client() as client:
            token = login(client, "attorney")
            running = run_id_of(post_run(client, token, SAMPLE))
            _page_when(client, f"/runs/{running}/status", "1.5 MB of 3.0 MB read")

            # The build waits for the run's slot, and says so.
            assert _build(done_run, token, client).status_code == 303
            page = client.get(files).text
            assert "queued: waiting for a free job slot" in page
            assert app.state.builds.building(done_run.run_id)
            # Cancelled while queued: dropped at once, no worker ever started.
            cancel = client.post(
                f"/runs/{done_run.run_id}/filings/cancel", data={"csrf_token": token}
            )
            assert cancel.status_code == 303
            assert not app.state.builds.building(done_run.run_id)
            build = read_build(run_dir)
            assert build is not None and build.status == "cancelled" and build.stage == ""
            assert 'id="build-cancelled"' in client.get(files).text
            entry = _last_audit(done_run)
            assert (entry.action, entry.actor) == ("filings.cancelled", "attorney")

            # Queued again; it starts once the run is cancelled and gives the slot back.
            assert _build(done_run, token, client).status_code == 303
            assert "queued: waiting" in client.get(files).text
            stop = client.post(f"/runs/{running}/cancel", data={"csrf_token": token})
            assert stop.status_code == 303
            done = wait_build(client, done_run.run_id)
            assert 'id="filings-result"' in done and "Built the reviewed outputs" in done
            build = read_build(run_dir)
            assert build is not None and build.status == "done"
        with app.state.sessions() as db:
            run = db.get(Run, running)
            assert run is not None and run.status == "failed"
    finally:
        app.state.jobs.slots, app.state.builds.slots = original
        app.state.jobs.target = run_job


def test_no_build_message_shown_or_audited_names_a_server_path(
    done_run: DoneRun, tmp_path: Path
) -> None:
    """A build that finds the run's files incomplete says so in words: no path of the data
    folder, nor command-line advice, on the page, in the build's state or in the audit log."""
    data_dir = str(done_run.site.data_dir)
    policy = _run_dir(done_run) / "record" / "policy.yaml"
    aside = tmp_path / "policy.yaml"
    first = _last_audit(done_run).id
    policy.rename(aside)
    try:
        with done_run.site.client() as client:
            token = login(client, "attorney")
            page = _built(done_run, token, client)
    finally:
        aside.rename(policy)
    assert "the run&#39;s files on the server are not complete" in page
    assert data_dir not in page and "clearance run" not in page
    assert data_dir not in (_run_dir(done_run) / BUILD_STATE).read_text(encoding="utf-8")
    with done_run.site.app.state.sessions() as db:
        entries = db.execute(select(AuditEntry).where(AuditEntry.id > first)).scalars().all()
    assert [e.action for e in entries][-1] == "filings.failed"
    assert not [e.details_json for e in entries if data_dir in e.details_json]
