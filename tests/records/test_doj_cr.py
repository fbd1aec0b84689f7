"""A carriage return inside an unquoted field is set aside, not copied raw into results.csv.

Many CSV readers (and older DOJ extracts) end a line at a bare CR, so results.csv holding one
outside quotes would be a different table for them; reading it as part of a value would change
a fact silently. Inside quotes a CR is valid CSV and stays; before a line feed it is a CRLF
line end."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_doj import ARREST, line, read_one, write
from typer.testing import CliRunner

from clearance.cli import app
from clearance.records.schema import REASON_CR


def _rows() -> list[str]:
    return [
        line(ARREST),
        line(),
        line(CNT_ORDER="001002002000", PRI_NAME="DOE,JOHN\rA"),  # quoted: kept
        line(CNT_ORDER="001002003000", GENDER="M\rF"),  # bare: set aside
        line(CNT_ORDER="001002004000", SUBJECT_ID="", GENDER="M\rF"),  # no SUBJECT_ID either
    ]


def test_a_bare_cr_sets_its_row_aside(tmp_path: Path) -> None:
    for eol in ("\n", "\r\n"):
        records, stats = read_one(write(tmp_path / "cr.dat", _rows(), header=True, eol=eol))
        assert records.quarantine.select("source_line", "reason").rows() == [
            (5, REASON_CR),
            (6, "no SUBJECT_ID"),
        ], eol
        assert "M\rF" in records.quarantine["raw"][0]
        assert sorted(records.counts["source_line"].to_list()) == [2, 3, 4]
        assert records.subjects["name"].to_list() == ["DOE,JOHN A"]
        # Neither row with a bare CR is a row of results.csv.
        assert stats.results_rows == 3


def test_results_csv_has_no_bare_cr(tmp_path: Path) -> None:
    path = write(tmp_path / "cr.dat", _rows(), header=True)
    out = tmp_path / "out"
    args = ["run", str(path), "--county", "Sacramento", "--as-of", "2026-11-21", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "-q", "--no-what-if"])
    assert result.exit_code == 0, result.output
    data = (out / "results.csv").read_bytes()
    assert b"M\rF" not in data
    # The quoted CR is there, inside its quotes; every line has the header's fields.
    assert b'"DOE,JOHN\rA"' in data
    table = pl.read_csv(out / "results.csv", infer_schema=False)
    assert table.height == 3
    assert table["CNT_ORDER"].to_list() == ["001001001000", "001002001000", "001002002000"]
    quarantine = pl.read_csv(out / "quarantine.csv")
    assert quarantine["reason"].to_list() == [REASON_CR, "no SUBJECT_ID"]
