"""results.csv marks every line of a decided count, in every file: a count whose sentence parts
come in two deliveries is decided once, and each of its lines, in either file, carries that
decision (an office matching results.csv back to its files finds no part left undecided)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from clearance.cli import app
from clearance.records.doj import read_doj
from records.test_doj import ARREST, COURT, line, write

RESULT = ["clearance_decision", "clearance_new_level", "clearance_remedy", "clearance_reasons"]


def _run(out: Path, *inputs: Path) -> pl.DataFrame:
    args = ["run", *map(str, inputs), "--county", "Sacramento", "--as-of", "2026-11-21"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "-q", "--no-what-if"])
    assert result.exit_code == 0, result.output
    return pl.read_csv(out / "results.csv", infer_schema=False)


def test_every_line_of_a_count_merged_across_files_carries_its_decision(tmp_path: Path) -> None:
    jail = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL")
    probation = line(SENT_LENGTH="3", SENT_TIME_CODE="Y", SENT_LOC_DESCR="PROBATION")
    other = line(SUBJECT_ID="10000009")
    first = write(tmp_path / "a.dat", [line(ARREST), jail], header=True)
    # The second delivery: the count's probation, its jail part again, another person.
    second = write(tmp_path / "b.dat", [probation, jail, other], header=True)
    records = read_doj([first, second])
    assert records.lines_elsewhere is not None
    assert records.lines_elsewhere.rows() == [(str(second), 2, str(first), 3),
                                              (str(second), 3, str(first), 3)]  # fmt: skip
    results = _run(tmp_path / "out", first, second)
    # Rows: a.dat's arrest and jail part, then b.dat's probation, jail again, other person.
    assert results.height == 5
    decided = results.select(RESULT).rows()
    count_decision = decided[1]
    assert count_decision[0] in ("dismiss", "reduce", "not_eligible", "review")
    assert decided[0] == (None, None, None, None)  # the arrest is not the conviction
    assert decided[2] == decided[3] == count_decision
    # The other person's count is decided on its own line.
    assert decided[4][0] is not None
    subject = results["SUBJECT_ID"].to_list()
    assert subject[2] == subject[3] == COURT["SUBJECT_ID"]


def test_a_file_alone_is_unchanged(tmp_path: Path) -> None:
    """Read alone, the second delivery's lines carry the decision of the count they make."""
    jail = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL")
    probation = line(SENT_LENGTH="3", SENT_TIME_CODE="Y", SENT_LOC_DESCR="PROBATION")
    second = write(tmp_path / "b.dat", [probation, jail], header=True)
    assert read_doj([second]).lines_elsewhere is None
    results = _run(tmp_path / "alone", second)
    decided = results.select(RESULT).rows()
    assert decided[0] == decided[1] and decided[0][0] is not None
