"""The out-of-core path: an input above --memory-limit is read into buckets of people on disk,
each decided alone, and the run's files are the bytes the in-memory run writes.

A tiny limit forces the buckets on small files, so the differential test runs in seconds: the
in-memory run is the reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import AS_OF, RUN_FILES, SAMPLE
from typer.testing import CliRunner, Result

from clearance.cli import app
from clearance.scale.memory import (
    MemoryLimitError,
    buckets_for,
    estimated_peak,
    parse_size,
    uncompressed_size,
)
from clearance.synth import write_synthetic


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def run(files: list[Path], out: Path, *extra: str, county: str = "sacramento") -> Result:
    result = invoke("run", *files, "--county", county, "--as-of", AS_OF, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return result


def assert_same_files(a: Path, b: Path) -> None:
    for name in RUN_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_sample_in_buckets_is_byte_identical(tmp_path: Path) -> None:
    run([SAMPLE], tmp_path / "memory", "-q")
    result = run([SAMPLE], tmp_path / "buckets", "--memory-limit", "1M")
    assert "decided in" in result.output and "buckets of people" in result.output
    assert_same_files(tmp_path / "memory", tmp_path / "buckets")
    # The buckets are gone; the folder is a run folder that explains a person.
    assert not list(tmp_path.glob(".clearance-buckets-*"))
    decided = (tmp_path / "buckets" / "convictions.csv").read_text(encoding="utf-8")
    person = decided.splitlines()[1].split(",")[0]
    assert invoke("explain", person, "--run", tmp_path / "buckets").exit_code == 0


def test_damaged_files_and_two_inputs_in_buckets(tmp_path: Path) -> None:
    """Malformed rows, Latin-1, CR LF, no header, and the same people in two files (merged as
    the reader merges them): all of it alike in buckets."""
    first = tmp_path / "a.dat"
    second = tmp_path / "b.dat.gz"
    write_synthetic(first, rows=30_000, seed=7, malformed_share=0.01, encoding="latin-1", crlf=True)
    write_synthetic(second, rows=12_000, seed=7, malformed_share=0.01, header=False)
    files = [first, second]
    run(files, tmp_path / "memory", "-q", "--policy", "los-angeles-2020")
    run(files, tmp_path / "buckets", "-q", "--policy", "los-angeles-2020", "--memory-limit",
        "2M")  # fmt: skip
    assert_same_files(tmp_path / "memory", tmp_path / "buckets")
    summary = json.loads((tmp_path / "buckets" / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["counts_merged_across_files"] > 0
    assert summary["input"]["rows_quarantined"] > 0
    assert summary["input"]["accounting_holds"]


def test_unknown_county_and_bad_limit_are_one_line_errors(tmp_path: Path) -> None:
    result = invoke("run", SAMPLE, "--county", "yolo", "--as-of", AS_OF, "--out", tmp_path,
                    "--memory-limit", "1M")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: county 'yolo' does not appear in the input")
    result = invoke("run", SAMPLE, "--county", "sacramento", "--as-of", AS_OF, "--out",
                    tmp_path, "--memory-limit", "lots")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --memory-limit 'lots' is not a size: use e.g. 3G or 512M"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_sizes_and_bucket_counts() -> None:
    assert parse_size("3G") == 3 * 1024**3
    assert parse_size("512m") == 512 * 1024**2
    assert parse_size("2.5GB") == int(2.5 * 1024**3)
    assert parse_size("1000") == 1000
    for bad in ("", "0", "-1G", "3X", "G"):
        with pytest.raises(MemoryLimitError):
            parse_size(bad)
    # The sample is gzip: its text is many times its size on disk.
    assert uncompressed_size(SAMPLE) > 10 * SAMPLE.stat().st_size
    peak = estimated_peak([SAMPLE])
    assert buckets_for([SAMPLE], peak) == 0
    assert buckets_for([SAMPLE], peak - 1) >= 2
    assert buckets_for([SAMPLE], 1) == 4096


def test_federal_entries_counted_alike_in_buckets(tmp_path: Path) -> None:
    """The summary's overview of federal entries (rows citing the U.S. Code) adds up across
    buckets to the in-memory figures."""
    import gzip

    text = gzip.decompress(SAMPLE.read_bytes()).replace(
        b"12500(A) VC-DRIVE W/O LICENSE", b"21 USC 841(A)(1)-MANUFACTURE MARIJUANA"
    )
    path = tmp_path / "with-federal.dat"
    path.write_bytes(text)
    run([path], tmp_path / "memory", "-q")
    run([path], tmp_path / "buckets", "-q", "--memory-limit", "1M")
    assert_same_files(tmp_path / "memory", tmp_path / "buckets")
    summary = json.loads((tmp_path / "buckets" / "summary.json").read_text(encoding="utf-8"))
    assert summary["federal_entries"]["counts"] > 0
