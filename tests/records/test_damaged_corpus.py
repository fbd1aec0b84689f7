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
import io
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
COL = {name: i for i, name in enumerate(DOJ_COLUMNS)}


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


def _cr_only(s: Sample) -> bytes:
    return joined([s.header, *s.rows], b"\r")


def _fields(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def _line(fields: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue().encode("utf-8")


#: A header's columns in another order: the dates swapped, SUBJECT_ID and CII_NUMBER swapped,
#: the last ten columns first.
_ORDER = list(range(len(DOJ_COLUMNS)))
for a, b in ((COL["CYC_DATE"], COL["STP_EVENT_DATE"]), (COL["SUBJECT_ID"], COL["CII_NUMBER"])):
    _ORDER[a], _ORDER[b] = _ORDER[b], _ORDER[a]
_ORDER = _ORDER[-10:] + _ORDER[:-10]


def _reordered(s: Sample) -> bytes:
    lines = [s.header, *s.rows]
    return joined([_line([_fields(line)[i] for i in _ORDER]) for line in lines])


def _quoted_lower_header(s: Sample) -> bytes:
    header = ",".join(f'"{name.lower()}"' for name in DOJ_COLUMNS).encode()
    return joined([header, *s.rows])


def _extra_column(s: Sample) -> bytes:
    header = s.header + b",OFFICE_NOTE"
    return joined([header, *[row + b",checked" for row in s.rows]])


def _repeated_header(s: Sample) -> bytes:
    rows = list(s.rows)
    rows.insert(5000, s.header)
    return joined([s.header, *rows])


def _duplicate_line(s: Sample) -> bytes:
    rows = list(s.rows)
    rows.insert(_SENTENCED + 1, rows[_SENTENCED])
    return joined([s.header, *rows])


def _inner_empty_field(s: Sample) -> bytes:
    rows = list(s.rows)
    fields = _fields(rows[_ARREST])
    fields[-1] = ""
    fields.insert(COL["OFN"], "")
    rows[_ARREST] = _line(fields)
    return joined([s.header, *rows])


def _set(s: Sample, index: int, column: str, value: str) -> list[bytes]:
    rows = list(s.rows)
    fields = _fields(rows[index])
    fields[COL[column]] = value
    rows[index] = _line(fields)
    return rows


def _garbled_dob(s: Sample) -> bytes:
    return joined([s.header, *_set(s, _ARREST, "PRI_DOB", "19751332")])


def _garbled_cycle_date(s: Sample) -> bytes:
    return joined([s.header, *_set(s, _ARREST, "CYC_DATE", "2010AB01")])


def _nul_bytes(s: Sample) -> bytes:
    rows = list(s.rows)
    rows[0] = rows[0].replace(b"THIS IS", b"THIS\x00IS")
    rows[10_000] = rows[10_000] + b"\x00"
    return joined([s.header, *rows])


def _trailing_spaces(s: Sample) -> bytes:
    return joined([line + b"   " for line in [s.header, *s.rows]])


def _quoted_newline(s: Sample) -> bytes:
    rows = [row.replace(b",THIS IS A COMMENT,", b',"THIS IS\nA COMMENT",') for row in s.rows]
    return joined([s.header, *rows])


def _mixed_encodings(s: Sample) -> bytes:
    """One person's name in UTF-8, the next person's in Latin-1, in the same chunk."""
    rows = [
        row.replace(b'"MITCHELL,SCOTT K"', '"PEÑA,JOSÉ"'.encode()).replace(
            b'"EVANS,ANDREA K"', '"MUÑOZ,ANA"'.encode("latin-1")
        )
        for row in s.rows
    ]
    return joined([s.header, *rows])


def _overlong_line(s: Sample) -> bytes:
    rows = list(s.rows)
    rows.insert(7000, b"A" * (3 * 1024 * 1024))
    return joined([s.header, *rows])


#: Lines of the sample (0-based among the data lines): an arrest step of a person with other
#: rows, and a row with a sentence part.
_ARREST = 0
_SENTENCED = 3


@dataclass(frozen=True)
class Variant:
    build: Callable[[Sample], bytes]
    #: The facts are those of the original: its decisions, count for count.
    same_decisions: bool = True
    #: results.csv holds the original's rows, in order (else only the count of rows is checked).
    same_rows: bool = True
    #: Rows results.csv holds beyond the original's.
    more_rows: int = 0
    #: A quarantine reason the variant must produce (the start of it).
    reason: str | None = None
    #: Columns the variant's header adds.
    extra: tuple[str, ...] = ()


VARIANTS: dict[str, Variant] = {
    "crlf": Variant(_crlf),
    "mixed-endings": Variant(_mixed_endings),
    "cr-only": Variant(_cr_only),
    "blank-line-at-end": Variant(_blank_line_at_end),
    "whitespace-lines-at-end": Variant(_whitespace_lines_at_end),
    "line-starting-with-space": Variant(_leading_space),
    "trailing-comma-everywhere": Variant(_trailing_comma_everywhere),
    "trailing-comma-on-rows": Variant(_trailing_comma_on_rows),
    "trailing-comma-crlf": Variant(_trailing_comma_crlf),
    "trailing-spaces": Variant(_trailing_spaces),
    "no-final-newline": Variant(_no_final_newline),
    "header-reordered": Variant(_reordered),
    "header-quoted-lower-case": Variant(_quoted_lower_header),
    "extra-column": Variant(_extra_column, same_rows=False, extra=("OFFICE_NOTE",)),
    "repeated-header": Variant(_repeated_header, reason="repeated header"),
    "duplicate-line": Variant(
        _duplicate_line, same_rows=False, more_rows=1, reason="exact duplicate of line"
    ),
    "inner-empty-field": Variant(
        _inner_empty_field,
        same_decisions=False,
        same_rows=False,
        more_rows=-1,
        reason="wrong number of fields: 96 instead of 95 (an empty field too many",
    ),
    "garbled-dob": Variant(
        _garbled_dob, same_decisions=False, same_rows=False, reason="unparseable PRI_DOB"
    ),
    "garbled-cycle-date": Variant(
        _garbled_cycle_date, same_decisions=False, same_rows=False, reason="unparseable CYC_DATE"
    ),
    "nul-bytes": Variant(
        _nul_bytes,
        same_decisions=False,
        same_rows=False,
        more_rows=-2,
        reason="NUL byte in the line",
    ),
    "quoted-newline": Variant(_quoted_newline, same_rows=False),
    "mixed-encodings": Variant(_mixed_encodings, same_decisions=False, same_rows=False),
    "overlong-line": Variant(_overlong_line, reason="line longer than 1048576 bytes"),
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
    width = RESULT_WIDTH + len(variant.extra)
    assert header == [*DOJ_COLUMNS, *variant.extra, "clearance_decision", "clearance_new_level",
                      "clearance_remedy", "clearance_reasons"]  # fmt: skip
    widths = {len(row) for row in rows}
    assert widths == {width}, f"results.csv has rows of {sorted(widths)} fields"
    frame = pl.read_csv(ran.out / "results.csv", infer_schema=False, encoding="utf8-lossy")
    assert frame.width == width
    assert frame.height == len(rows) == len(sample.rows) + variant.more_rows
    quarantine = pl.read_csv(ran.out / "quarantine.csv", infer_schema=False)
    if variant.reason is None:
        # The sample's own duplicate lines, and nothing more.
        before = pl.read_csv(original.out / "quarantine.csv", infer_schema=False)

        def why(frame: pl.DataFrame) -> list[str]:
            return frame["reason"].str.replace(r"\d+$", "N").to_list()

        assert why(quarantine) == why(before)
    else:
        assert quarantine["reason"].str.starts_with(variant.reason).any(), quarantine["reason"]
    if variant.same_decisions:
        assert _decisions(ran).equals(_decisions(original))
    if variant.same_rows:
        # The same rows, in the same order, with the same decision columns.
        assert [_key(row) for row in rows] == [_key(row) for row in original.results[1:]]


def _decisions(ran: Ran) -> pl.DataFrame:
    """convictions.csv without the line numbers (a line inserted above moves them)."""
    return pl.read_csv(ran.convictions, infer_schema=False).drop("source")


def _key(row: list[str]) -> tuple[str, ...]:
    """A row of results.csv by its person, its count and its decision columns."""
    return (row[2].strip(), row[50].strip(), *row[-4:])


def test_names_in_two_encodings_of_one_chunk_both_read_right(
    sample: Sample, tmp_path: Path
) -> None:
    path = tmp_path / "sample.dat"
    path.write_bytes(_mixed_encodings(sample))
    ran = run(path, tmp_path / "out")
    files = ran.summary["input"]["files"]  # type: ignore[index]
    latin1 = sum(b'"EVANS,ANDREA K"' in row for row in sample.rows)
    assert latin1 > 0
    assert (files[0]["encoding"], files[0]["latin1_lines"]) == ("mixed", latin1)
    names = pl.read_parquet(ran.out / "record" / "subjects.parquet")["name"].to_list()
    assert "PEÑA,JOSÉ" in names and "MUÑOZ,ANA" in names


def test_a_quoted_line_break_is_one_row(sample: Sample, tmp_path: Path) -> None:
    path = tmp_path / "sample.dat"
    path.write_bytes(_quoted_newline(sample))
    ran = run(path, tmp_path / "out")
    read = ran.summary["input"]
    assert read["rows_read"] == len(sample.rows)  # type: ignore[index]
    with_break = [
        row for row in ran.results[1:] if row[COL["COMMENT_TEXT"]] == "THIS IS\nA COMMENT"
    ]
    assert len(with_break) == sum(b",THIS IS A COMMENT," in row for row in sample.rows) > 0


def test_utf16_is_named(sample: Sample, tmp_path: Path) -> None:
    path = tmp_path / "sample.dat"
    path.write_bytes(joined([sample.header, *sample.rows[:50]]).decode().encode("utf-16"))
    args = [
        "run",
        str(path),
        "--county",
        "sacramento",
        "--as-of",
        AS_OF,
        "--out",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "UTF-16" in result.output
    assert "Traceback" not in result.output
