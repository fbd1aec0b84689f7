"""Reconciliation: a run's relief against an aged copy of its own DOJ file, and against a
court's response file, through the real reader, engine, filings grouping and writers."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from filings_fixtures import build_run, filing_block
from typer.testing import CliRunner

from clearance.cli import app
from clearance.outputs.reconcile import (
    RECONCILE_COLUMNS,
    SEALED_NOTE,
    ReconcileError,
    reconcile,
)
from clearance.synth_age import age_file

AS_OF = date(2019, 6, 1)
ORDER = date(2019, 2, 1)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with every relief group (statute, policy under PC 1385, notices of
    non-opposition, recall while serving)."""
    return build_run(tmp_path_factory.mktemp("reconcile"), filing=filing_block())


def _source(run_dir: Path) -> Path:
    return run_dir.parent / "doj.dat"


@pytest.fixture(scope="module")
def aged(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("aged") / "newer.dat.gz"
    age_file(run_dir, _source(run_dir), out, unchanged=0.25, contradicting=0.1, gone=0.05, seed=7)
    return out


def test_aged_file_comes_back_exactly(run_dir: Path, aged: Path, tmp_path: Path) -> None:
    key = pl.read_csv(aged.with_name(aged.name + ".aging.csv"), infer_schema=False)
    n = key.height
    fates = dict(key.group_by("fate").len().iter_rows())
    # The shares are exact: round(n x share), halves up; reflected takes the rest.
    assert fates.get("pending", 0) == int(n * 0.25 + 0.5)
    assert fates.get("contradicting", 0) == int(n * 0.1 + 0.5)
    assert fates.get("gone", 0) == int(n * 0.05 + 0.5)
    assert sum(fates.values()) == n
    done = reconcile(run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[aged], order_date=ORDER)
    table = done.table
    assert table.height == n
    assert done.summary["totals"] == {s: fates.get(s, 0) for s in done.summary["totals"]}
    joined = key.join(table, on=["subject_id", "count_id"], how="full", coalesce=True)
    wrong = joined.filter(pl.col("fate").ne_missing(pl.col("status")))
    assert wrong.height == 0, wrong.select("fate", "status", "relief_group", "note").head(5)
    # Every relief group of the run is in the test (statute, policy, notices, recall).
    groups = set(table["relief_group"].to_list())
    assert {"dismiss-seal", "redesignate", "recall-resentence"} <= groups
    assert any(g.startswith("policy-") for g in groups)


def test_unchanged_file_is_all_pending_with_ages(run_dir: Path, tmp_path: Path) -> None:
    done = reconcile(
        run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[_source(run_dir)], order_date=ORDER
    )
    assert set(done.table["status"].to_list()) == {"pending"}
    assert set(done.table["age_days"].to_list()) == {(AS_OF - ORDER).days}
    pending = pl.read_csv(tmp_path / "rec" / "pending.csv", infer_schema=False)
    assert pending["counts"].cast(pl.Int64).sum() == done.table.height
    by_court = done.summary["by_court"]
    assert sum(row["pending"] for row in by_court) == done.table.height
    assert all(row["pending_oldest_days"] == (AS_OF - ORDER).days for row in by_court)


def test_motion_date_when_no_order_date(run_dir: Path, tmp_path: Path) -> None:
    motion = date(2018, 12, 1)
    done = reconcile(
        run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[_source(run_dir)], motion_date=motion
    )
    assert done.summary["since"] == {"kind": "motion", "date": "2018-12-01"}
    assert set(done.table["age_days"].to_list()) == {(AS_OF - motion).days}
    none = reconcile(run_dir, tmp_path / "rec2", as_of=AS_OF, newer_files=[_source(run_dir)])
    assert none.table["age_days"].null_count() == none.table.height
    assert "not computed" in (tmp_path / "rec2" / "reconcile.html").read_text(encoding="utf-8")


def test_aging_is_deterministic_and_copies_other_rows(
    run_dir: Path, aged: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.dat.gz"
    age_file(run_dir, _source(run_dir), again, unchanged=0.25, contradicting=0.1, gone=0.05, seed=7)
    assert again.read_bytes() == aged.read_bytes()
    other = tmp_path / "other.dat.gz"
    age_file(run_dir, _source(run_dir), other, unchanged=0.25, contradicting=0.1, gone=0.05, seed=8)
    assert other.read_bytes() != aged.read_bytes()
    original = _source(run_dir).read_bytes().split(b"\n")
    newer = gzip.decompress(aged.read_bytes()).split(b"\n")
    counts = pl.read_parquet(run_dir / "record" / "counts.parquet")
    relieved = pl.read_csv(aged.with_name(aged.name + ".aging.csv"), infer_schema=False)
    touched = set(
        counts.join(relieved, on=["subject_id", "count_id"])
        .explode("source_lines")["source_lines"]
        .to_list()
    )
    untouched = [line for i, line in enumerate(original, start=1) if i not in touched]
    kept = set(newer)
    assert all(line in kept for line in untouched)
    gone_lines = (
        counts.join(relieved.filter(pl.col("fate") == "gone"), on=["subject_id", "count_id"])
        .explode("source_lines")
        .height
    )
    assert len(newer) == len(original) - gone_lines


def test_reconcile_csv_has_both_states(run_dir: Path, aged: Path, tmp_path: Path) -> None:
    reconcile(run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[aged], order_date=ORDER)
    table = pl.read_csv(tmp_path / "rec" / "reconcile.csv", infer_schema=False)
    assert tuple(table.columns) == RECONCILE_COLUMNS
    reflected = table.filter(pl.col("status") == "reflected")
    # A conviction set aside under PC 1203.4 before the run (decided too) starts from that state.
    assert reflected["old_disposition"].is_in(["convicted", "set_aside"]).all()
    dismissed = reflected.filter(pl.col("asked") == "dismissed")
    assert (dismissed["now_disposition"] == "dismissed").all()
    reduced = reflected.filter(pl.col("asked").is_in(["misdemeanor", "infraction"]))
    assert (reduced["now_level"] == reduced["asked"]).all()
    gone = table.filter(pl.col("status") == "gone")
    assert gone["now_disposition"].null_count() == gone.height
    summary = json.loads((tmp_path / "rec" / "reconcile.json").read_text(encoding="utf-8"))
    assert summary["sealed_records"] == SEALED_NOTE
    assert "doj-bulk-file.md" in SEALED_NOTE


def test_report_has_figures_only_and_renders(run_dir: Path, aged: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    done = reconcile(run_dir, out, as_of=AS_OF, newer_files=[aged], order_date=ORDER)
    html = (out / "reconcile.html").read_text(encoding="utf-8")
    assert "<svg" in html
    for row in done.summary["by_court"]:
        assert f'data-figure="by_court[0].pending">{row["pending"]:,}<' in html
    table = done.table
    private = set(table["name"].drop_nulls().to_list()) | set(
        table["court_case_number"].drop_nulls().to_list()
    )
    private |= set(table["subject_id"].to_list())
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "reconcile.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for value in private:
        assert value not in html
        assert f" {value} " not in f" {text} "
    assert "Pending" in text and "By relief group" in text
    pages = subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(out / "reconcile.pdf"), str(tmp_path / "page")],
        capture_output=True,
        check=True,
    )
    assert pages.returncode == 0
    first = sorted(tmp_path.glob("page*.png"))[0]
    assert first.stat().st_size > 5_000


def test_court_response(run_dir: Path, tmp_path: Path) -> None:
    relieved = pl.read_parquet(run_dir / "convictions.parquet").filter(
        pl.col("decision").is_in(["dismiss", "reduce"]) & pl.col("court_case_number").is_not_null()
    )
    cases = relieved.sort(["court_case_number", "count_id"])
    by_case = cases.group_by("court_case_number", maintain_order=True).agg(pl.col("count_id"))
    first, second, third = by_case.row(0), by_case.row(1), by_case.row(2)
    lines = [
        "Case Number,Count,Action Taken,Action Date",
        f"{first[0]},,Dismissed and sealed,2019-03-01",  # 2: the whole case
        f" {second[0].lower()} ,{int(second[1][0][6:9])},Denied,2019-03-02",  # 3: one count
        f"{third[0]},,pending,",  # 4
        f"{third[0]},,reticulated,",  # 5: not understood
        "NO-SUCH-CASE,,dismissed,",  # 6: no relieved conviction
        ",,dismissed,",  # 7: no case number
    ]
    response = tmp_path / "court.csv"
    response.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = reconcile(run_dir, tmp_path / "rec", as_of=AS_OF, court_response=response)
    table = done.table
    status = {(r["court_case_number"], r["count_id"]): r["status"] for r in table.to_dicts()}
    asked = {(r["court_case_number"], r["count_id"]): r["asked"] for r in table.to_dicts()}
    for count_id in first[1]:
        expected = "reflected" if asked[(first[0], count_id)] == "dismissed" else "contradicting"
        assert status[(first[0], count_id)] == expected
    assert status[(second[0], second[1][0])] == "contradicting"
    for count_id in second[1][1:]:
        assert status[(second[0], count_id)] == "pending"
    for count_id in third[1]:
        assert status[(third[0], count_id)] == "pending"
    unmatched = pl.read_csv(tmp_path / "rec" / "unmatched.csv", infer_schema=False)
    assert dict(zip(unmatched["source_line"], unmatched["reason"], strict=True)) == {
        "5": "action not understood",
        "6": "no relieved conviction of the run has this case (and count)",
        "7": "no court case number",
    }
    newer = done.summary["newer"]
    assert newer["rows_read"] == newer["rows_matched"] + newer["rows_unmatched"] == 6
    assert set(table["status"].to_list()) <= {"reflected", "pending", "contradicting"}


def test_errors_are_one_line(run_dir: Path, aged: Path, tmp_path: Path) -> None:
    with pytest.raises(ReconcileError, match="either newer DOJ files or"):
        reconcile(run_dir, tmp_path / "r", as_of=AS_OF)
    with pytest.raises(ReconcileError, match="not a complete run folder"):
        reconcile(tmp_path, tmp_path / "r", as_of=AS_OF, newer_files=[aged])
    with pytest.raises(ReconcileError, match="after --as-of"):
        reconcile(
            run_dir, tmp_path / "r", as_of=AS_OF, newer_files=[aged], order_date=date(2020, 1, 1)
        )
    bad = tmp_path / "bad.csv"
    bad.write_text("case,what\n1,2\n", encoding="utf-8")
    with pytest.raises(ReconcileError, match="no action column"):
        reconcile(run_dir, tmp_path / "r", as_of=AS_OF, court_response=bad)
    with pytest.raises(ReconcileError, match="add up to at most 1"):
        age_file(run_dir, _source(run_dir), tmp_path / "x.dat", unchanged=0.7, gone=0.5)
    elsewhere = tmp_path / "other.dat"
    shutil.copy(_source(run_dir), elsewhere)
    with pytest.raises(ReconcileError, match="no relieved conviction of the run"):
        age_file(run_dir, elsewhere, tmp_path / "x.dat", unchanged=0.2)


def test_cli_on_the_sample(tmp_path: Path) -> None:
    runner = CliRunner()
    sample = Path(__file__).parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
    run = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "run",
            str(sample),
            "--county",
            "sacramento",
            "--as-of",
            "2026-11-21",
            "--out",
            str(run),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    newer = tmp_path / "newer.dat.gz"
    result = runner.invoke(
        app,
        [
            "synth",
            "--age",
            str(run),
            "--from",
            str(sample),
            "--out",
            str(newer),
            "--unchanged",
            "0.3",
            "--seed",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    key = pl.read_csv(tmp_path / "newer.dat.gz.aging.csv", infer_schema=False)
    result = runner.invoke(
        app,
        [
            "reconcile",
            str(newer),
            "--run",
            str(run),
            "--as-of",
            "2026-12-01",
            "--order-date",
            "2026-06-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Sacramento" in result.output
    table = pl.read_csv(run / "reconcile" / "reconcile.csv", infer_schema=False)
    joined = key.join(table, on=["subject_id", "count_id"])
    assert joined.height == key.height == table.height
    assert (joined["fate"] == joined["status"]).all()
    pending = key.filter(pl.col("fate") == "pending").height
    assert pending == int(key.height * 0.3 + 0.5)
    summary = json.loads((run / "reconcile" / "reconcile.json").read_text(encoding="utf-8"))
    assert summary["by_court"][0]["court"] == "SACRAMENTO"
    assert summary["by_court"][0]["pending"] == pending
    result = runner.invoke(app, ["reconcile", str(newer), "--run", str(run)])
    assert result.exit_code == 2
    assert "--as-of" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["synth", "--age", str(run), "--out", str(newer)])
    assert result.exit_code == 2 and "--from" in result.output


def test_damaged_newer_files(run_dir: Path, aged: Path, tmp_path: Path) -> None:
    # A truncated gzip: one line, nothing written.
    truncated = tmp_path / "truncated.dat.gz"
    truncated.write_bytes(aged.read_bytes()[: aged.stat().st_size // 2])
    result = CliRunner().invoke(
        app,
        ["reconcile", str(truncated), "--run", str(run_dir), "--as-of", "2019-06-01", "--out",
         str(tmp_path / "bad")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2
    assert not (tmp_path / "bad" / "reconcile.csv").exists()
    # Malformed lines are set aside with their line and reason, and counted.
    damaged = tmp_path / "damaged.dat"
    text = gzip.decompress(aged.read_bytes())
    damaged.write_bytes(text + b"only,ten,fields,here,1,2,3,4,5,6\n" + b"x" * 40 + b"\n")
    done = reconcile(run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[damaged])
    newer = done.summary["newer"]
    assert newer["rows_read"] == newer["rows_loaded"] + newer["rows_quarantined"]
    quarantine = pl.read_csv(tmp_path / "rec" / "quarantine.csv", infer_schema=False)
    assert quarantine.height == newer["rows_quarantined"] >= 2
    lines = len(text.split(b"\n"))
    assert {str(lines), str(lines + 1)} <= set(quarantine["source_line"].to_list())


def test_cli_keeps_the_reconciliation_in_the_workspace(
    run_dir: Path, aged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearance.store.db import database_url, session_factory
    from clearance.store.reconciliations import history

    monkeypatch.delenv("CLEARANCE_DATABASE_URL", raising=False)
    runner = CliRunner()
    data = tmp_path / "data"
    result = runner.invoke(
        app,
        ["runs", "store", str(run_dir), "--input", str(_source(run_dir)), "--data-dir",
         str(data)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    base = ["reconcile", str(aged), "--run", str(run_dir), "--as-of", "2019-06-01", "-q"]
    result = runner.invoke(app, [*base, "--workspace-run", "1", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "reconciliation #1 of run #1" in result.output
    with session_factory(database_url(data))() as db:
        kept = history(db, 1)
        assert len(kept) == 1 and kept[0].pending == done_pending(run_dir)
    result = runner.invoke(app, [*base, "--workspace-run", "7", "--data-dir", str(data)])
    assert result.exit_code == 2 and "no run #7" in result.output


def done_pending(run_dir: Path) -> int:
    table = pl.read_csv(run_dir / "reconcile" / "reconcile.csv", infer_schema=False)
    return table.filter(pl.col("status") == "pending").height


@pytest.mark.parametrize(
    ("unchanged", "contradicting", "gone", "seed"),
    [(0.0, 0.0, 0.0, 1), (1.0, 0.0, 0.0, 2), (0.0, 0.0, 1.0, 3), (0.33, 0.33, 0.34, 4),
     (0.5, 0.25, 0.0, 5)],
)  # fmt: skip
def test_every_share_comes_back_exactly(
    run_dir: Path,
    tmp_path: Path,
    unchanged: float,
    contradicting: float,
    gone: float,
    seed: int,
) -> None:
    newer = tmp_path / "newer.dat"
    aged = age_file(
        run_dir,
        _source(run_dir),
        newer,
        unchanged=unchanged,
        contradicting=contradicting,
        gone=gone,
        seed=seed,
    )
    n = sum(aged.fates.values())
    assert aged.fates["pending"] == int(n * unchanged + 0.5)
    assert aged.fates["gone"] == min(int(n * gone + 0.5), n - aged.fates["pending"])
    done = reconcile(run_dir, tmp_path / "rec", as_of=AS_OF, newer_files=[newer])
    assert done.summary["totals"] == {s: aged.fates.get(s, 0) for s in done.summary["totals"]}
    key = pl.read_csv(aged.key_file, infer_schema=False)
    joined = key.join(done.table, on=["subject_id", "count_id"])
    assert joined.height == n and (joined["fate"] == joined["status"]).all()
