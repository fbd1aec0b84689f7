"""The folders later commands write into a run (a reconciliation, the letters) are whole or
untouched, like the run's own, and the run's `run.json` lists them, so `clearance verify RUN`
still finds the run whole after the office's later steps (as `make demo` shows)."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from run_helpers import (
    clearance,
    completed_run,
    copy_run,
    error_line,
    leftovers,
    snapshot,
    synthetic_input,
)

OFFICE = ["--office", "Office of the District Attorney", "--phone", "(916) 555-0100"]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_input(tmp_path_factory, seed=33)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    return completed_run(tmp_path_factory, source)


@pytest.fixture(scope="module")
def newer(tmp_path_factory: pytest.TempPathFactory, done: Path, source: Path) -> Path:
    """The run's input as DOJ would send it later, some relief left undone."""
    path = tmp_path_factory.mktemp("later") / "newer.dat.gz"
    result = clearance(
        "synth", "--age", done, "--from", source, "--out", path, "--unchanged", "0.3", "--seed", "4"
    )
    assert result.returncode == 0, result.stderr.decode()
    return path


def _reconcile(run: Path, newer: Path, *extra: str | Path):  # type: ignore[no-untyped-def]
    return clearance(
        "reconcile", newer, "--run", run, "--as-of", "2027-03-01", "--order-date", "2026-12-15",
        "-q", *extra,
    )  # fmt: skip


def _letters(run: Path, *extra: str | Path):  # type: ignore[no-untyped-def]
    return clearance(
        "letters", "--run", run, "--order-date", "2026-12-15", "--date", "2027-03-01", *OFFICE,
        *extra,
    )  # fmt: skip


def test_run_stays_whole_after_reconcile_and_letters(
    done: Path, newer: Path, tmp_path: Path
) -> None:
    run = copy_run(done, tmp_path)
    result = _reconcile(run, newer)
    assert result.returncode == 0, result.stderr.decode()
    result = _letters(run, "--reconciled", run / "reconcile")
    assert result.returncode == 0, result.stderr.decode()
    verified = clearance("verify", run)
    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()
    listed = {f["path"] for f in json.loads((run / "run.json").read_text())["files"]}
    assert {"reconcile/reconcile.csv", "reconcile/run.json", "letters/letters.csv"} <= listed
    # Each later folder is itself whole, with its own manifest.
    for sub in ("reconcile", "letters"):
        assert clearance("verify", run / sub).returncode == 0
        assert json.loads((run / sub / "run.json").read_text())["command"] == sub
        assert leftovers(run / sub) == []
    # A changed letter is found by verifying the run.
    letter = next((run / "letters").glob("*.pdf"))
    letter.write_bytes(letter.read_bytes() + b"\n")
    assert clearance("verify", run).returncode == 9


def test_a_second_reconciliation_replaces_the_first_whole(
    done: Path, newer: Path, tmp_path: Path
) -> None:
    run = copy_run(done, tmp_path)
    assert _reconcile(run, newer).returncode == 0
    stray = run / "reconcile" / "unmatched.csv"
    stray.write_text("left by hand\n")
    assert _reconcile(run, newer).returncode == 0
    assert not stray.exists()
    assert clearance("verify", run).returncode == 0


def _file_size_limit(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_letters_cut_short_leave_the_previous_letters(
    done: Path, newer: Path, tmp_path: Path
) -> None:
    """A disk that fills while the letters are written: exit 7 and the previous letters as
    they were, nothing half-written beside them."""
    run = copy_run(done, tmp_path)
    assert _letters(run).returncode == 0
    before = snapshot(run)
    biggest = max(p.stat().st_size for p in (run / "letters").glob("*.pdf"))
    result = clearance(
        "letters", "--run", run, "--order-date", "2026-12-15", "--date", "2027-03-01", *OFFICE,
        preexec=_file_size_limit(biggest // 2),
    )  # fmt: skip
    assert result.returncode == 7, result.stderr.decode()
    assert "disk full" in error_line(result)
    assert snapshot(run) == before
    assert leftovers(run / "letters") == []
    assert clearance("verify", run).returncode == 0


def test_a_folder_of_other_files_is_refused(done: Path, newer: Path, tmp_path: Path) -> None:
    """The reconciliation replaces its whole folder, so it is never pointed at someone's
    documents: exit 5 and the folder untouched."""
    run = copy_run(done, tmp_path)
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "memo.txt").write_text("keep me\n")
    result = _reconcile(run, newer, "--out", papers)
    assert result.returncode == 5
    assert "not a clearance output folder" in error_line(result)
    assert (papers / "memo.txt").read_text() == "keep me\n"
