"""The federal case-list reader and the federal entries of RAP sheets and DOJ files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.records.chunks import ReadError
from clearance.records.federal import (
    CASE_LIST_COLUMNS,
    is_case_list,
    read_federal,
    sentence_months,
)
from clearance.records.federal_statutes import parse_statute
from scenarios.builder import Event, rows_for, write_doj

HEADER = ",".join(CASE_LIST_COLUMNS)
RAPSHEETS = Path(__file__).parent / "rapsheets"


def _write(tmp_path: Path, text: str, name: str = "cases.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_rows_read_equal_loaded_plus_quarantined_with_reasons(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "\n"
        + "P1,A,1980-01-02,citizen,C.D. Cal.,1,21 USC 844,2010-01-01,convicted,2010-02-01,\n"
        + "P2,B,1980-13-02,citizen,C.D. Cal.,2,21 USC 844,2010-01-01,convicted,2010-02-01,\n"
        + "P3,C,1980-01-02,alien,C.D. Cal.,3,21 USC 844,2010-01-01,convicted,2010-02-01,\n"
        + "P4,D,1980-01-02,citizen,C.D. Cal.,4,21 USC 844,2010-01-01,sentenced,2010-02-01,\n"
        + ",E,1980-01-02,citizen,C.D. Cal.,5,21 USC 844,2010-01-01,convicted,2010-02-01,\n"
        + "P6,F,1980-01-02,citizen,C.D. Cal.,6,21 USC 844\n"
        + "\n"
        + 'P7,"G, H",1980-01-02,LPR,D. Ariz.,7,"21 U.S.C. § 844(a)",2010-01-31,Guilty,'
        + "2010-02-01,time served\n"
        + "P8,I,1980-01-02,citizen,C.D. Cal.,8,21 USC 844,2010-02-30,convicted,,\n",
    )
    read = read_federal([path])
    assert read.rows_read == 8
    assert read.rows_read == read.rows_loaded + read.rows_quarantined
    assert read.files[0].blank_lines == 1
    reasons = dict(zip(read.quarantine["source_line"], read.quarantine["reason"], strict=True))
    assert reasons[3].startswith("dob is not a date")
    assert reasons[4].startswith("citizenship is not one of")
    assert reasons[5].startswith("disposition is not one of")
    assert reasons[6] == "no person_id"
    assert reasons[7].startswith("wrong number of fields: 7")
    assert reasons[10].startswith("offense_date is not a date")
    assert set(read.quarantine["source_file"]) == {str(path)}
    kept = read.counts.to_dicts()
    assert [r["person_id"] for r in kept] == ["P1", "P7"]
    assert kept[1]["name"] == "G, H"
    assert kept[1]["citizenship"] == "lpr"
    assert kept[1]["disposition"] == "convicted"
    assert kept[1]["statute"] == "21 USC 844(a)"
    assert kept[1]["offense_date"] == date(2010, 1, 31)
    assert kept[1]["source_line"] == 9


def test_header_aliases_bom_tabs_and_latin1(tmp_path: Path) -> None:
    text = (
        "\ufeffSubject ID\tName\tDate of Birth\tCitizenship\tDistrict\tDocket Number\tCharge\t"
        "Offense Date\tDisposition\tDisposition Date\tSentence\tDescription\n"
        "X1\tPEÑA, JOSÉ\t01/02/1980\t\tS.D. Cal.\t3:09-cr-1\t21:844\t03/04/2009\tconvicted\t"
        "05/06/2009\t\tpossession of marijuana\n"
    )
    for encoding in ("utf-8", "latin-1"):
        body = text if encoding == "utf-8" else text.lstrip("\ufeff")
        path = _write(tmp_path, body, f"list-{encoding}.tsv", encoding)
        assert is_case_list(path)
        read = read_federal([path])
        row = read.counts.row(0, named=True)
        assert row["name"] == "PEÑA, JOSÉ"
        assert row["dob"] == date(1980, 1, 2)
        assert row["court"] == "S.D. Cal."
        assert row["docket"] == "3:09-cr-1"
        assert row["statute"] == "21 USC 844"
        assert row["substance"] == "marijuana"
        assert row["citizenship"] == "unknown"


def test_disposition_and_citizenship_words_as_exports_write_them(tmp_path: Path) -> None:
    lines = [HEADER]
    spelled = [
        ("U.S. Citizen", "Convicted - plea"),
        ("Lawful Permanent Resident", "Dismissed on motion of the government"),
        ("LPR", "Guilty"),
        ("Unknown", "Pending"),
        ("Undocumented", "Charged by information"),
        ("tourist", "convicted"),
        ("citizen", "sentenced"),
    ]
    for i, (status, disposition) in enumerate(spelled):
        lines.append(
            f"P{i},N,1980-01-01,{status},D. Ariz.,{i},21 USC 844,2010-01-01,{disposition},,"
        )
    read = read_federal([_write(tmp_path, "\n".join(lines) + "\n")])
    assert read.counts.select("citizenship", "disposition").rows() == [
        ("citizen", "convicted"),
        ("lpr", "dismissed"),
        ("lpr", "convicted"),
        ("unknown", "pending"),
        ("unlawfully_present", "charged"),
    ]
    assert [r.split(" is not")[0] for r in read.quarantine["reason"]] == [
        "citizenship",
        "disposition",
    ]


def test_a_csv_without_person_or_statute_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "person_id,name\nP1,A\n")
    with pytest.raises(ReadError, match="lacks statute"):
        read_federal([path])
    with pytest.raises(ReadError, match="no such file"):
        read_federal([tmp_path / "missing.csv"])


@pytest.mark.parametrize(
    ("text", "description", "statute", "attempt", "conspiracy", "object_section"),
    [
        ("21 USC 844", None, "21 USC 844", False, False, None),
        ("21:844", None, "21 USC 844", False, False, None),
        ("21 U.S.C. § 844(a)", None, "21 USC 844(a)", False, False, None),
        ("846/844", "attempted possession", "21 USC 846/844", True, False, "844"),
        ("21 USC 846", "conspiracy to distribute", "21 USC 846/841", False, True, "841"),
        ("21 USC 846 attempt and conspiracy", None, "21 USC 846", False, False, None),
        ("21:846(844)", None, "21 USC 846/844", False, False, "844"),
        ("D.C. Code § 48-904.01(d)(1)", None, "DC 48-904.01(d)(1)", False, False, None),
        ("36 C.F.R. § 2.35(b)(2)", None, "36 CFR 2.35(b)(2)", False, False, None),
        ("43 CFR 8365.1-4(b)(2)", None, "43 CFR 8365.1-4(b)(2)", False, False, None),
        ("41 C.F.R. 102-74.400(a)", None, "41 CFR 102-74.400(a)", False, False, None),
        # The proclamations print D.C. and CFR sections with an en dash.
        ("D.C. Code § 48\u2013904.01(d)(1)", None, "DC 48-904.01(d)(1)", False, False, None),
        ("41 CFR 102\u201374.400(a)", None, "41 CFR 102-74.400(a)", False, False, None),
        ("21 U.S.C. § 846 (attempted possession, 844)", None, "21 USC 846/844", True, False, "844"),
    ],
)
def test_statute_forms(
    text: str,
    description: str | None,
    statute: str,
    attempt: bool,
    conspiracy: bool,
    object_section: str | None,
) -> None:
    parsed = parse_statute(text, description)
    assert parsed.statute == statute
    assert (parsed.attempt, parsed.conspiracy) == (attempt, conspiracy)
    assert parsed.object_section == object_section


def test_state_and_military_codes() -> None:
    assert parse_statute("11357(b) HS-POSSESS MARIJUANA").code == "STATE"
    assert parse_statute("Cal. Health & Safety Code § 11357").code == "STATE"
    assert parse_statute("California Penal Code 182").code == "STATE"
    assert parse_statute("UCMJ Article 112a").code == "UCMJ"
    assert parse_statute("").code is None
    assert parse_statute("21 USC 844", "POSSESSION OF HEROIN").substance == "other"


@pytest.mark.parametrize(
    ("text", "months", "life"),
    [
        ("60 months", 60, False),
        ("5 years", 60, False),
        ("10 years 6 months", 126, False),
        ("24 MONTHS PRISON, 3 YEARS SUPERVISED RELEASE", 24, False),
        ("3 years probation", 0, False),
        ("time served", 0, False),
        ("life", None, True),
        ("", None, False),
        ("see judgment", None, False),
    ],
)
def test_sentence_months(text: str, months: int | None, life: bool) -> None:
    assert sentence_months(text) == (months, life)


def test_rap_sheet_federal_entries_keep_court_docket_and_sentence() -> None:
    read = read_federal([RAPSHEETS / "every-event.txt"])
    assert read.kinds == {str(RAPSHEETS / "every-event.txt"): "rapsheet"}
    rows = read.counts.to_dicts()
    # The arrest of the same cycle is folded into its court event.
    assert len(rows) == 1
    row = rows[0]
    assert row["court"] == "US DISTRICT COURT SOUTHERN DISTRICT OF CALIFORNIA"
    assert row["docket"] == "14CR2001"
    assert row["statute"] == "21 USC 841(a)(1)"
    assert row["disposition"] == "convicted"
    assert row["origin"] == "RAP sheet"
    assert row["sentence_months"] == 24
    assert row["offense_date"] == date(2014, 5, 5)


def test_doj_rows_citing_the_us_code_are_federal_entries(tmp_path: Path) -> None:
    events = [
        Event("11357 HS-POSSESS MARIJUANA", date(2001, 1, 1), level="M"),
        Event(
            "21 USC 844 - POSSESSION OF MARIJUANA",
            date(2005, 3, 3),
            date=date(2005, 6, 1),
            county="UNITED STATES DISTRICT COURT",
            level="M",
        ),
        Event("21 USC 841 POSS W/INT DIST MARIJUANA", date(2006, 3, 3), step="arrest"),
    ]
    path = write_doj(tmp_path / "doj.csv", [rows_for("70000001", date(1970, 1, 1), events)])
    read = read_federal([path])
    assert read.kinds[str(path)] == "doj"
    statutes = read.counts.select("statute", "disposition", "origin").rows()
    assert statutes == [
        ("21 USC 844", "convicted", "DOJ file"),
        ("21 USC 841", "charged", "DOJ file"),
    ]
    assert read.counts.filter(pl.col("statute") == "HS 11357").height == 0
