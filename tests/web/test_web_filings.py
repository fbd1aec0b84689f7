"""Filings built in the workspace: only reviewed decisions unless the attorney includes the
pending ones; a failed or refused build keeps the previous filings; every build is audited."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from web_site import DoneRun, csrf_of, login

from clearance.store import reviews
from clearance.store.models import AuditEntry, Determination
from clearance.store.users import get_user_by_name
from clearance.web.routes_runs import BUILD_LOCK

FILING = {
    "office": "Office of the District Attorney",
    "signer": "Alex Attorney",
    "bar_number": "123456",
    "office_address": "901 G Street, Sacramento, CA 95814",
    "phone": "(916) 555-0100",
    "email": "alex.attorney@example.org",
    "court_name": "Superior Court of California, County of Sacramento",
    "court_address": "720 Ninth Street, Sacramento, CA 95814",
    "policy_authority_serving": "pc1385",
    "policy_authority_completed": "pc1203.4",
}


def _run_dir(done_run: DoneRun) -> Path:
    return done_run.site.data_dir / "runs" / str(done_run.run_id)


def _build(done_run: DoneRun, token: str, client: TestClient, **extra: str) -> Response:
    data = FILING | {"csrf_token": token} | extra
    return client.post(f"/runs/{done_run.run_id}/filings", data=data)


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
        assert _build(done_run, token, client).status_code == 303
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
        flash = client.get(f"/runs/{done_run.run_id}/files").text
        assert f"{total:,} decisions still pending review are in no filing" in flash

        # Accept the reductions: exactly those are filed.
        accepted = _accept_reductions(done_run)
        assert 0 < accepted < total
        assert _build(done_run, token, client).status_code == 303
        manifest = _manifest(done_run)
        review = manifest["review"]
        assert isinstance(review, dict)
        assert review["reviewed_convictions"] == accepted
        assert review["pending_convictions"] == total - accepted
        assert 0 < int(str(manifest["ordered_convictions"])) <= accepted

        # Explicitly including the pending ones files them, and says so.
        assert _build(done_run, token, client, include_pending="yes").status_code == 303
        manifest = _manifest(done_run)
        review = manifest["review"]
        assert isinstance(review, dict)
        assert review["pending_included"] is True
        assert review["filed_from"] == "reviewed and unreviewed (pending) decisions"
        assert int(str(manifest["ordered_convictions"])) > accepted
        report = (_run_dir(done_run) / "filings" / "report.html").read_text(encoding="utf-8")
        assert "UNREVIEWED" in report
        assert (
            "unreviewed (pending) decisions are included"
            in client.get(f"/runs/{done_run.run_id}/files").text
        )
    assert _audit_actions(done_run).count("filings.built") == 3


def test_a_failed_build_keeps_the_previous_filings(done_run: DoneRun) -> None:
    with done_run.site.client() as client:
        token = login(client, "attorney")
        assert _build(done_run, token, client).status_code == 303
        filings = _run_dir(done_run) / "filings"
        before = {p.relative_to(filings): p.read_bytes() for p in filings.rglob("*") if p.is_file()}
        reviewed = (_run_dir(done_run) / "reviewed" / "summary.json").read_bytes()

        failed = _build(done_run, token, client, policy_authority_serving="whenever")
        assert failed.status_code == 400
        assert "previous ones are unchanged" in failed.text
        assert 'class="notice ok"' not in failed.text, "no success beside the error"
        assert "--policy-authority" not in failed.text and "clearance " not in failed.text
        after = {p.relative_to(filings): p.read_bytes() for p in filings.rglob("*") if p.is_file()}
        assert after == before
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
        assert _build(done_run, token, client).status_code == 303
    actions = _audit_actions(done_run)
    assert "filings.refused" in actions
