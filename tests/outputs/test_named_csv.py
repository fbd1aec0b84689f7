"""The one reader of the small CSV files offices keep by hand (addresses for the letters, a
court's response for reconciliation): decoding and column names, the same for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.outputs.letters.people import LettersError, read_addresses
from clearance.outputs.named_csv import column_key, read_named_csv
from clearance.outputs.reconcile import ReconcileError
from clearance.outputs.reconcile_court import _read as read_court_rows

ALIASES = {"subject_id": ("subjectid", "subject"), "city": ("city", "town")}


def test_names_are_matched_by_key_and_the_first_match_wins(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfSubject ID,Town,City,notes\n1,Ma\xc3\xb1ana,Other,x\n")
    frame = read_named_csv(path, ALIASES, LettersError)
    assert frame.columns == ["subject_id", "city"]
    assert frame.rows() == [("1", "Mañana")]
    assert column_key(" Subject_ID ") == "subjectid"


def test_latin1_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("subject,city\n7,Año\n".encode("latin-1"))
    assert read_named_csv(path, ALIASES, LettersError).rows() == [("7", "Año")]


@pytest.mark.parametrize("error", [LettersError, ReconcileError])
def test_errors_are_the_callers_and_name_only_the_file(tmp_path: Path, error: type) -> None:
    with pytest.raises(error, match=r"nope\.csv: no such file"):
        read_named_csv(tmp_path / "nope.csv", ALIASES, error)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(error, match=r"empty\.csv: not a CSV file with a header row"):
        read_named_csv(empty, ALIASES, error)


def test_both_callers_read_through_it(tmp_path: Path) -> None:
    """The letters' addresses and the court's response decode the same Latin-1 bytes and
    match their own spellings of their columns."""
    import polars as pl

    addresses = tmp_path / "addresses.csv"
    addresses.write_bytes("SUBJECT,Street,Town\n1,Calle Peña 1,X\n".encode("latin-1"))
    people = pl.DataFrame({"subject_id": ["1"], "cii_number": ["A1"]})
    found = read_addresses(addresses, people)
    assert found.by_subject["1"]["address_line1"] == "Calle Peña 1"
    response = tmp_path / "court.csv"
    response.write_bytes("Case No,Action Taken\n19F-1,Dismissed – sealed\n".encode("utf-8-sig"))
    rows = read_court_rows(response)
    assert rows.select("court_case_number", "action", "source_line").rows() == [
        ("19F-1", "Dismissed – sealed", 2)
    ]
