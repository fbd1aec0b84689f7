"""A run's folder is whole or untouched: built aside, swapped in, listed in run.json.

The promises (issue 12): a failed run leaves the previous outputs exactly as they were and
says so; the output folder is checked before anything is read; `run.json` lists every file
with its size and SHA-256 and `clearance verify` tells a whole folder from a damaged one; two
runs of the same input are byte-identical, run.json included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clearance.outputs.folder import folder_lock, stage, sync_tree
from run_helpers import (
    COMMAND,
    clearance,
    completed_run,
    copy_run,
    error_line,
    leftovers,
    run_args,
    snapshot,
    synthetic_input,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_input(tmp_path_factory, seed=12)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory, small: Path) -> Path:
    """A complete run folder (copied by the tests that change it)."""
    return completed_run(tmp_path_factory, small)


def test_run_json_lists_every_file_with_size_and_sha256(done: Path) -> None:
    manifest = json.loads((done / "run.json").read_text())
    on_disk = sorted(p.relative_to(done).as_posix() for p in done.rglob("*") if p.is_file())
    listed = [f["path"] for f in manifest["files"]]
    assert listed == [name for name in on_disk if name != "run.json"]
    assert {"results.csv", "convictions.csv", "summary.json", "record/determinations.parquet"} <= (
        set(listed)
    )
    for entry in manifest["files"]:
        data = (done / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["total_files"] == len(listed) and manifest["command"] == "run"
    assert leftovers(done) == []
    result = clearance("verify", done)
    assert result.returncode == 0, result.stderr.decode()
    assert "is whole" in result.stdout.decode()


def test_verify_names_what_is_missing_changed_or_extra(done: Path, tmp_path: Path) -> None:
    out = copy_run(done, tmp_path)
    data = bytearray((out / "convictions.csv").read_bytes())
    data[-2] = ord("X") if data[-2] != ord("X") else ord("Y")  # same size, other bytes
    (out / "convictions.csv").write_bytes(bytes(data))
    (out / "people.csv").unlink()
    (out / "record" / "stray.csv").write_text("left from another run\n")
    result = clearance("verify", out)
    assert result.returncode == 9
    text = result.stderr.decode()
    assert "missing: people.csv" in text
    assert "changed: convictions.csv" in text
    assert "not listed in run.json: record/stray.csv" in text
    assert text.strip().splitlines()[-1].startswith(f"error: {out}: not whole (3 problems")
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("make", "code", "needle"),
    [
        (lambda p: None, 3, "no such folder"),
        (lambda p: p.write_text("x"), 5, "not a folder"),
        (lambda p: p.mkdir(), 9, "no run.json"),
        (lambda p: (p.mkdir(), (p / "run.json").write_text("{")), 9, "damaged"),
    ],
    ids=["missing", "a-file", "no-manifest", "damaged-manifest"],
)
def test_verify_of_what_is_not_a_listed_folder(
    tmp_path: Path, make, code: int, needle: str
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "folder"
    make(folder)
    result = clearance("verify", folder)
    assert result.returncode == code
    assert needle in error_line(result)


def test_two_runs_are_byte_identical_run_json_included(
    done: Path, small: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    result = clearance(*run_args([small], again))
    assert result.returncode == 0, result.stderr.decode()
    assert snapshot(again) == snapshot(done)


def test_a_new_run_replaces_the_whole_folder(done: Path, small: Path, tmp_path: Path) -> None:
    """Nothing of the previous run survives beside the new one (an old file of filings would
    be a half-truth)."""
    out = copy_run(done, tmp_path)
    (out / "filings").mkdir()
    (out / "filings" / "motion-old.pdf").write_bytes(b"%PDF-1.4 old")
    result = clearance(*run_args([small], out)[:-1], "--as-of", "2026-12-01", "-q")
    assert result.returncode == 0, result.stderr.decode()
    assert not (out / "filings").exists()
    assert json.loads((out / "summary.json").read_text())["as_of"] == "2026-12-01"
    assert clearance("verify", out).returncode == 0
    assert leftovers(out) == []


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda p: p.write_bytes(b"\x00\x01" * 64), "is a binary file"),
        (lambda p: p.write_bytes(b""), "is empty"),
    ],
    ids=["binary", "empty"],
)
def test_a_failed_run_leaves_the_previous_outputs_and_says_so(
    done: Path, tmp_path: Path, damage, needle: str
) -> None:  # type: ignore[no-untyped-def]
    out = copy_run(done, tmp_path)
    before = snapshot(out)
    bad = tmp_path / "bad.dat"
    damage(bad)
    result = clearance(*run_args([bad], out))
    assert result.returncode == 2
    line = error_line(result)
    assert needle in line and f"the previous outputs in {out} are unchanged" in line
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_failed_run_into_a_new_folder_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"")
    out = tmp_path / "new" / "results"
    result = clearance(*run_args([bad], out))
    assert result.returncode == 2
    assert f"nothing was written to {out}" in error_line(result)
    assert not out.exists() and leftovers(out) == []


def test_the_output_folder_is_checked_before_any_input_is_read(tmp_path: Path) -> None:
    """The input is a pipe nobody writes to: reading it would wait forever, so a prompt answer
    shows that the output was checked first."""
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    out = tmp_path / "a-file"
    out.write_text("not a folder\n")
    result = clearance(*run_args([fifo], out), timeout=120)
    assert result.returncode == 5
    assert "is a file, not a folder" in error_line(result)
    assert out.read_text() == "not a folder\n"
    under = clearance(*run_args([fifo], out / "sub"), timeout=120)
    assert under.returncode == 5
    assert "is a file, not a folder" in error_line(under)


def test_a_folder_that_holds_other_files_is_never_replaced(small: Path, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "notes.txt").write_text("mine\n")
    result = clearance(*run_args([small], documents))
    assert result.returncode == 5
    assert "not a clearance output folder" in error_line(result)
    assert [p.name for p in documents.iterdir()] == ["notes.txt"]


def test_an_empty_existing_folder_is_used(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    result = clearance(*run_args([small], out))
    assert result.returncode == 0, result.stderr.decode()
    assert clearance("verify", out).returncode == 0


def test_a_second_run_into_a_busy_folder_is_refused(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    with folder_lock(out):
        result = clearance(*run_args([small], out))
    assert result.returncode == 10
    assert "another run is writing this folder" in error_line(result)
    assert not out.exists() and leftovers(out) == []


def test_what_a_killed_run_left_is_cleaned_or_put_back(tmp_path: Path) -> None:
    """A kill between the two renames of a swap (where the file system cannot exchange two
    folders in one step) leaves the old folder beside the target: the next command puts it
    back; a half-built folder is removed."""
    out = tmp_path / "results"
    old = tmp_path / ".results.previous"
    old.mkdir()
    (old / "summary.json").write_text("{}\n")
    building = tmp_path / ".results.building"
    building.mkdir()
    (building / "results.csv").write_text("half")
    with stage(out) as staging:
        assert staging.had_previous
        assert (out / "summary.json").read_text() == "{}\n"
        assert staging.path.is_dir() and list(staging.path.iterdir()) == []
    assert leftovers(out) == []


def test_ingest_is_atomic_and_listed_too(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    result = clearance("ingest", small, "--out", out, "-q")
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads((out / "run.json").read_text())["command"] == "ingest"
    assert clearance("verify", out).returncode == 0
    before = snapshot(out)
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"\x00\x01" * 64)
    failed = clearance("ingest", bad, "--out", out, "-q")
    assert failed.returncode == 2
    assert "the previous outputs" in error_line(failed)
    assert snapshot(out) == before and leftovers(out) == []


def test_sync_tree_flushes_every_file_and_folder(done: Path, tmp_path: Path) -> None:
    out = copy_run(done, tmp_path)
    (out / "record").chmod(0o555)  # a folder we may not write is still flushed
    try:
        files = [p for p in out.rglob("*") if p.is_file()]
        folders = [out, *(p for p in out.rglob("*") if p.is_dir())]
        assert sync_tree(out) == len(files) + len(folders)
    finally:
        (out / "record").chmod(0o755)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_every_file_reaches_the_disk_before_the_swap(small: Path, tmp_path: Path) -> None:
    """The system calls of a real run, traced: each file of the folder and the folder itself
    are flushed (fsync) before the rename that puts the folder in place, and the parent
    folder after it."""
    out = tmp_path / "results"
    trace = tmp_path / "trace.txt"
    traced = subprocess.run(
        ["strace", "-f", "-y", "-qq", "-e", "trace=fsync,rename,renameat,renameat2",
         "-o", str(trace), *COMMAND, *map(str, run_args([small], out))],
        capture_output=True, check=False, timeout=600,
    )  # fmt: skip
    assert traced.returncode == 0, traced.stderr.decode()
    calls = trace.read_text().splitlines()
    building = f"{tmp_path}/.results.building"
    swap = [i for i, c in enumerate(calls) if re.search(r"rename\w*\(.*\.results\.building", c)]
    assert swap, calls
    synced = {
        m.group(1): i for i, c in enumerate(calls) if (m := re.search(r"fsync\(\d+<([^>]+)>", c))
    }
    listed = [f["path"] for f in json.loads((out / "run.json").read_text())["files"]]
    for name in [*listed, "run.json", "", "record"]:
        where = f"{building}/{name}".rstrip("/")
        assert where in synced, where
        assert synced[where] < swap[-1], where
    assert synced[str(tmp_path)] > swap[-1]
