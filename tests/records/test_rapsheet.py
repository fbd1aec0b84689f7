"""The RAP-sheet reader: every event kind, counts, updates, OCR noise, and the accounting.

The fixtures under rapsheets/ are written by hand from the public layout (formats/rap-sheet.md):
`every-event.txt` holds one of each event kind and count form, `ocr-noise.txt` the scanning
faults a reader must tolerate where one reading is valid and report where none is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.records.places import FEDERAL, place_of
from clearance.records.rapsheet import (
    REASON_NO_HEADER,
    REASON_UNKNOWN_EVENT,
    looks_like_rapsheet,
    parse_rapsheet,
    read_rapsheets,
)
from clearance.records.rapsheet_text import fix_section, read_date, read_sentence

HERE = Path(__file__).parent / "rapsheets"
EVERY = HERE / "every-event.txt"
NOISE = HERE / "ocr-noise.txt"


@pytest.fixture(scope="module")
def every() -> pl.DataFrame:
    return read_rapsheets([EVERY]).counts


def _count(counts: pl.DataFrame, count_id: str) -> dict[str, object]:
    rows = counts.filter(pl.col("count_id") == count_id)
    assert rows.height == 1, count_id
    return rows.row(0, named=True)


def test_personal_block_reads_cii_birth_date_sex_and_first_name() -> None:
    sheet = parse_rapsheet(EVERY.read_text())
    assert sheet.cii == "A12345678"
    assert sheet.dob == date(1970, 3, 15)
    assert sheet.sex == "M"
    assert sheet.names == {"01": "SAMPLE,PAT Q", "02": "SAMPLE,PATRICK", "03": "EXAMPLE,PAT"}
    subjects = read_rapsheets([EVERY]).subjects
    assert subjects.row(0, named=True)["name"] == "SAMPLE,PAT Q"
    assert subjects.row(0, named=True)["deceased"] is True


def test_every_event_is_parsed_or_quarantined_with_its_text() -> None:
    records = read_rapsheets([EVERY])
    stats = records.files[0]
    assert stats.rows_read == stats.rows_loaded + stats.rows_quarantined
    assert (stats.rows_loaded, stats.rows_quarantined) == (17, 2)
    kinds = records.events.group_by("kind").len().sort("kind")
    assert dict(kinds.iter_rows()) == {
        "applicant": 1,
        "arrest": 5,
        "court": 5,
        "custody": 1,
        "deceased": 1,
        "probation": 1,
        "registration": 2,
        "supplemental_arrest": 1,
        "unrecognised": 2,
    }
    quarantine = records.quarantine
    assert quarantine["reason"].to_list() == [
        f"{REASON_UNKNOWN_EVENT}: MENTAL HEALTH",
        f"{REASON_NO_HEADER}: no event header",
    ]
    assert "5150 WI-DANGER TO SELF" in quarantine["raw"][0]
    assert quarantine["raw"][1] == "THIS SECTION CAME THROUGH THE FAX GARBLED"
    assert quarantine["source_line"].to_list() == [157, 162]


def test_step_types_follow_the_doj_vocabulary(every: pl.DataFrame) -> None:
    assert _count(every, "001001001000")["step_type"] == "arrest"
    assert _count(every, "001002001000")["step_type"] == "court"
    assert _count(every, "001003001000")["step_type"] == "probation"
    assert _count(every, "002003001000")["step_type"] == "other"  # supplemental arrest
    assert _count(every, "002004001000")["step_type"] == "custody"
    assert _count(every, "006001001000")["step_type"] == "other"  # applicant
    assert _count(every, "007001001000")["step_type"] == "registration"
    # A registration cycle's later events carry no header: still registrations.
    assert _count(every, "007002001000")["step_type"] == "registration"
    assert _count(every, "008001001000")["step_type"] == "deceased"


def test_court_count_fields(every: pl.DataFrame) -> None:
    count = _count(every, "001002001000")
    assert count["court_case_number"] == "CR95-1234"
    assert count["code_section"] == "HS 11359"
    assert count["level"] == "felony"
    assert count["event_date"] == date(1995, 6, 2)
    # The cycle's date (the arrest) is the offense date.
    assert count["offense_date"] == date(1995, 2, 10)
    assert count["county"] == "ALAMEDA"
    # 36 months of probation and 90 days of jail run together: the longest part ends it.
    assert count["sentence_end"] == date(1998, 6, 2)
    # The second count of the case carries the case number of the first.
    assert _count(every, "001002002000")["court_case_number"] == "CR95-1234"


def test_set_aside_after_the_last_count_concerns_the_case(every: pl.DataFrame) -> None:
    assert _count(every, "001002001000")["disposition"] == "set_aside"
    # A dismissed count stays dismissed: a set-aside applies to convictions.
    assert _count(every, "001002002000")["disposition"] == "dismissed"


def test_count_ranges_become_one_count_each(every: pl.DataFrame) -> None:
    ranged = every.filter(pl.col("count_id").str.starts_with("002002"))
    assert ranged["count_id"].to_list() == [f"002002{n:03d}000" for n in range(1, 7)]
    assert ranged["source_line"].to_list()[:2] == [50, 50]


def test_attempts_in_every_spelling(every: pl.DataFrame) -> None:
    prefixed = _count(every, "002002001000")
    assert (prefixed["section"], prefixed["attempt"]) == ("11360", True)
    suffixed = _count(every, "002002003000")  # 11360(A)/664
    assert (suffixed["code_section"], suffixed["attempt"]) == ("HS 11360(a)", True)
    flagged = _count(every, "002002004000")  # -ATTEMPTED and the charge in a comment
    assert (flagged["code_section"], flagged["attempt"]) == ("HS 11358", True)


def test_combined_sections_and_counts_without_a_section(every: pl.DataFrame) -> None:
    assert _count(every, "002002005000")["code_section"] == "PC 484(a)"
    unreadable = _count(every, "002002006000")
    assert unreadable["offense_parsed"] is False
    assert unreadable["offense_raw"] == "BLA BLA"
    notes = read_rapsheets([EVERY]).notes
    assert "count's offense has no section: 'BLA BLA'" in notes["detail"].to_list()


def test_sentence_modified_replaces_the_sentence_from_its_date(every: pl.DataFrame) -> None:
    assert _count(every, "002002001000")["sentence_end"] == date(2004, 1, 31)


def test_probation_revoked_and_reduction_under_11361_8(every: pl.DataFrame) -> None:
    count = _count(every, "003002001000")
    # Revoked on 2011-05-05 with 16 months of prison: the sentence runs from the revocation.
    assert count["sentence_end"] == date(2012, 9, 5)
    # Redesignated a misdemeanor under HS 11361.8 in 2019: the record says so.
    assert (count["disposition"], count["level"]) == ("convicted", "misdemeanor")


def test_dismissed_and_sealed_under_11361_8_is_no_longer_a_conviction(
    every: pl.DataFrame,
) -> None:
    assert _count(every, "004002001000")["disposition"] == "dismissed"


def test_federal_entries_are_kept_and_marked(every: pl.DataFrame) -> None:
    federal = every.filter(pl.col("county") == FEDERAL)
    assert federal["count_id"].to_list() == ["005001001000", "005002001000"]
    assert federal["court_case_number"].to_list() == [None, "14CR2001"]
    events = read_rapsheets([EVERY]).events.filter(pl.col("federal"))
    assert events["agency"].to_list() == [
        "US BORDER PATROL SAN DIEGO",
        "US DISTRICT COURT SOUTHERN DISTRICT OF CALIFORNIA",
    ]


def test_ocr_noise_is_undone_where_one_reading_is_valid() -> None:
    records = read_rapsheets([NOISE])
    person = records.subjects.row(0, named=True)
    assert person["cii_number"] == "A01234567"
    assert person["dob"] == date(1980, 7, 4)
    court = _count(records.counts, "001002001000")
    assert court["event_date"] == date(2009, 4, 2)  # 2OO9O4O2
    assert court["code_section"] == "HS 11359"  # 113S9
    assert court["county"] == "SAN FRANCISCO"  # SAN PRANCISCU rm
    assert court["disposition"] == "convicted"  # * D I S P O :
    # The page header and page number between CONV STATUS and SEN do not cut the count.
    assert court["sentence_end"] == date(2010, 4, 2)  # 0l2 MONTHS PROBATION, 045 DAYS JAIL
    kinds = records.notes["kind"].to_list()
    assert kinds.count("ocr_corrected") >= 4
    assert kinds.count("place_corrected") == 2


def test_ocr_noise_that_has_no_single_reading_is_reported_not_guessed() -> None:
    records = read_rapsheets([NOISE])
    court = _count(records.counts, "002002001000")
    # 20l0l3l5 reads as month 13: the date stays unknown and the count is still kept.
    assert court["event_date"] is None
    assert court["county"] == "ALAMEDA"
    assert court["code_section"] == "HS 11357(c)"
    details = records.notes.filter(pl.col("kind") == "unreadable")["detail"].to_list()
    assert any("2O1?O315" in d for d in details)
    assert any("20L0L3L5" in d for d in details)
    # Stars broken over four lines still end a cycle: nothing lands in the quarantine.
    assert records.quarantine.height == 0


@pytest.mark.parametrize(
    ("raw", "expected", "corrected"),
    [
        ("20100415", date(2010, 4, 15), False),
        ("2O1OO415", date(2010, 4, 15), True),
        ("l9950602", date(1995, 6, 2), True),
        ("2004.0102", date(2004, 1, 2), False),
        ("20160S09", date(2016, 5, 9), True),
        ("20101315", None, False),
        ("2010041", None, False),
        ("19870000", None, False),
    ],
)
def test_dates(raw: str, expected: date | None, corrected: bool) -> None:
    reading = read_date(raw)
    assert reading.value == expected
    if expected is not None:
        assert reading.corrected is corrected
    else:
        assert reading.doubt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("113S9 HS-POSSESS", "11359 HS-POSSESS"),
        ("1l357(B) HS-POSS", "11357(B) HS-POSS"),
        ("11357B2 HS-POSS MARIJ", "11357B2 HS-POSS MARIJ"),
        ("496,3(A)(2) PC-RECEIVE", "496.3(A)(2) PC-RECEIVE"),
        ("TRAFFIC VIOLATION", "TRAFFIC VIOLATION"),
        ("BLA BLA", "BLA BLA"),
    ],
)
def test_section_look_alikes(text: str, expected: str) -> None:
    assert fix_section(text)[0] == expected


def test_sentence_parts() -> None:
    parts = read_sentence("012 MONTHS PROBATION, 045 DAYS JAIL, FINE, RESTN")
    assert [(p.years, p.months, p.days, p.kind) for p in parts] == [
        (0, 12, 0, "PROBATION"),
        (0, 0, 45, "JAIL"),
        (0, 0, 0, "FINE"),
        (0, 0, 0, "RESTITUTION"),
    ]
    comment = read_sentence("3 YR PROB, 6 MO JL WORK, $971 FINE")  # COM: SEN-X3 YR PROB...
    assert [(p.years, p.months, p.kind) for p in comment] == [
        (3, 0, "PROBATION"),
        (0, 6, "JAIL"),
        (0, 0, "FINE"),
    ]


@pytest.mark.parametrize(
    ("agency", "county"),
    [
        ("CASC SAN FRANCISCO CO", "SAN FRANCISCO"),
        ("CAMC HAYWARD", "ALAMEDA"),
        ("CASC MCSACRAMENTO", "SACRAMENTO"),
        ("CASC SN JOSE", "SANTA CLARA"),
        ("CAMC L05 ANGELES METRO", "LOS ANGELES"),
        ("CASO MARTINEZ", "CONTRA COSTA"),
        ("USDC SAN FRANCISCO", FEDERAL),
        ("DEA LOS ANGELES", FEDERAL),
        ("CASC ANYTOWN USA", None),
    ],
)
def test_agencies_to_counties(agency: str, county: str | None) -> None:
    assert place_of(agency).county == county


def test_detection() -> None:
    assert looks_like_rapsheet(EVERY.read_text())
    assert looks_like_rapsheet(NOISE.read_text())
    assert not looks_like_rapsheet("RECORD_ID,SUBJECT_STATUS,SUBJECT_ID\n1,2,3\n")


def test_a_sheet_without_personal_block_or_cycles_is_read_without_error() -> None:
    sheet = parse_rapsheet("nothing here at all\n")
    assert not sheet.has_personal_block
    assert sheet.events == []
    assert sheet.unrecognised == []


def test_the_same_sheet_given_twice_is_one_person(tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_text(EVERY.read_text())
    records = read_rapsheets([EVERY, copy])
    assert records.subjects.height == 1
    assert records.counts.height == read_rapsheets([EVERY]).counts.height


def test_layout_variants_of_real_sheets() -> None:
    """Headers with the date and agency on the same line, spaced-out headers, a case number on
    the line after the count, the charge in a comment, a sentencing line, a revoked probation."""
    records = read_rapsheets([HERE / "layout-variants.txt"])
    counts = records.counts
    inline = _count(counts, "001002001000")  # COURT: NAM:01 19960718 CASC SAN FRANCISCO CO
    assert (inline["event_date"], inline["county"]) == (date(1996, 7, 18), "SAN FRANCISCO")
    assert inline["disposition"] == "other"  # CLARIFICATION REQUESTED
    assert _count(counts, "002001001000")["step_type"] == "custody"  # . CUSTODY* *:JAIL
    spaced = _count(counts, "003001003000")  # CNT :003. / . #312145, date 20040.102
    assert (spaced["court_case_number"], spaced["event_date"]) == ("312145", date(2004, 1, 2))
    comment = _count(counts, "003002001000")  # SEE COMMENT FOR CHARGE ... CHRG-11359 HS
    assert (comment["code_section"], comment["level"]) == ("HS 11359", "felony")
    assert comment["sentence_end"] == date(2007, 1, 2)  # COM: SEN-X3 YR PROB, 6 MO JL WORK
    assert comment["county"] is None  # NEW COURTHOUSE: no county, and a note says so
    revoked = _count(counts, "004001001000")  # .-1170 (H) PC-SENTENCING; PROBATION REVOKED
    assert revoked["code_section"] == "HS 11359"
    assert revoked["sentence_end"] == date(1997, 10, 28)
    assert records.quarantine.height == 0
    assert records.notes["kind"].to_list() == ["unknown_county"]


def test_headers_spelled_out_and_an_offense_on_the_count_line() -> None:
    text = (
        "NAM/01 WORDS, SPELLED\n* * * *\nARREST/DETAINED/CITED: NAM:01\n20050505 CAPD FRESNO\n"
        "CNT:01 11359 HS-POSSESS MARIJUANA FOR SALE\n- - - -\nCOURT ACTION: NAM:01\n"
        "20050606 CASC FRESNO\nCNT:01 #F05-1\n11359 HS-POSSESS MARIJUANA FOR SALE\n"
        "*DISPO:CONVICTED\n* * * END OF MESSAGE * * *\n"
    )
    sheet = parse_rapsheet(text)
    assert [e.kind for e in sheet.events] == ["arrest", "court"]
    assert sheet.events[0].counts[0].offense == "11359 HS-POSSESS MARIJUANA FOR SALE"
    assert sheet.events[1].county == "FRESNO"


def test_events_before_any_cycle_line_are_still_read() -> None:
    text = (
        "CII/A22222222\nNAM/01 NO, STARS\nCOURT: NAM:01\n20050606 CASC FRESNO\nCNT:01 #F05-1\n"
        "11359 HS-POSSESS MARIJUANA FOR SALE\n*DISPO:CONVICTED\n* * * END OF MESSAGE * * *\n"
        "TRAILING TEXT\n"
    )
    sheet = parse_rapsheet(text)
    assert sheet.cii == "A22222222"
    assert [e.kind for e in sheet.events] == ["court"]
    assert [n.kind for n in sheet.notes] == ["ignored"]


def test_an_update_with_its_date_on_the_disposition_line() -> None:
    text = (
        "NAM/01 ONE, LINE\n* * * * *\nCOURT: NAM:01\n20050606 CASC FRESNO\nCNT:01 #F05-1\n"
        "11359 HS-POSSESS MARIJUANA FOR SALE\n*DISPO:CONVICTED\n"
        "20090101 DISPO:CONV SET ASIDE & DISM PER 1203.4 PC\n* * * END OF MESSAGE * * *\n"
    )
    counts = read_rapsheets_text(text)
    assert counts["disposition"].to_list() == ["set_aside"]


def read_rapsheets_text(text: str) -> pl.DataFrame:
    from clearance.records.rapsheet import to_records

    return to_records(parse_rapsheet(text)).counts


def test_parts_run_together_and_prison_terms_may_be_added() -> None:
    from clearance.records.canonical import SentencePart, consecutive_end, sentence_end

    start = date(2015, 1, 31)
    parts = (SentencePart(3, 0, 0, "PROBATION"), SentencePart(0, 0, 365, "JAIL"))
    # Probation with a year of jail as its condition ends with the probation: 3 years, not 4.
    assert sentence_end(start, parts) == date(2018, 1, 31)
    prison = (SentencePart(0, 16, 0, "PRISON"), SentencePart(0, 8, 0, "PRISON"))
    assert sentence_end(start, prison) == date(2016, 5, 31)
    # Served one after the other (a policy switch), the prison terms add up.
    assert consecutive_end(start, prison, sentence_end(start, prison)) == date(2017, 1, 31)
    assert sentence_end(start, ()) == start
    assert sentence_end(None, parts) is None
