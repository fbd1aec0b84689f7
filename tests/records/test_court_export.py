"""Court case exports: the mapping file is checked with line numbers, rows become counts with
the court's own case and count numbers, bad rows go to the quarantine, CSV and XLSX read alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.records.chunks import ReadError
from clearance.records.court_export import (
    REASON_BAD_DATE,
    REASON_NO_CASE,
    REASON_NO_OFFENSE,
    MappingError,
    load_mapping,
    mapping_from_text,
    read_court_export,
)

ROOT = Path(__file__).parents[2]
MAPPING = ROOT / "examples" / "court-export-mapping.yaml"
EXPORT = ROOT / "examples" / "court-export.csv"

HEADER = (
    "Case Nbr,Count,Defendant,Birth Date,CII,Violation Date,Disposition Date,Charge,"
    "Charge Desc,Lvl,Disposition,Jail Days,Probation Months,Court\n"
)


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_shipped_mapping_and_export_read() -> None:
    records = read_court_export(EXPORT, load_mapping(MAPPING))
    stats = records.files[0]
    assert stats.rows_read == stats.rows_loaded + stats.rows_quarantined
    assert stats.rows_loaded > 50
    assert records.counts["county"].unique().to_list() == ["SACRAMENTO"]
    assert records.counts["step_type"].unique().to_list() == ["court"]


def test_rows_become_counts_with_the_courts_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            '22F001,2,"DOE, JANE A",05/04/1980,A7654321,01/02/2010,03/04/2010,11359 HS,'
            "POSS MARIJ FOR SALE,F,CONV,30,36,Superior Court",
            '22F001,5,"DOE, JANE A",05/04/1980,A7654321,01/02/2010,03/04/2010,11360(A),'
            "SELL MARIJUANA,M,DISM,,,Superior Court",
        ],
    )
    records = read_court_export(path, load_mapping(MAPPING))
    counts = records.counts.sort("count_id")
    assert counts["count_id"].to_list() == ["001001002000", "001001005000"]
    assert counts["court_case_number"].to_list() == ["22F001", "22F001"]
    first = counts.row(0, named=True)
    assert first["code_section"] == "HS 11359"
    assert first["level"] == "felony"
    assert first["disposition"] == "convicted"
    assert first["event_date"] == date(2010, 3, 4)
    assert first["offense_date"] == date(2010, 1, 2)
    # 36 months of probation with 30 days of jail: they run together, the longest ends it.
    assert first["sentence_end"] == date(2013, 3, 4)
    second = counts.row(1, named=True)
    assert (second["code_section"], second["level"], second["disposition"]) == (
        "HS 11360(a)",
        "misdemeanor",
        "dismissed",
    )
    person = records.subjects.row(0, named=True)
    assert (person["name"], person["dob"], person["cii_number"]) == (
        "DOE,JANE A",
        date(1980, 5, 4),
        "A7654321",
    )


def test_bad_rows_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ',1,"DOE, JANE",05/04/1980,,,03/04/2010,11359 HS,,F,CONV,,,',
            '22F9,1,"DOE, JANE",05/04/1980,,,03/04/2010,,,F,CONV,,,',
            '22F9,1,"DOE, JANE",05/04/1980,,,13/45/2010,11359 HS,,F,CONV,,,',
            ",,,,,,,,,,,,,",
            '22F9,1,"DOE, JANE",05/04/1980,,,,11359 HS,,F,CONV,,,',
        ],
    )
    records = read_court_export(path, load_mapping(MAPPING))
    stats = records.files[0]
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined, stats.blank_lines) == (
        4,
        1,
        3,
        1,
    )
    reasons = records.quarantine.select("source_line", "reason").rows()
    assert reasons == [
        (2, REASON_NO_CASE),
        (3, REASON_NO_OFFENSE),
        (4, f"{REASON_BAD_DATE}: '13/45/2010'"),
    ]
    # A missing conviction date is unknown, not garbled: the row is kept without a date.
    assert records.counts["event_date"].to_list() == [None]


def test_xlsx_reads_like_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    csv_records = read_court_export(EXPORT, load_mapping(MAPPING))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    table = pl.read_csv(EXPORT, infer_schema=False)
    sheet.append(table.columns)
    for row in table.iter_rows():
        sheet.append(list(row))
    path = tmp_path / "export.xlsx"
    book.save(path)
    xlsx = read_court_export(path, load_mapping(MAPPING))
    columns = ["subject_id", "count_id", "court_case_number", "code_section", "event_date"]
    assert xlsx.counts.select(columns).equals(csv_records.counts.select(columns))


def test_mapping_errors_name_their_line(tmp_path: Path) -> None:
    text = MAPPING.read_text().replace("  level: Lvl ", "  levle: Lvl ")
    with pytest.raises(MappingError) as error:
        mapping_from_text(text, "m.yaml")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("  levle:"))
    assert str(error.value).startswith(f"m.yaml line {line}: columns.levle: unknown key")
    missing = "name: x\ncolumns:\n  name: Defendant\n"
    with pytest.raises(
        MappingError, match=r"m.yaml line 2: columns.case_number: required key is missing"
    ):
        mapping_from_text(missing, "m.yaml")
    with pytest.raises(MappingError, match="not valid YAML"):
        mapping_from_text("name: [unclosed\n", "m.yaml")
    with pytest.raises(MappingError, match="line 3: dates"):
        mapping_from_text(
            "name: x\ncolumns: {case_number: a, name: b, conviction_date: c, section: d, "
            "disposition: e}\ndates: [MM/DD/YYYY]\n",
            "m.yaml",
        )


def test_a_column_the_file_lacks_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Case,Name\n1,X\n")
    with pytest.raises(ReadError, match="names columns the file lacks: 'Case Nbr'"):
        read_court_export(path, load_mapping(MAPPING))


def test_names_in_columns_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "parts.csv"
    path.write_text(
        "Case,Last,First,Middle,DOB,Convicted,Code Section,Result\n"
        "A1,Doe,Jane,Ann,1980-05-04,2010-03-04,11359 HS,CONVICTED\n"
        "A2,,Jane,,1980-05-04,2010-03-04,11359 HS,CONVICTED\n"
    )
    mapping = mapping_from_text(
        "name: parts\ncounty: Yolo\ncolumns:\n  case_number: Case\n  last_name: Last\n"
        "  first_name: First\n  middle_name: Middle\n  dob: DOB\n  conviction_date: Convicted\n"
        "  section: Code Section\n  disposition: Result\ndates: ['%Y-%m-%d']\n",
        "parts.yaml",
    )
    records = read_court_export(path, mapping)
    assert records.subjects["name"].to_list() == ["DOE,JANE ANN"]
    assert records.quarantine["reason"].to_list() == ["no name"]
    with pytest.raises(MappingError, match=r"m\.yaml line 2: columns: give the column of the name"):
        mapping_from_text(
            "name: x\ncolumns:\n  case_number: a\n  conviction_date: c\n  section: d\n"
            "  disposition: e\n",
            "m.yaml",
        )
