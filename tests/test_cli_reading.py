"""What the command line says about its inputs before deciding: a file given twice is read
once (with a warning), a file of which no row is usable says so, and the longest line read is
an option (`--max-line-bytes`)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import polars as pl
from typer.testing import CliRunner, Result

from clearance.cli import app
from clearance.records.doj import read_doj
from records.test_doj import ARREST, line, write

WIDE = {"COLUMNS": "1000"}
AS_OF = "2026-11-21"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=WIDE, prog_name="clearance")


def run(out: Path, *inputs: str | Path, extra: tuple[str, ...] = ()) -> Result:
    return invoke("run", *inputs, "--county", "Sacramento", "--as-of", AS_OF, "--out", out,
                  "-q", *extra)  # fmt: skip


def _county(path: Path) -> Path:
    """A small file: one person's arrest and court steps, a sentence of 90 days."""
    return write(path, [line(ARREST), line(SENT_LENGTH="90", SENT_TIME_CODE="D")], header=True)


def test_the_same_file_under_other_spellings_is_read_once(tmp_path: Path) -> None:
    """`x`, `./x`, `sub/../x`, a symbolic link and a hard link are one file: read once (its
    sentence parts are not summed twice), each repeat named in a warning, results.csv holding
    its rows once."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    source = _county(folder / "county.dat")
    (folder / "link.dat").symlink_to(source)
    os.link(source, folder / "hard.dat")
    spellings = ["county.dat", "./county.dat", "sub/../county.dat", "link.dat", "hard.dat"]
    once = tmp_path / "once"
    here = Path.cwd()
    try:
        os.chdir(folder)
        records = read_doj(spellings)
        result = run(once, *spellings)
        alone = run(tmp_path / "alone", "county.dat")
    finally:
        os.chdir(here)
    assert [f.path for f in records.files] == ["county.dat"]
    assert records.counts["source_rows"].to_list() == [1, 1]
    assert (
        records.warnings
        == [
            "county.dat: given more than once, read once",  # ./county.dat is county.dat
            *[f"{name}: the same file as county.dat, read once" for name in spellings[2:]],
        ]
    )
    assert result.exit_code == 0, result.output
    warned = [w for w in result.stderr.splitlines() if w.startswith("warning:")]
    assert len(warned) == 4 and "link.dat: the same file as county.dat, read once" in warned[2]
    assert alone.exit_code == 0 and "warning" not in alone.stderr
    for name in ("results.csv", "convictions.csv", "summary.json"):
        assert (once / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name
    assert len((once / "results.csv").read_text().splitlines()) == 3


def test_a_file_without_a_usable_row_says_so(tmp_path: Path) -> None:
    """Every row set aside: the run says how many and where they are (not that the county
    does not appear), keeps them in quarantine.csv, and exits 2."""
    bad = write(tmp_path / "bad.dat", [line(SUBJECT_ID=""), line(CNT_ORDER="12")], header=True)
    out = tmp_path / "out"
    result = run(out, bad)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: no usable rows: 2 quarantined, see {out / 'quarantine.csv'} (nothing was decided)"
    ]
    assert "does not appear" not in result.output
    rows = list(csv.DictReader((out / "quarantine.csv").open(encoding="utf-8")))
    assert [r["source_line"] for r in rows] == ["2", "3"]
    assert invoke("verify", out).exit_code == 0
    # Beside a file with rows, the empty one is a warning and the run goes on.
    good = _county(tmp_path / "good.dat")
    both = run(tmp_path / "both", good, bad)
    assert both.exit_code == 0, both.output
    assert f"warning: {bad}: no usable rows: 2 quarantined, see quarantine.csv" in (
        " ".join(both.stderr.split())
    )
    ingested = invoke("ingest", bad, "--out", tmp_path / "tables", "-q")
    assert ingested.exit_code == 0
    assert "warning: no usable rows: 2 quarantined" in " ".join(ingested.stderr.split())


def test_no_usable_row_leaves_previous_outputs(tmp_path: Path) -> None:
    """A run with nothing usable is a failed run: into a folder holding a previous run's
    outputs it changes nothing (exit 2) and names the commonest reasons, without any value
    of the rows."""
    out = tmp_path / "out"
    assert run(out, _county(tmp_path / "good.dat")).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = write(
        tmp_path / "bad.dat",
        [line(SUBJECT_ID=""), line(SUBJECT_ID=""), line(CNT_ORDER="12"), line(CNT_ORDER="12x")],
        header=True,
    )
    result = run(out, bad)
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message == (
        "error: no usable rows: 4 quarantined (2 CNT_ORDER is not 12 digits; 2 no SUBJECT_ID); "
        "nothing was decided (run into a new folder to see every line in quarantine.csv); "
        f"the previous outputs in {out} are unchanged"
    )
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert invoke("verify", out).exit_code == 0


def test_max_line_bytes_sets_the_longest_line_read(tmp_path: Path) -> None:
    """A row of 3,000 bytes is read under the default limit (1 MB) and set aside under
    `--max-line-bytes 2048`, left out of results.csv; a limit below 1 KB is refused."""
    long_row = line(CNT_ORDER="001002002000", COMMENT_TEXT="X" * 2600)
    path = write(tmp_path / "long.dat", [line(ARREST), line(), long_row], header=True)
    assert len(long_row.encode()) > 2048
    default = run(tmp_path / "default", path)
    assert default.exit_code == 0, default.output
    assert pl.read_csv(tmp_path / "default" / "quarantine.csv").height == 0
    small = run(tmp_path / "small", path, extra=("--max-line-bytes", "2048"))
    assert small.exit_code == 0, small.output
    quarantine = pl.read_csv(tmp_path / "small" / "quarantine.csv")
    assert quarantine.select("source_line", "reason").rows() == [
        (4, f"line longer than 2048 bytes: {len(long_row.encode()):,} bytes")
    ]
    summary = json.loads((tmp_path / "small" / "summary.json").read_text())
    (listed,) = summary["input"]["files"]
    assert (listed["rows_read"], listed["rows_quarantined"]) == (3, 1)
    results = (tmp_path / "small" / "results.csv").read_text().splitlines()
    assert len(results) == 3 and "XXXX" not in "".join(results)
    assert "XXXX" in (tmp_path / "default" / "results.csv").read_text()
    ingested = invoke("ingest", path, "--out", tmp_path / "t", "-q", "--max-line-bytes", "2048")
    assert ingested.exit_code == 0
    assert pl.read_csv(tmp_path / "t" / "quarantine.csv").height == 1
    refused = run(tmp_path / "refused", path, extra=("--max-line-bytes", "100"))
    assert refused.exit_code == 2 and "1024" in refused.output
