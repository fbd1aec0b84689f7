"""Deleting a run from the workspace removes every row of it on SQLite and PostgreSQL alike
(determinations with their reviews, people, inputs), leaves other runs whole, and is audited
without any person's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from store_helpers import SampleRun

from clearance.store import audit, reviews, runs
from clearance.store.models import AuditEntry, Determination, Person, Run, RunInput, User
from clearance.web.deletion import DeleteRefused, delete_run


def _rows(session: Session, model: type, run_id: int) -> int:
    column = model.id if model is Run else model.run_id  # type: ignore[attr-defined]
    return int(session.execute(select(func.count()).where(column == run_id)).scalar_one())


def test_delete_run_removes_its_rows_and_folder_only(
    session: Session, sample_run: SampleRun, attorney: User, tmp_path: Path
) -> None:
    runs_dir = tmp_path / "runs"
    kept = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")
    gone = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")
    folder = runs_dir / str(gone.id)
    shutil.copytree(sample_run.run_dir, folder)
    first = session.execute(
        select(Determination.id).where(Determination.run_id == gone.id).limit(1)
    ).scalar_one()
    reviews.review_count(session, gone.id, first, attorney, "accept")
    subject = session.execute(
        select(Determination.subject_id).where(Determination.id == first)
    ).scalar_one()

    deleted = delete_run(session, gone, folder, runs_dir, "admin", active=False)

    assert deleted.reviewed == 1 and deleted.determinations > 0 and deleted.files > 0
    assert not folder.exists() and list(runs_dir.iterdir()) == []
    for model in (Run, Determination, Person, RunInput):
        assert _rows(session, model, gone.id) == 0, model
        assert _rows(session, model, kept.id) > 0, model
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "run.deleted")
    ).scalar_one()
    assert entry.target == f"run:{gone.id}" and subject not in entry.details_json
    assert audit.verify(session).ok


def test_an_active_run_is_refused_and_kept(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    run = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")
    with pytest.raises(DeleteRefused, match="Cancel it first"):
        delete_run(session, run, tmp_path / "none", tmp_path, "admin", active=True)
    assert _rows(session, Determination, run.id) > 0


def test_a_folder_outside_the_data_folder_is_left_where_it_is(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    run = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")
    deleted = delete_run(session, run, sample_run.run_dir, tmp_path / "runs", "admin", False)
    assert deleted.folder_kept and (sample_run.run_dir / "summary.json").is_file()
    assert _rows(session, Run, run.id) == 0
