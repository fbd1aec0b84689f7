"""A line that repeats an earlier line byte for byte is set aside as a duplicate, wherever the
earlier line is in its file: in the same 16 MB chunk of the reader or in an earlier one.
Read as another row, it would be summed as one more part of its count's sentence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_doj import COURT, count, line, read_one, write

from clearance.records import chunks
from clearance.records.doj import read_doj

#: A padding comment: 250 rows of filler make a megabyte.
FILLER = "F" * 4000


def _filler(rows: int) -> list[str]:
    """Rows of other people (each their own count), about 4 KB each."""
    return [line(SUBJECT_ID=f"2{i:07d}", COMMENT_TEXT=FILLER) for i in range(rows)]


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A file of more than one chunk: a sentence part near its start, the same line byte for
    byte past the first chunk, a real second part of the count, and the line once more (in the
    chunk of its first repeat)."""
    part = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL")
    second = line(SENT_LENGTH="1", SENT_TIME_CODE="Y", SENT_LOC_DESCR="PROBATION")
    filler = _filler(4_400)
    rows = [part, *filler, part, second, part]
    # The header is line 1: the part is line 2, its repeats follow the filler.
    at = {"part": 2, "repeat": 3 + len(filler), "second": 4 + len(filler)}
    at["repeat_again"] = at["second"] + 1
    path = write(tmp_path_factory.mktemp("spread") / "spread.dat", rows, header=True)
    assert path.stat().st_size > chunks.CHUNK_BYTES + 1_000_000
    return path, at


def test_a_repeat_in_a_later_chunk_is_set_aside(spread: tuple[Path, dict[str, int]]) -> None:
    path, at = spread
    records, stats = read_one(path)
    starts = [first for first, _ in _chunk_starts(path)]
    assert len(starts) == 2 and at["part"] < starts[1] <= at["repeat"]
    # The first repeat is matched against the line in the earlier chunk; the second, as
    # within any chunk, against the first line of its text in its own chunk.
    assert records.quarantine.select("source_line", "reason").rows() == [
        (at["repeat"], f"exact duplicate of line {at['part']}"),
        (at["repeat_again"], f"exact duplicate of line {at['repeat']}"),
    ]
    assert records.quarantine["raw"].to_list()[0] == line(
        SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL"
    )
    assert (stats.rows_read, stats.rows_quarantined) == (4_404, 2)
    assert stats.rows_loaded == 4_402
    shared = count(records, COURT["SUBJECT_ID"], COURT["CNT_ORDER"])
    # The count has its own two parts, not the repeats: 90 days of jail and a year of
    # probation running together, added up (the county tools' reading) to one year and 90 days.
    assert shared["source_lines"] == [at["part"], at["second"]]
    assert shared["source_rows"] == 2
    assert shared["sentence_end"] == date(2011, 3, 1)
    assert shared["sentence_end_added"] == date(2011, 5, 30)


def test_the_same_values_written_otherwise_are_not_a_duplicate(tmp_path: Path) -> None:
    """Across chunks as within one, only the same bytes make a duplicate: the same values with
    an empty field written as the placeholder are another line (another part)."""
    first = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL")
    other = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL", OFN="  -  ")
    assert first != other
    path = write(tmp_path / "a.dat", [first, *_filler(4_400), other], header=True)
    records, stats = read_one(path)
    assert stats.rows_quarantined == 0
    assert count(records, COURT["SUBJECT_ID"], COURT["CNT_ORDER"])["source_rows"] == 2


def test_a_repeat_in_another_file_is_the_same_part_not_a_duplicate(tmp_path: Path) -> None:
    """A line given again in another file is the same part delivered twice: kept once by the
    merge of files, never quarantined (each file's rows are its own)."""
    part = line(SENT_LENGTH="90", SENT_TIME_CODE="D", SENT_LOC_DESCR="COUNTY JAIL")
    a = write(tmp_path / "a.dat", [part, *_filler(10)])
    b = write(tmp_path / "b.dat", [part])
    records = read_doj([a, b])
    assert records.quarantine.height == 0
    shared = count(records, COURT["SUBJECT_ID"], COURT["CNT_ORDER"])
    assert shared["sentence_end_added"] == date(2010, 5, 30)


def test_results_csv_keeps_the_duplicate_row_without_a_decision(
    spread: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    """The duplicate is a row of the layout: results.csv copies it, without the decision the
    count's own lines carry; quarantine.csv names it."""
    from typer.testing import CliRunner

    from clearance.cli import app

    path, at = spread
    out = tmp_path / "out"
    args = ["run", str(path), "--county", "Sacramento", "--as-of", "2026-11-21", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "-q", "--no-what-if"])
    assert result.exit_code == 0, result.output
    results = pl.read_csv(out / "results.csv", infer_schema=False, columns=["clearance_decision"])
    decided = results["clearance_decision"].fill_null("")
    # Line n of the input is row n - 2 of the table (the header is line 1).
    assert decided[at["part"] - 2] == decided[at["second"] - 2] == "not_eligible"
    assert decided[at["repeat"] - 2] == "" and decided[at["repeat_again"] - 2] == ""
    quarantine = pl.read_csv(out / "quarantine.csv")
    assert quarantine["source_line"].to_list() == [at["repeat"], at["repeat_again"]]


def _chunk_starts(path: Path) -> list[tuple[int, int]]:
    """(first line, lines) of each chunk the reader makes of `path`."""
    return [(c.first_line, c.line_count) for c, _ in chunks.iter_chunks(path)]
