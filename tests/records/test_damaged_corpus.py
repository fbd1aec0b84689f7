"""Damaged variants of the bundled sample, each run through the whole `clearance run`.

Real offices save, export and concatenate the DOJ file with whatever tools they have: Windows
line endings, an extra newline at the end, a padded line, a trailing comma on every row, a
header in another order, two extracts joined with the header twice. Each variant here is built
from the sample by the test itself and must run end to end: exit 0, rows read = loaded +
quarantined, a rectangular `results.csv`, and, where the variant changes nothing of the facts,
the very decisions of the original.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.records.schema import DOJ_COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = "2024-01-01"
RESULT_WIDTH = len(DOJ_COLUMNS) + 4


@dataclass(frozen=True)
class Sample:
    """The sample's header line and data lines, without their line ends."""

    header: bytes
    rows: list[bytes]


@dataclass(frozen=True)
class Ran:
    out: Path
    summary: dict[str, object]
    convictions: bytes
    results: list[list[str]]


def run(path: Path, out: Path) -> Ran:
    args = ["run", str(path), "--county", "sacramento", "--as-of", AS_OF, "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--quiet", "--no-what-if"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    summary = json.loads((out / "summary.json").read_text())
    with (out / "results.csv").open(newline="", encoding="latin-1") as handle:
        results = list(csv.reader(handle))
    return Ran(out, summary, (out / "convictions.csv").read_bytes(), results)


@pytest.fixture(scope="module")
def sample() -> Sample:
    lines = gzip.decompress(SAMPLE.read_bytes()).split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return Sample(lines[0], lines[1:])


@pytest.fixture(scope="module")
def original(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Ran:
    folder = tmp_path_factory.mktemp("original")
    path = folder / "sample.dat"
    path.write_bytes(b"\n".join([sample.header, *sample.rows]) + b"\n")
    return run(path, folder / "out")


def joined(lines: list[bytes], eol: bytes = b"\n") -> bytes:
    return b"".join(line + eol for line in lines)


def _crlf(s: Sample) -> bytes:
    return joined([s.header, *s.rows], b"\r\n")


def _mixed_endings(s: Sample) -> bytes:
    lines = [s.header, *s.rows]
    return b"".join(line + (b"\r\n" if i % 3 else b"\n") for i, line in enumerate(lines))


def _blank_line_at_end(s: Sample) -> bytes:
    return joined([s.header, *s.rows]) + b"\n"


def _whitespace_lines_at_end(s: Sample) -> bytes:
    return joined([s.header, *s.rows]) + b"   \r\n\t\n"


def _leading_space(s: Sample) -> bytes:
    rows = list(s.rows)
    rows[100] = b" " + rows[100]
    rows[200] = b"\t" + rows[200]
    return joined([s.header, *rows])


def _trailing_comma_everywhere(s: Sample) -> bytes:
    return joined([line + b"," for line in [s.header, *s.rows]])


def _trailing_comma_on_rows(s: Sample) -> bytes:
    return joined([s.header, *[row + b"," for row in s.rows]])


def _trailing_comma_crlf(s: Sample) -> bytes:
    return joined([line + b"," for line in [s.header, *s.rows]], b"\r\n")


def _no_final_newline(s: Sample) -> bytes:
    return joined([s.header, *s.rows])[:-1]


@dataclass(frozen=True)
class Variant:
    build: Callable[[Sample], bytes]
    #: The facts are those of the original: its decisions, line for line.
    same_decisions: bool = True
    #: Rows of the original that results.csv no longer carries.
    rows_left_out: int = 0


VARIANTS: dict[str, Variant] = {
    "crlf": Variant(_crlf),
    "mixed-endings": Variant(_mixed_endings),
    "blank-line-at-end": Variant(_blank_line_at_end),
    "whitespace-lines-at-end": Variant(_whitespace_lines_at_end),
    "line-starting-with-space": Variant(_leading_space),
    "trailing-comma-everywhere": Variant(_trailing_comma_everywhere),
    "trailing-comma-on-rows": Variant(_trailing_comma_on_rows),
    "trailing-comma-crlf": Variant(_trailing_comma_crlf),
    "no-final-newline": Variant(_no_final_newline),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_damaged_sample_runs_whole(
    name: str, sample: Sample, original: Ran, tmp_path: Path
) -> None:
    variant = VARIANTS[name]
    path = tmp_path / "sample.dat"
    path.write_bytes(variant.build(sample))
    ran = run(path, tmp_path / "out")
    read = ran.summary["input"]
    assert isinstance(read, dict)
    assert read["rows_read"] == read["rows_loaded"] + read["rows_quarantined"]
    assert read["accounting_holds"] is True
    # Rectangular: the header's field count on every row, by two different CSV readers.
    header, *rows = ran.results
    assert header == [*DOJ_COLUMNS, "clearance_decision", "clearance_new_level",
                      "clearance_remedy", "clearance_reasons"]  # fmt: skip
    widths = {len(row) for row in rows}
    assert widths == {RESULT_WIDTH}, f"results.csv has rows of {sorted(widths)} fields"
    frame = pl.read_csv(ran.out / "results.csv", infer_schema=False, encoding="utf8-lossy")
    assert frame.width == RESULT_WIDTH
    assert frame.height == len(rows) == len(sample.rows) - variant.rows_left_out
    if variant.same_decisions:
        assert ran.convictions == original.convictions
        # The same rows, in the same order, with the same decision columns.
        assert [_key(row) for row in rows] == [_key(row) for row in original.results[1:]]


def _key(row: list[str]) -> tuple[str, ...]:
    """A row of results.csv by its person, its count and its decision columns."""
    return (row[2].strip(), row[50].strip(), *row[-4:])
