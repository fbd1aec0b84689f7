"""Reconciliations in the store: kept per run with their pending cases, history in date order,
audited, gone with their run; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from store_helpers import SampleRun

from clearance.outputs.reconcile import reconcile
from clearance.store import audit, runs
from clearance.store.models import AuditEntry, PendingCase, Reconciliation, Run
from clearance.store.reconciliations import history, latest, pending_cases, record
from clearance.synth_age import age_file


@pytest.fixture(scope="module")
def reconciled(sample_run: SampleRun, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two reconciliations of the sample run: half left unchanged, then a fifth."""
    base = tmp_path_factory.mktemp("reconciled")
    folders = []
    for index, (share, day) in enumerate(((0.5, date(2027, 1, 4)), (0.2, date(2027, 4, 5)))):
        newer = base / f"newer-{index}.dat.gz"
        age_file(sample_run.run_dir, sample_run.inputs[0], newer, unchanged=share, seed=index)
        folder = base / f"rec-{index}"
        reconcile(
            sample_run.run_dir, folder, as_of=day, newer_files=[newer], order_date=date(2026, 12, 1)
        )
        folders.append(folder)
    return folders


def _keep(session: Session, run: Run, folder: Path) -> Reconciliation:
    import json

    summary = json.loads((folder / "reconcile.json").read_text(encoding="utf-8"))
    pending = pl.read_csv(folder / "pending.csv", infer_schema=False)
    entry = record(session, run.id, summary, pending, "attorney1", folder)
    session.commit()
    return entry


def test_history_pending_cases_and_audit(
    session: Session, sample_run: SampleRun, reconciled: list[Path]
) -> None:
    run = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")
    assert latest(session, run.id) is None
    # Recorded out of date order: the history is by the date each speaks for.
    second = _keep(session, run, reconciled[1])
    first = _keep(session, run, reconciled[0])
    kept = history(session, run.id)
    assert [r.id for r in kept] == [first.id, second.id]
    assert kept[0].pending > kept[1].pending > 0
    assert latest(session, run.id) == second
    assert second.relieved == second.reflected + second.pending + second.contradicting + second.gone
    csv = pl.read_csv(reconciled[1] / "pending.csv", infer_schema=False)
    page = pending_cases(session, second.id, page=1, per_page=10)
    assert page.total == csv.height == second.pending_cases
    assert page.pages == -(-csv.height // 10)
    assert [p.court_case_number for p in page.rows] == csv["court_case_number"].head(10).to_list()
    assert (
        sum(p.counts for p in pending_cases(session, second.id, 1, 10_000).rows) == second.pending
    )
    assert all(p.age_days == (date(2027, 4, 5) - date(2026, 12, 1)).days for p in page.rows)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "reconcile")).all()
    assert len(entries) == 2
    assert entries[0].details["pending"] == second.pending
    assert entries[0].target == f"run:{run.id}"
    assert "MITCHELL" not in entries[0].details_json
    assert audit.verify(session).ok
    # Deleting the run deletes its reconciliations and their pending cases.
    session.execute(delete(Run).where(Run.id == run.id))
    session.commit()
    assert session.scalar(select(func.count()).select_from(Reconciliation)) == 0
    assert session.scalar(select(func.count()).select_from(PendingCase)) == 0
