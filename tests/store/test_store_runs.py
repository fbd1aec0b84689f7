"""Loading a run folder, finding counts, and the reviewed outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from store_helpers import AS_OF, SampleRun

from clearance.store import audit, runs
from clearance.store.models import Determination, Person, Run, User
from clearance.store.reviews import review_count


def _store(session: Session, sample: SampleRun) -> Run:
    return runs.store_run(session, sample.run_dir, sample.inputs, "tester")


def _count(session: Session, model: type[Determination] | type[Person], run_id: int) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(model).where(model.run_id == run_id)
        ).scalar_one()
    )


def test_store_run_loads_everything(session: Session, sample_run: SampleRun) -> None:
    run = _store(session, sample_run)
    convictions = pl.read_parquet(sample_run.run_dir / "convictions.parquet")
    people = pl.read_csv(sample_run.run_dir / "people.csv", infer_schema=False)
    summary = json.loads((sample_run.run_dir / "summary.json").read_text())
    policy = (sample_run.run_dir / "record" / "policy.yaml").read_bytes()

    assert run.status == "done" and run.error is None
    assert run.county == "SACRAMENTO" and run.as_of == AS_OF and run.policy_name == "statute"
    assert run.policy_text.encode() == policy
    assert run.policy_sha256 == hashlib.sha256(policy).hexdigest()
    assert run.rows_read == summary["input"]["rows_read"]
    assert run.rows_read == (run.rows_loaded or 0) + (run.rows_quarantined or 0)
    assert run.summary == summary
    assert run.run_dir == str(sample_run.run_dir.resolve())
    assert _count(session, Determination, run.id) == convictions.height > 0
    assert _count(session, Person, run.id) == people.height > 0

    [stored_input] = run.inputs
    data = sample_run.inputs[0].read_bytes()
    assert stored_input.name == sample_run.inputs[0].name
    assert stored_input.size == len(data)
    assert stored_input.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_input.rows_read == summary["input"]["files"][0]["rows_read"]

    first = (
        session.execute(
            select(Determination).where(Determination.run_id == run.id).order_by(Determination.id)
        )
        .scalars()
        .first()
    )
    assert first is not None and first.review_status == "pending"
    row = convictions.filter(
        (pl.col("subject_id") == first.subject_id) & (pl.col("count_id") == first.count_id)
    ).row(0, named=True)
    for column in ("name", "dob", "cii_number", "code_section", "decision", "reasons", "source"):
        assert getattr(first, column) == row[column]
    assert first.reason_list == row["reasons"].split(";")

    person = runs.people_of(session, run.id, [first.subject_id])[0]
    assert person.name == row["name"] and isinstance(person.no_felony_left, bool)

    [entry] = [e for e in audit.entries(session, 1, 10)[0] if e.action == "run.stored"]
    assert entry.target == f"run:{run.id}"
    assert entry.details["convictions"] == convictions.height
    assert entry.details["inputs"][0]["sha256"] == stored_input.sha256
    assert runs.list_runs(session)[0].id == run.id
    assert runs.get_run(session, run.id) is run


def test_store_run_refuses_wrong_inputs(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    other = tmp_path / "other.dat"
    other.write_text("x\n")
    with pytest.raises(runs.StoreError, match="not an input"):
        runs.store_run(session, sample_run.run_dir, [other], "tester")
    same_name = tmp_path / sample_run.inputs[0].name
    same_name.write_bytes(b"not the same file")
    with pytest.raises(runs.StoreError, match="not the file"):
        runs.store_run(session, sample_run.run_dir, [same_name], "tester")
    with pytest.raises(runs.StoreError, match="1 file"):
        runs.store_run(session, sample_run.run_dir, [], "tester")
    with pytest.raises(runs.StoreError, match="not a run folder"):
        runs.store_run(session, tmp_path, sample_run.inputs, "tester")
    with pytest.raises(runs.StoreError, match="no such folder"):
        runs.store_run(session, tmp_path / "missing", sample_run.inputs, "tester")
    session.rollback()
    assert runs.list_runs(session) == []


def test_pending_run_flow(session: Session, sample_run: SampleRun) -> None:
    text = (sample_run.run_dir / "record" / "policy.yaml").read_text()
    run = runs.create_pending_run(session, "sacramento", "statute", text, AS_OF, "alice")
    assert run.status == "queued" and run.policy_sha256 == hashlib.sha256(text.encode()).hexdigest()
    runs.mark_run(session, run, "running")
    stored = runs.store_run(session, sample_run.run_dir, sample_run.inputs, "alice", run_id=run.id)
    assert stored.id == run.id and stored.status == "done" and stored.county == "SACRAMENTO"
    assert _count(session, Determination, run.id) > 0
    with pytest.raises(runs.StoreError):  # done already
        runs.store_run(session, sample_run.run_dir, sample_run.inputs, "alice", run=run)
    session.rollback()

    other = runs.create_pending_run(session, "sacramento", "statute", text, AS_OF.replace(day=1),
                                    "alice")  # fmt: skip
    with pytest.raises(runs.StoreError, match="not the output"):
        runs.store_run(session, sample_run.run_dir, sample_run.inputs, "alice", run=other)
    session.rollback()
    runs.mark_run(session, other, "failed", error="could not read the file")
    assert other.status == "failed" and other.error == "could not read the file"
    with pytest.raises(runs.StoreError):
        runs.mark_run(session, other, "exploded")
    actions = [e.action for e in audit.entries(session, 1, 50)[0]]
    assert {"run.created", "run.running", "run.stored", "run.failed"} <= set(actions)
    failed = next(e for e in audit.entries(session, 1, 50)[0] if e.action == "run.failed")
    assert "could not read" not in failed.details_json
    assert audit.verify(session).ok


def test_filters(session: Session, sample_run: SampleRun) -> None:
    run = _store(session, sample_run)
    table = pl.read_parquet(sample_run.run_dir / "convictions.parquet")

    def total(**filters: str) -> int:
        return runs.query_determinations(session, run.id, **filters)[1]  # type: ignore[arg-type]

    assert total() == table.height
    for decision in ("dismiss", "reduce", "not_eligible", "review"):
        assert total(decision=decision) == table.filter(pl.col("decision") == decision).height
    with_reason = table.filter(pl.col("reasons").str.split(";").list.contains("remedy_completed"))
    assert total(reason="remedy_completed") == with_reason.height > 0
    assert total(reason="remedy") == 0  # whole rule ids only
    hs11359 = table.filter(pl.col("code_section").str.starts_with("HS 11359"))
    assert total(section="HS 11359") == hs11359.height > 0
    assert total(section="11359") == hs11359.height
    exact = hs11359.filter(pl.col("code_section").str.contains("(", literal=True))["code_section"][
        0
    ]
    assert total(section=exact) == table.filter(pl.col("code_section") == exact).height
    assert total(court="sacramento") == table.height
    case = table["court_case_number"].drop_nulls()[0]
    assert total(court=case) == table.filter(pl.col("court_case_number") == case).height
    assert total(status="pending") == table.height
    assert total(status="accepted") == 0
    assert total(decision="", reason="", section="", court="", status="") == table.height


@pytest.mark.parametrize(
    "hostile",
    [
        "' OR '1'='1",
        "dismiss' OR 1=1 --",
        "%",
        "_",
        "%%",
        "\\",
        "x'; DROP TABLE determinations; --",
        "1); DELETE FROM audit_log; --",
        '" OR ""="',
    ],
)
def test_sql_like_filters_do_nothing(
    session: Session, sample_run: SampleRun, attorney: User, hostile: str
) -> None:
    from clearance.store.reviews import bulk_accept

    run = _store(session, sample_run)
    before = _count(session, Determination, run.id)
    entries_before = audit.verify(session).checked
    for key in ("decision", "reason", "section", "court", "status"):
        rows, n = runs.query_determinations(session, run.id, **{key: hostile})  # type: ignore[arg-type]
        assert (rows, n) == ([], 0), key
        assert bulk_accept(session, run.id, attorney, **{key: hostile}) == 0
    assert _count(session, Determination, run.id) == before
    result = audit.verify(session)
    assert result.ok and result.checked == entries_before  # nothing changed, nothing logged
    with pytest.raises(ValueError):
        runs.query_determinations(session, run.id, sort=hostile)


def test_paging_and_sorting(session: Session, sample_run: SampleRun) -> None:
    run = _store(session, sample_run)
    all_rows, n = runs.query_determinations(session, run.id, per_page=1_000)
    assert len(all_rows) == n
    keys = [(r.subject_id, r.count_id) for r in all_rows]
    assert keys == sorted(keys)
    pages = []
    page = 1
    while True:
        rows, total = runs.query_determinations(session, run.id, page=page, per_page=37)
        assert total == n
        if not rows:
            break
        pages.extend(r.id for r in rows)
        page += 1
    assert sorted(pages) == sorted(r.id for r in all_rows) and len(set(pages)) == n
    for sort in runs.SORTS:
        for descending in (False, True):
            rows, _ = runs.query_determinations(
                session, run.id, sort=sort, descending=descending, per_page=1_000
            )
            values = [getattr(r, sort) for r in rows if getattr(r, sort) is not None]
            assert values == sorted(values, reverse=descending), sort
            nulls = [i for i, r in enumerate(rows) if getattr(r, sort) is None]
            assert nulls == list(range(len(rows) - len(nulls), len(rows))), sort
    assert runs.query_determinations(session, run.id, page=0)[0] == all_rows[:50]
    assert len(runs.query_determinations(session, run.id, per_page=10**9)[0]) <= runs.MAX_PER_PAGE
    with pytest.raises(ValueError, match="sort"):
        runs.query_determinations(session, run.id, sort="subject_id; DROP TABLE runs")


def test_review_progress(session: Session, sample_run: SampleRun, attorney: User) -> None:
    run = _store(session, sample_run)
    rows, _ = runs.query_determinations(session, run.id, decision="dismiss", per_page=2)
    review_count(session, run.id, rows[0].id, attorney, "accept")
    progress = runs.review_progress(session, run.id)
    assert progress["dismiss"]["accepted"] == 1
    assert sum(sum(v.values()) for v in progress.values()) == _count(session, Determination, run.id)


def test_reviewed_tables_equal_the_run_before_review(
    session: Session, sample_run: SampleRun
) -> None:
    run = _store(session, sample_run)
    assert_frame_equal(
        runs.reviewed_table(session, run.id),
        pl.read_parquet(sample_run.run_dir / "convictions.parquet"),
    )
    assert_frame_equal(
        runs.reviewed_determinations(session, run.id),
        pl.read_parquet(sample_run.run_dir / "record" / "determinations.parquet"),
    )
    with pytest.raises(runs.StoreError):
        runs.reviewed_table(session, run.id + 1000)


def _override_one(session: Session, run: Run, attorney: User) -> Determination:
    rows, _ = runs.query_determinations(session, run.id, decision="reduce", per_page=1)
    return review_count(
        session, run.id, rows[0].id, attorney, "override", decision="dismiss",
        note="Client's conviction was for conduct now lawful; see file."
    )  # fmt: skip


def test_reviewed_table_applies_overrides(
    session: Session, sample_run: SampleRun, attorney: User
) -> None:
    run = _store(session, sample_run)
    changed = _override_one(session, run, attorney)
    table = runs.reviewed_table(session, run.id)
    original = pl.read_parquet(sample_run.run_dir / "convictions.parquet")
    assert table.columns == original.columns and table.schema == original.schema
    key = (pl.col("subject_id") == changed.subject_id) & (pl.col("count_id") == changed.count_id)
    row = table.filter(key).row(0, named=True)
    assert row["decision"] == "dismiss" and row["new_level"] is None
    assert row["remedy"] in ("11361.8(b)", "11361.8(f)")
    assert row["explanation"].endswith("Attorney review: decision changed from reduce "
                                       f"({changed.new_level}) to dismiss")  # fmt: skip
    assert "see file" not in row["explanation"]  # the note stays in the review
    assert_frame_equal(table.filter(~key), original.filter(~key))
    # To not eligible: no remedy.
    review_count(session, run.id, changed.id, attorney, "override", decision="not_eligible",
                 note="prior found on the paper file")  # fmt: skip
    row = runs.reviewed_table(session, run.id).filter(key).row(0, named=True)
    assert row["decision"] == "not_eligible" and row["remedy"] is None
    # Accepting again restores the engine's decision.
    review_count(session, run.id, changed.id, attorney, "accept")
    assert_frame_equal(runs.reviewed_table(session, run.id), original)


def _tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_export_reviewed_run(
    session: Session, sample_run: SampleRun, attorney: User, tmp_path: Path
) -> None:
    run = _store(session, sample_run)
    before = _tree_hash(sample_run.run_dir)
    out = runs.export_reviewed_run(session, run.id, tmp_path / "unreviewed")
    # Nothing reviewed: every table is the run's own, byte for byte.
    same = ("convictions.csv", "convictions.parquet", "people.csv", "results.csv",
            "quarantine.csv", "record/counts.parquet")  # fmt: skip
    for name in same:
        assert (out / name).read_bytes() == (sample_run.run_dir / name).read_bytes(), name
    assert_frame_equal(  # equal data; the engine's chunking of the file may differ
        pl.read_parquet(out / "record" / "determinations.parquet"),
        pl.read_parquet(sample_run.run_dir / "record" / "determinations.parquet"),
    )
    summary = json.loads((out / "summary.json").read_text())
    original = json.loads((sample_run.run_dir / "summary.json").read_text())
    assert summary.pop("review")["by_status"]["pending"] == original["convictions"]
    assert summary == original

    changed = _override_one(session, run, attorney)
    out = runs.export_reviewed_run(session, run.id, tmp_path / "reviewed", actor="attorney1")
    convictions = pl.read_csv(out / "convictions.csv", infer_schema=False)
    row = convictions.filter(
        (pl.col("subject_id") == changed.subject_id) & (pl.col("count_id") == changed.count_id)
    ).row(0, named=True)
    assert row["decision"] == "dismiss"
    assert_frame_equal(
        pl.read_parquet(out / "convictions.parquet"), runs.reviewed_table(session, run.id)
    )
    assert_frame_equal(
        pl.read_parquet(out / "record" / "determinations.parquet"),
        runs.reviewed_determinations(session, run.id),
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["by_decision"]["dismiss"] == original["by_decision"]["dismiss"] + 1
    assert summary["by_decision"]["reduce"] == original["by_decision"]["reduce"] - 1
    assert summary["what_if"] == original["what_if"]
    assert summary["review"]["overridden"] == {"reduce -> dismiss": 1}
    assert summary["review"]["results_csv"].startswith("rebuilt")
    results = (out / "results.csv").read_text().splitlines()
    line = int(row["source"].rsplit(":", 1)[1])
    assert results[line - 1].split(",")[-4] == "dismiss"  # header line of input -> header here
    assert _tree_hash(sample_run.run_dir) == before  # the run's own folder is untouched

    # Again into the same folder: the earlier reviewed copy is replaced.
    assert runs.export_reviewed_run(session, run.id, tmp_path / "reviewed") == out
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(runs.StoreError, match="not empty"):
        runs.export_reviewed_run(session, run.id, foreign)
    with pytest.raises(runs.StoreError, match="another folder"):
        runs.export_reviewed_run(session, run.id, sample_run.run_dir)
    exported = [e for e in audit.entries(session, 1, 50)[0] if e.action == "run.exported"]
    assert len(exported) == 3 and exported[0].actor == "system"
    assert audit.verify(session).ok


def test_export_without_inputs_drops_results_csv(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    run = _store(session, sample_run)
    wrong = tmp_path / sample_run.inputs[0].name
    wrong.write_bytes(b"something else")
    out = runs.export_reviewed_run(session, run.id, tmp_path / "out", inputs=[wrong])
    assert not (out / "results.csv").exists()
    assert "SHA-256" in json.loads((out / "summary.json").read_text())["review"]["results_csv"]
    moved = tmp_path / "moved" / sample_run.inputs[0].name
    moved.parent.mkdir()
    moved.write_bytes(sample_run.inputs[0].read_bytes())
    out = runs.export_reviewed_run(session, run.id, tmp_path / "out2", inputs=[moved])
    assert (out / "results.csv").read_bytes() == (sample_run.run_dir / "results.csv").read_bytes()


def test_export_inside_the_run_folder(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    from store_helpers import make_run

    own = make_run(tmp_path / "run", sample_run.inputs, what_ifs=False)
    run = runs.store_run(session, own.run_dir, own.inputs, "tester")
    (own.run_dir / "filings").mkdir()
    (own.run_dir / "filings" / "motion.pdf").write_bytes(b"%PDF")
    first = runs.export_reviewed_run(session, run.id, own.run_dir / "reviewed")
    second = runs.export_reviewed_run(session, run.id, own.run_dir / "reviewed")
    assert first == second
    assert not (second / "reviewed").exists() and not (second / "filings").exists()
    assert (second / "convictions.csv").is_file()


def test_reviewed_table_works_without_the_folder(
    session: Session, sample_run: SampleRun, tmp_path: Path
) -> None:
    import shutil

    from store_helpers import make_run

    own = make_run(tmp_path / "run", sample_run.inputs, what_ifs=False)
    run = runs.store_run(session, own.run_dir, own.inputs, "tester")
    expected = pl.read_parquet(own.run_dir / "convictions.parquet")
    shutil.rmtree(own.run_dir)
    assert_frame_equal(runs.reviewed_table(session, run.id), expected)
    with pytest.raises(runs.StoreError, match="gone"):
        runs.export_reviewed_run(session, run.id, tmp_path / "out")
