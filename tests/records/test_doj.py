"""Tests of the DOJ bulk-file reader (`clearance.records.doj.read_doj`).

The reader is the only door the DOJ data comes in by, and the county acts on what it lets
through: a row silently dropped is a conviction nobody relieves, a row silently shifted by one
field is a wrong decision about a real person, and an invented date can move a conviction
across 2016-11-09. So every test here pins real values: line numbers, reasons, dates, sentence
lengths, and the row accounting `rows_read == rows_loaded + rows_quarantined`.

Files are written by small helpers in the exact 95-field layout, one defect or variant at a
time; the shared 20k-row sample and the synthetic writer cover the same ground at file scale.
"""

from __future__ import annotations

import calendar
import csv
import functools
import gzip
import io
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.engine import decide
from clearance.policy.loader import load_policy
from clearance.records import chunks, doj
from clearance.records.doj import FileStats, ReadError, Records, read_doj
from clearance.records.schema import (
    COUNTS_SCHEMA,
    DOJ_COLUMNS,
    DOJ_FIELD_COUNT,
    QUARANTINE_SCHEMA,
    REASON_BAD_CNT_ORDER,
    REASON_BAD_DATE,
    REASON_FIELD_COUNT,
    REASON_NO_SUBJECT,
    REASON_UNBALANCED_QUOTES,
    SUBJECTS_SCHEMA,
)
from clearance.synth import write_synthetic

COL = {name: i for i, name in enumerate(DOJ_COLUMNS)}
HEADER = ",".join(DOJ_COLUMNS)
PLACEHOLDER = '"  -  "'

SAMPLE_NAME = "peer-generated-sacramento-20k.dat.gz"
#: The sample bundled with the project (a file another tool generated).
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / SAMPLE_NAME

#: A court conviction for HS 11357(c); every other field holds the placeholder real files use.
COURT: dict[str, str] = {
    "SUBJECT_ID": "10000001",
    "CII_NUMBER": "A12345678",
    "PRI_NAME": "DOE,JOHN A",
    "GENDER": "M",
    "PRI_DOB": "19700102",
    "CYC_DATE": "20100105",
    "STP_EVENT_DATE": "20100301",
    "STP_TYPE_DESCR": "COURT ACTION",
    "STP_ORI_DESCR": "CASC SACRAMENTO",
    "STP_ORI_CNTY_NAME": "SACRAMENTO",
    "CNT_ORDER": "001002001000",
    "OFN": "10F01234",
    "OFFENSE_DESCR": "11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM",
    "OFFENSE_TOC": "M",
    "DISP_DESCR": "CONVICTED",
    "CONV_STAT_DESCR": "MISDEMEANOR",
    "SENT_LENGTH": "",
    "SENT_TIME_CODE": "",
    "CYC_AGE": "40",
    "COMMENT_TEXT": "",
}

#: The arrest step of the same cycle: no disposition, no sentence.
ARREST: dict[str, str] = {
    **COURT,
    "STP_EVENT_DATE": "20100105",
    "STP_TYPE_DESCR": "ARREST/DETAINED/CITED",
    "STP_ORI_DESCR": "CASO SACRAMENTO",
    "CNT_ORDER": "001001001000",
    "OFN": "",
    "DISP_DESCR": "",
    "CONV_STAT_DESCR": "",
}


def quote(value: str) -> str:
    """RFC 4180: quote a field holding a comma or a quote, quotes doubled."""
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def fields(base: dict[str, str] | None = None, **values: str) -> list[str]:
    """The 95 raw (already quoted) fields of a row: `base` over placeholders, then `values`."""
    row = dict.fromkeys(DOJ_COLUMNS, PLACEHOLDER)
    for name, value in {**(COURT if base is None else base), **values}.items():
        row[name] = quote(value)
    out = [row[name] for name in DOJ_COLUMNS]
    assert len(out) == DOJ_FIELD_COUNT
    return out


def line(base: dict[str, str] | None = None, **values: str) -> str:
    """One well-formed 95-field row."""
    return ",".join(fields(base, **values))


def write(
    path: Path,
    lines: Iterable[str],
    header: bool = False,
    eol: str = "\n",
    encoding: str = "utf-8",
    prefix: bytes = b"",
) -> Path:
    """A DOJ file of `lines` (optionally with the header), gzip when the name ends in .gz."""
    text = eol.join([HEADER, *lines] if header else list(lines)) + eol
    data = prefix + text.encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def read_one(path: Path) -> tuple[Records, FileStats]:
    """Read one file and check the accounting every read must satisfy."""
    records = read_doj([path])
    (stats,) = records.files
    assert stats.rows_read == stats.rows_loaded + stats.rows_quarantined
    assert records.quarantine.height == stats.rows_quarantined
    return records, stats


def count(records: Records, subject_id: str, count_id: str) -> dict[str, object]:
    """The one count of a person with that CNT_ORDER, as a dict."""
    rows = records.counts.filter(
        (pl.col("subject_id") == subject_id) & (pl.col("count_id") == count_id)
    )
    assert rows.height == 1, f"{subject_id}/{count_id}: {rows.height} counts"
    return rows.row(0, named=True)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, the day clamped to the end of a shorter month."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------------------------
# Mechanics of the format


def test_rows_without_header_start_at_line_1(tmp_path: Path) -> None:
    """With no header, the first physical line is the first row, numbered 1."""
    path = write(tmp_path / "a.dat", [line(ARREST), line()])
    records, stats = read_one(path)
    assert not stats.header
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined) == (2, 2, 0)
    assert records.counts.sort("source_line")["source_line"].to_list() == [1, 2]
    assert records.counts["source_file"].unique().to_list() == [str(path)]


def test_header_is_line_1_and_not_a_row(tmp_path: Path) -> None:
    """A header is recognised, not counted as a row, and still numbered as line 1."""
    path = write(tmp_path / "a.dat", [line(ARREST), line()], header=True)
    records, stats = read_one(path)
    assert stats.header
    assert stats.rows_read == 2
    assert records.counts.sort("source_line")["source_line"].to_list() == [2, 3]


@pytest.mark.parametrize("with_unbalanced", [False, True], ids=["native", "line-by-line"])
def test_header_and_rows_with_trailing_comma(tmp_path: Path, with_unbalanced: bool) -> None:
    """A trailing comma (96 fields, the last empty, bare or `""`) is accepted and shifts
    nothing, on either path; a 96th field with a value is not a trailing comma."""
    rows = [
        line(ARREST) + ",",
        line(COMMENT_TEXT="SEE DOCKET") + ',""',
        line(CNT_ORDER="001002002000") + ",X",
    ]
    unclosed = ['"UNCLOSED'] if with_unbalanced else []
    path = write(tmp_path / "a.dat", [HEADER + ",", *rows, *unclosed])
    records, stats = read_one(path)
    assert stats.header
    assert (stats.rows_read, stats.rows_loaded) == (3 + len(unclosed), 2)
    court = count(records, "10000001", "001002001000")
    assert court["source_line"] == 3
    assert court["event_date"] == date(2010, 3, 1)
    assert court["section"] == "11357" and court["subsection"] == "(c)"
    assert records.quarantine.sort("source_line").select("source_line", "reason").rows()[0] == (
        4,
        f"{REASON_FIELD_COUNT}: 96 instead of 95",
    )


def test_crlf_line_endings(tmp_path: Path) -> None:
    """CRLF files read like LF files; no CR leaks into values or quarantined text."""
    short = ",".join(fields()[:-1])
    rows = [line(ARREST), line(SENT_LENGTH="30", SENT_TIME_CODE="D") + ",", short]
    # The header's trailing comma says the file's rows may end in one.
    path = write(tmp_path / "a.dat", [HEADER + ",", *rows], eol="\r\n")
    records, stats = read_one(path)
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined) == (3, 2, 1)
    court = count(records, "10000001", "001002001000")
    assert court["sentence_days"] == 30
    assert court["source_line"] == 3
    quarantined = records.quarantine.row(0, named=True)
    assert quarantined["source_line"] == 4
    assert quarantined["raw"] == short
    assert quarantined["reason"] == f"{REASON_FIELD_COUNT}: 94 instead of 95"


def test_quoted_fields_with_commas_and_doubled_quotes(tmp_path: Path) -> None:
    """A quoted comma is inside one field (the name stays whole, later fields do not shift)."""
    path = write(
        tmp_path / "a.dat",
        [line(PRI_NAME="RAMIREZ,RYAN K", COMMENT_TEXT='SAID "NO", LEFT, RETURNED')],
    )
    records, _ = read_one(path)
    subject = records.subjects.row(0, named=True)
    assert subject["name"] == "RAMIREZ,RYAN K"
    assert subject["dob"] == date(1970, 1, 2)
    c = count(records, "10000001", "001002001000")
    assert c["county"] == "SACRAMENTO"
    assert c["court_case_number"] == "10F01234"


def test_padding_and_placeholders_are_empty(tmp_path: Path) -> None:
    """`NULL  `, `"  -  "` and blank mean nothing; padded values are trimmed, never kept padded."""
    row = line(
        SUBJECT_ID=" 10000001 ",
        CII_NUMBER="NULL  ",
        GENDER="  -  ",
        OFN="NULL  ",
        FE_NUM_CRT_CASE="  -  ",
        STP_ORI_CNTY_NAME="  SAN  JOAQUIN ",
        SENT_LENGTH=" 45  ",
        SENT_TIME_DESCR="DAYS      ",
        CYC_AGE="  -  ",
        DISP_DESCR="CONVICTED   ",
        CONV_STAT_DESCR="MISDEMEANOR ",
    )
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    subject = records.subjects.row(0, named=True)
    assert subject["subject_id"] == "10000001"
    assert subject["cii_number"] is None
    assert subject["sex"] is None
    c = count(records, "10000001", "001002001000")
    assert c["court_case_number"] is None
    assert c["county"] == "SAN JOAQUIN"
    assert c["sentence_days"] == 45
    assert c["sentence_end"] == date(2010, 4, 15)
    assert c["cycle_age"] is None
    assert (c["disposition"], c["level"]) == ("convicted", "misdemeanor")


def test_court_case_number_falls_back_to_fe_num_crt_case(tmp_path: Path) -> None:
    """When OFN is empty the case number comes from FE_NUM_CRT_CASE."""
    row = line(OFN="NULL  ", FE_NUM_CRT_CASE="12 140189-B")
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    assert count(records, "10000001", "001002001000")["court_case_number"] == "12 140189-B"


def test_latin1_file(tmp_path: Path) -> None:
    """A file that is not UTF-8 is read as Latin-1: names keep their accents, and it is said."""
    rows = [line(PRI_NAME="PEÑA,JOSÉ"), line(ARREST, SUBJECT_ID="10000002", PRI_NAME="MUÑOZ,ANA")]
    short = ",".join(fields(PRI_NAME="NÚÑEZ,LUZ", SUBJECT_ID="10000003")[:-1])
    path = write(tmp_path / "a.dat", [*rows, short], header=True, encoding="latin-1")
    records, stats = read_one(path)
    assert stats.encoding == "latin-1"
    names = dict(records.subjects.select("subject_id", "name").iter_rows())
    assert names == {"10000001": "PEÑA,JOSÉ", "10000002": "MUÑOZ,ANA"}
    assert records.quarantine["raw"].to_list() == [short]


def test_utf8_file_with_accents(tmp_path: Path) -> None:
    """A UTF-8 file is not mistaken for Latin-1 (no `PEÃ\x91A`)."""
    path = write(tmp_path / "a.dat", [line(PRI_NAME="PEÑA,JOSÉ")])
    records, stats = read_one(path)
    assert stats.encoding == "utf-8"
    assert records.subjects["name"].to_list() == ["PEÑA,JOSÉ"]


def test_utf8_file_with_a_broken_quote_stays_utf8(tmp_path: Path) -> None:
    """A malformed row makes the CSV parser fail; that is not a reason to decode as Latin-1."""
    broken = line(SUBJECT_ID="10000002").replace('"  -  "', '"  - ', 1)
    rows = [line(PRI_NAME="PEÑA,JOSÉ"), broken, line(ARREST)]
    records, stats = read_one(write(tmp_path / "a.dat", rows))
    assert stats.encoding == "utf-8"
    assert records.subjects["name"].to_list() == ["PEÑA,JOSÉ"]
    assert records.quarantine.select("source_line", "reason").rows() == [
        (2, REASON_UNBALANCED_QUOTES)
    ]


def test_gzip_file_reads_like_the_plain_file(tmp_path: Path) -> None:
    """A .gz is read directly, with the same tables, and its size is the size on disk."""
    rows = [line(ARREST), line(), ",".join(fields()[:-2])]
    plain, _ = read_one(write(tmp_path / "a.dat", rows, header=True))
    gz_path = write(tmp_path / "a.dat.gz", rows, header=True)
    packed, stats = read_one(gz_path)
    assert stats.bytes == gz_path.stat().st_size
    assert stats.header and (stats.rows_loaded, stats.rows_quarantined) == (2, 1)
    assert packed.counts.drop("source_file").equals(plain.counts.drop("source_file"))
    assert packed.quarantine.drop("source_file").equals(plain.quarantine.drop("source_file"))


def test_gzip_without_gz_name_is_detected_by_its_bytes(tmp_path: Path) -> None:
    """A compressed file renamed `.dat` is still read (the magic bytes decide, not the name)."""
    path = tmp_path / "a.dat"
    path.write_bytes(gzip.compress((line() + "\n").encode(), mtime=0))
    records, stats = read_one(path)
    assert stats.rows_loaded == 1
    assert records.counts["section"].to_list() == ["11357"]


@pytest.mark.parametrize("header", [True, False])
def test_utf8_bom(tmp_path: Path, header: bool) -> None:
    """A UTF-8 byte order mark hides neither the header nor the first row."""
    path = write(tmp_path / "a.dat", [line()], header=header, prefix=b"\xef\xbb\xbf")
    records, stats = read_one(path)
    assert stats.header is header
    assert (stats.rows_read, stats.rows_loaded) == (1, 1)
    assert records.counts["source_line"].to_list() == [2 if header else 1]


def test_progress_reports_every_byte_on_disk(tmp_path: Path) -> None:
    """The progress callback adds up to the bytes on disk, for a bar over several files."""
    a = write(tmp_path / "a.dat.gz", [line()] * 50, header=True)
    b = write(tmp_path / "b.dat", [line(SUBJECT_ID="2")] * 20)
    seen: list[int] = []
    read_doj([a, b], progress=seen.append)
    assert sum(seen) == doj.total_bytes([a, b]) == a.stat().st_size + b.stat().st_size


# --------------------------------------------------------------------------------------------
# People and counts


def test_people_merged_across_files(tmp_path: Path) -> None:
    """One person in two files is one subject; a count in both files is counted once."""
    first = write(
        tmp_path / "first.dat",
        [
            line(ARREST, PRI_DOB=""),
            line(PRI_DOB="", SENT_LENGTH="10", SENT_TIME_CODE="D"),
            line(PRI_DOB="", CNT_ORDER="001002002000",
                 OFFENSE_DESCR="11359 HS-POSSESS MARIJUANA FOR SALE"),
        ],
    )  # fmt: skip
    second = write(
        tmp_path / "second.dat",
        [
            line(CII_NUMBER="", PRI_NAME="DOE,J", SENT_LENGTH="99", SENT_TIME_CODE="D"),
            line(CNT_ORDER="002002001000", STP_EVENT_DATE="20150601"),
            line(SUBJECT_ID="10000002", PRI_NAME="ROE,RITA", GENDER="F"),
        ],
        header=True,
    )
    records = read_doj([first, second])
    assert records.subjects.height == 2
    person = records.subjects.filter(pl.col("subject_id") == "10000001").row(0, named=True)
    assert person["name"] == "DOE,JOHN A"
    assert person["cii_number"] == "A12345678"
    assert person["dob"] == date(1970, 1, 2)
    ids = records.counts.filter(pl.col("subject_id") == "10000001")["count_id"].sort().to_list()
    assert ids == ["001001001000", "001002001000", "001002002000", "002002001000"]
    assert records.merged_duplicate_counts == 1
    shared = count(records, "10000001", "001002001000")
    assert shared["source_file"] == str(first)
    # Its sentence parts in the two files are one sentence: the longer part (99 days) ends it;
    # its lines are listed in its own (first) file.
    assert (shared["source_line"], shared["source_rows"], shared["sentence_days"]) == (2, 2, 99)
    assert shared["source_lines"] == [2]
    assert count(records, "10000001", "002002001000")["source_file"] == str(second)
    assert count(records, "10000002", "001002001000")["source_line"] == 4
    assert [f.rows_read for f in records.files] == [3, 3]
    assert records.rows_read == records.rows_loaded + records.rows_quarantined == 6


def test_same_file_given_twice_is_not_doubled(tmp_path: Path) -> None:
    """Naming one file twice must not double its sentence parts or its counts."""
    path = write(
        tmp_path / "a.dat",
        [line(SENT_LENGTH="10", SENT_TIME_CODE="D"), line(SENT_LENGTH="5", SENT_TIME_CODE="D")],
    )
    records = read_doj([path, path])
    c = count(records, "10000001", "001002001000")
    assert (c["sentence_days"], c["source_rows"], c["source_lines"]) == (10, 2, [1, 2])
    assert records.rows_read == records.rows_loaded + records.rows_quarantined


def test_sentence_parts_are_one_count(tmp_path: Path) -> None:
    """Repeated CNT_ORDER rows are parts of one sentence; the parts run together, so the
    sentence ends when its longest part ends (years and months on the calendar, then days, from
    the step date); the count remembers every line it was read from."""
    parts = [("1", "Y"), ("2", "M"), ("10", "D")]
    rows = [
        line(ARREST),
        *[line(STP_EVENT_DATE="20190131", SENT_LENGTH=n, SENT_TIME_CODE=u) for n, u in parts],
        line(CNT_ORDER="001002002000", STP_EVENT_DATE="20190131", SENT_LENGTH="1",
             SENT_TIME_DESCR="MONTHS    "),
        line(CNT_ORDER="001002003000", STP_EVENT_DATE="20190131", SENT_LENGTH="36",
             SENT_TIME_CODE="M"),
    ]  # fmt: skip
    path = write(tmp_path / "a.dat", [*rows[:2], "", *rows[2:]], header=True)
    records, stats = read_one(path)
    assert (stats.rows_read, stats.blank_lines) == (6, 1)
    event = date(2019, 1, 31)

    folded = count(records, "10000001", "001002001000")
    end = add_months(event, 12)
    assert end == date(2020, 1, 31)
    assert folded["sentence_end"] == end
    assert folded["sentence_days"] == (end - event).days
    assert folded["source_rows"] == 3
    assert folded["source_line"] == 3
    assert folded["source_lines"] == [3, 5, 6]

    month = count(records, "10000001", "001002002000")
    assert month["sentence_end"] == date(2019, 2, 28)
    assert month["sentence_days"] == 28
    years = count(records, "10000001", "001002003000")
    assert years["sentence_end"] == date(2022, 1, 31)
    assert years["sentence_days"] == 1096

    arrest = count(records, "10000001", "001001001000")
    assert (arrest["sentence_days"], arrest["source_rows"]) == (0, 1)
    assert (arrest["cycle_id"], arrest["event_id"]) == ("001", "001001")
    assert records.counts.height == 4


def test_sentence_of_an_undated_step_stays_unknown(tmp_path: Path) -> None:
    """No step date, no sentence end: the end is never computed from an invented start."""
    row = line(STP_EVENT_DATE="20100000", SENT_LENGTH="2", SENT_TIME_CODE="Y")
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    c = count(records, "10000001", "001002001000")
    assert (c["event_date"], c["sentence_end"], c["sentence_days"]) == (None, None, None)


def test_tables_have_the_canonical_schemas(tmp_path: Path) -> None:
    """Subjects, counts and quarantine carry exactly the contract's columns and types."""
    records, _ = read_one(write(tmp_path / "a.dat", [line(), "x,y"] + [line(ARREST)] * 3))
    assert records.subjects.schema == pl.Schema(SUBJECTS_SCHEMA)
    assert records.counts.schema == pl.Schema(COUNTS_SCHEMA)
    assert records.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)


# --------------------------------------------------------------------------------------------
# Offense, disposition, level, status


def test_offense_of_conviction_is_preferred(tmp_path: Path) -> None:
    """A plea to a lesser charge: the count is the offense of conviction, at its own level."""
    row = line(
        OFFENSE_DESCR="11359 HS-POSSESS MARIJUANA FOR SALE",
        OFFENSE_TOC="F",
        CONV_OFFENSE_DESCR="11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM",
        CONV_OFFENSE_TOC="M",
        CONV_STAT_DESCR="",
    )
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    c = count(records, "10000001", "001002001000")
    assert c["offense_raw"] == "11357(C) HS-POSS MARIJUANA OVER 1 OZ/28.5 GRAM"
    assert (c["code"], c["section"], c["subsection"]) == ("HS", "11357", "(c)")
    assert c["level"] == "misdemeanor"


def test_offense_at_disposition_when_no_offense_of_conviction(tmp_path: Path) -> None:
    """DISP_OFFENSE_DESCR stands in when there is no offense of conviction."""
    row = line(OFFENSE_DESCR="11360(A) HS-SELL/TRANSPORT/ETC MARIJUANA",
               DISP_OFFENSE_DESCR="11358 HS-CULTIVATE MARIJUANA")  # fmt: skip
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    assert count(records, "10000001", "001002001000")["section"] == "11358"


@pytest.mark.parametrize(
    "offense", ["", "  -  ", "SEE COMMENT FOR CHARGE", "see comment for charge"]
)
def test_charge_read_from_comment(tmp_path: Path, offense: str) -> None:
    """When the offense column is blank or points to the comment, the comment is the charge."""
    row = line(OFFENSE_DESCR=offense, COMMENT_TEXT="11359 HS-POSSESS MARIJUANA FOR SALE")
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    c = count(records, "10000001", "001002001000")
    assert c["offense_raw"] == "11359 HS-POSSESS MARIJUANA FOR SALE"
    assert (c["code"], c["section"]) == ("HS", "11359")


def test_comment_ignored_when_the_offense_is_given(tmp_path: Path) -> None:
    """A comment never overrides an offense that is there."""
    row = line(COMMENT_TEXT="11359 HS-POSSESS MARIJUANA FOR SALE")
    records, _ = read_one(write(tmp_path / "a.dat", [row]))
    assert count(records, "10000001", "001002001000")["section"] == "11357"


DISPOSITIONS = [
    ("CONVICTED", "convicted"),
    ("CONVICTED-PROBATION", "convicted"),
    ("CONVICTED-JAIL", "convicted"),
    ("CONVICTED-PRISON", "convicted"),
    ("convicted", "convicted"),
    ("DISMISSED", "dismissed"),
    ("DISMISSED/CHARGE DROPPED", "dismissed"),
    ("ACQUITTED", "acquitted"),
    ("CONV SET ASIDE & DISM PER 1203.4 PC", "set_aside"),
    ("REL/TOT OTHER JURIS/AUTH", "other"),
    ("PROS REJ-INSUFFICIENT EVIDENCE", "other"),
]


def test_dispositions_normalised(tmp_path: Path) -> None:
    """Each DOJ disposition text maps to one of five values; an arrest row has none."""
    rows = [line(ARREST)] + [
        line(CNT_ORDER=f"001002{i:03d}000", DISP_DESCR=text)
        for i, (text, _) in enumerate(DISPOSITIONS, start=1)
    ]
    records, _ = read_one(write(tmp_path / "a.dat", rows))
    got = dict(records.counts.select("count_id", "disposition").iter_rows())
    assert got.pop("001001001000") is None
    expected = {f"001002{i:03d}000": d for i, (_, d) in enumerate(DISPOSITIONS, start=1)}
    assert got == expected


LEVELS = [
    ("FELONY", "M", "felony"),
    ("MISDEMEANOR", "F", "misdemeanor"),
    ("INFRACTION", "M", "infraction"),
    ("", "F", "felony"),
    ("", "M", "misdemeanor"),
    ("", "I", "infraction"),
    ("  -  ", "m", "misdemeanor"),
    ("", "", "unknown"),
]


def test_level_from_conviction_status_else_type_of_charge(tmp_path: Path) -> None:
    """CONV_STAT_DESCR decides the level; when blank, the offense's OFFENSE_TOC does."""
    rows = [
        line(CNT_ORDER=f"001002{i:03d}000", CONV_STAT_DESCR=stat, OFFENSE_TOC=toc)
        for i, (stat, toc, _) in enumerate(LEVELS, start=1)
    ]
    records, _ = read_one(write(tmp_path / "a.dat", rows))
    got = dict(records.counts.select("count_id", "level").iter_rows())
    assert got == {f"001002{i:03d}000": lvl for i, (_, _, lvl) in enumerate(LEVELS, start=1)}


def test_step_types(tmp_path: Path) -> None:
    """Step descriptions map to the normalised step types (`COURT` and `COURT ACTION` alike)."""
    steps = ["ARREST/DETAINED/CITED", "COURT ACTION", "COURT", "PROBATION", "CUSTODY",
             "SUPPLEMENTAL ARR", "REGISTRATION", "DECEASED"]  # fmt: skip
    rows = [line(CNT_ORDER=f"001{i:03d}001000", STP_TYPE_DESCR=s) for i, s in enumerate(steps, 1)]
    records, _ = read_one(write(tmp_path / "a.dat", rows))
    got = records.counts.sort("count_id")["step_type"].to_list()
    assert got == ["arrest", "court", "court", "probation", "custody", "other",
                   "registration", "deceased"]  # fmt: skip


def test_deceased_and_pc290_registrant_flags(tmp_path: Path) -> None:
    """A DECEASED step marks the person deceased; only a REGISTRATION step for PC 290 makes a
    sex-offender registrant (a narcotics registration or a 290 conviction does not)."""
    registration = {"STP_TYPE_DESCR": "REGISTRATION", "DISP_DESCR": "", "CNT_ORDER": "002001001000"}
    rows = [
        line(SUBJECT_ID="1"),
        line(SUBJECT_ID="1", STP_TYPE_DESCR="DECEASED", CNT_ORDER="003001001000",
             OFFENSE_DESCR="", DISP_DESCR=""),
        line(SUBJECT_ID="2"),
        line(SUBJECT_ID="2", **registration, OFFENSE_DESCR="290 PC-REGISTRATION OF SEX OFFENDER"),
        line(SUBJECT_ID="3", **registration, OFFENSE_DESCR="290(A) PC-REGISTRATION:SEX OFFENDER"),
        line(SUBJECT_ID="4", **registration,
             OFFENSE_DESCR="11590 HS-REGISTRATION OF CNTL SUBST OFFENDER"),
        line(SUBJECT_ID="5", OFFENSE_DESCR="290(B) PC-FAIL TO REGISTER"),
    ]  # fmt: skip
    records, _ = read_one(write(tmp_path / "a.dat", rows))
    flags = {
        sid: (dead, reg)
        for sid, dead, reg in records.subjects.select(
            "subject_id", "deceased", "pc290_registrant"
        ).iter_rows()
    }
    assert flags == {
        "1": (True, False),
        "2": (False, True),
        "3": (False, True),
        "4": (False, False),
        "5": (False, False),
    }


# --------------------------------------------------------------------------------------------
# Quarantine


def _no_slow_path(*args: object, **kwargs: object) -> None:
    raise AssertionError("well-quoted rows should not need the line-by-line path")


def bad_rows() -> list[tuple[str, str]]:
    """(raw line, expected reason) for every defect a row can be set aside for."""
    row = fields()
    return [
        (",".join(row[:-1]), f"{REASON_FIELD_COUNT}: 94 instead of 95"),
        (",".join(row[:40]), f"{REASON_FIELD_COUNT}: 40 instead of 95"),
        (",".join([*row, "X"]), f"{REASON_FIELD_COUNT}: 96 instead of 95"),
        (",".join([*row, "", ""]), f"{REASON_FIELD_COUNT}: 97 instead of 95"),
        (
            line(PRI_NAME="").replace(",,", ",DOE,JOHN,", 1),
            f"{REASON_FIELD_COUNT}: 96 instead of 95",
        ),
        ("LONE FIELD", f"{REASON_FIELD_COUNT}: 1 instead of 95"),
        ('""', f"{REASON_FIELD_COUNT}: 1 instead of 95"),
        (line(SUBJECT_ID=""), REASON_NO_SUBJECT),
        (line(SUBJECT_ID="  -  "), REASON_NO_SUBJECT),
        (line(SUBJECT_ID="NULL  "), REASON_NO_SUBJECT),
        (line(CNT_ORDER=""), REASON_BAD_CNT_ORDER),
        (line(CNT_ORDER="00100200100"), REASON_BAD_CNT_ORDER),
        (line(CNT_ORDER="0010020010000"), REASON_BAD_CNT_ORDER),
        (line(CNT_ORDER="00100200A000"), REASON_BAD_CNT_ORDER),
        (line(CNT_ORDER="001-002-001-000"), REASON_BAD_CNT_ORDER),
        (line(STP_EVENT_DATE="2O190101"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="20191345"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="20190231"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="20190132"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="2019011"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="2019 101"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="201901011"), REASON_BAD_DATE),
        (line(STP_EVENT_DATE="2019-01-01"), REASON_BAD_DATE),
    ]


#: Quoting no CSV reader agrees on: an unclosed quote, a stray one, text after a closing one.
UNBALANCED = [
    line().replace('"DOE,JOHN A"', '"DOE,JOHN A', 1),
    line().replace('"DOE,JOHN A"', '"DOE"JR,JOHN A"', 1),
    line().replace('"DOE,JOHN A"', '"DOE,JOHN"A', 1),
]


@pytest.mark.parametrize("with_unbalanced", [False, True], ids=["native", "line-by-line"])
def test_quarantine_reasons_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_unbalanced: bool
) -> None:
    """Every defect is set aside with its file, its physical line and the reason; the good
    rows around them load. Without bad quoting the native parser must answer alone; with it,
    the same answers must come from the line-by-line path."""
    if not with_unbalanced:
        monkeypatch.setattr(doj, "_slow_chunk", _no_slow_path, raising=False)
    cases = bad_rows() + (
        [(u, REASON_UNBALANCED_QUOTES) for u in UNBALANCED] if with_unbalanced else []
    )
    good = [line(ARREST), line()]
    lines = [good[0], *[raw for raw, _ in cases], good[1]]
    path = write(tmp_path / "bad.dat", lines, header=True)
    records, stats = read_one(path)
    assert stats.rows_read == len(lines)
    assert stats.rows_loaded == 2
    assert stats.rows_quarantined == len(cases)
    q = records.quarantine.sort("source_line")
    assert q["source_file"].unique().to_list() == [str(path)]
    expected = [(i, reason, raw) for i, (raw, reason) in enumerate(cases, start=3)]
    assert q.select("source_line", "reason", "raw").rows() == expected
    assert records.counts.sort("source_line")["source_line"].to_list() == [2, len(lines) + 1]


@pytest.mark.parametrize(
    ("value", "quarantined"),
    [
        ("", False),
        ("  -  ", False),
        ("00000000", False),
        ("19980000", False),
        ("19980500", False),
        ("20200229", False),
        ("00001231", False),
        ("20190229", True),
        ("20191300", True),
    ],
)
def test_unknown_step_dates_are_kept_undated(tmp_path: Path, value: str, quarantined: bool) -> None:
    """Unknown date markers (zeros for the unknown year, month or day) keep the row with a null
    date, never an invented day; a date that is present but impossible is set aside."""
    records, stats = read_one(write(tmp_path / "a.dat", [line(STP_EVENT_DATE=value)]))
    assert stats.rows_quarantined == int(quarantined)
    if quarantined:
        assert records.quarantine["reason"].to_list() == [REASON_BAD_DATE]
    else:
        c = count(records, "10000001", "001002001000")
        expected = date(2020, 2, 29) if value == "20200229" else None
        assert c["event_date"] == expected


def test_unknown_birth_and_cycle_dates_are_null_garbled_ones_set_aside(tmp_path: Path) -> None:
    """Birth and cycle dates marked unknown become null and keep the row; garbled ones are set
    aside (as "unknown" they would silently change an age or the offense date)."""
    rows = [
        line(PRI_DOB="19700000", CYC_DATE="20100000"),
        line(CNT_ORDER="001002002000", CYC_DATE="2O100105"),
        line(CNT_ORDER="001002003000", PRI_DOB="19701302"),
    ]
    records, stats = read_one(write(tmp_path / "a.dat", rows))
    assert (stats.rows_loaded, stats.rows_quarantined) == (1, 2)
    assert records.subjects["dob"].to_list() == [None]
    assert count(records, "10000001", "001002001000")["offense_date"] is None
    assert records.quarantine.select("source_line", "reason").rows() == [
        (2, "unparseable CYC_DATE"),
        (3, "unparseable PRI_DOB"),
    ]


def test_blank_lines_are_counted_apart(tmp_path: Path) -> None:
    """Blank and whitespace-only lines are not rows, but still take their line numbers."""
    lines = ["", line(ARREST), "   ", "\t", line(), "", ""]
    records, stats = read_one(write(tmp_path / "a.dat", lines, header=True))
    assert (stats.rows_read, stats.rows_loaded, stats.blank_lines) == (2, 2, 5)
    assert records.counts.sort("source_line")["source_line"].to_list() == [3, 6]


def test_accounting_per_file_and_in_total(tmp_path: Path) -> None:
    """rows_read = loaded + quarantined holds for each file and for the sum."""
    a = write(tmp_path / "a.dat", [line(), line(CNT_ORDER="1"), ""], header=True)
    b = write(tmp_path / "b.dat.gz", [line(SUBJECT_ID="2"), "x", "y", line(SUBJECT_ID="")])
    records = read_doj([a, b])
    per_file = [
        (f.rows_read, f.rows_loaded, f.rows_quarantined, f.blank_lines) for f in records.files
    ]
    assert per_file == [(2, 1, 1, 1), (4, 1, 3, 0)]
    assert (records.rows_read, records.rows_loaded, records.rows_quarantined) == (6, 2, 4)
    assert records.quarantine.height == 4


def test_small_chunks_give_the_same_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries change nothing: line numbers, quarantine and counts are the same when
    a file is read in many small chunks (some of them on the line-by-line path)."""
    path = tmp_path / "s.dat"
    write_synthetic(path, 1500, seed=5, malformed_share=0.02, encoding="latin-1")
    with path.open("ab") as f:  # an unclosed quote near the end sends that chunk line by line
        f.write((UNBALANCED[0] + "\n" + line(SUBJECT_ID="99999999") + "\n").encode())
    whole = read_doj([path])
    monkeypatch.setattr(doj, "iter_chunks", functools.partial(chunks.iter_chunks, size=16_384))
    pieces = read_doj([path])
    assert pieces.files == whole.files
    in_order = ["source_file", "source_line"]
    assert pieces.quarantine.sort(in_order).equals(whole.quarantine.sort(in_order))
    assert pieces.counts.equals(whole.counts)
    assert pieces.subjects.equals(whole.subjects)
    assert whole.files[0].encoding == "latin-1"
    last = whole.quarantine.sort("source_line").row(-1, named=True)
    assert last["reason"] == REASON_UNBALANCED_QUOTES


# --------------------------------------------------------------------------------------------
# Files that are not DOJ bulk files


def _gz_truncated(path: Path) -> None:
    data = gzip.compress(("\n".join([HEADER, *[line()] * 200]) + "\n").encode(), mtime=0)
    path.write_bytes(data[: len(data) // 2])


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("inner.dat", line() + "\n")


SECRET_NAME, SECRET_DOB = "SMITH,JANE Q", "19800214"

NOT_DOJ = {
    "missing": lambda p: None,
    "folder": lambda p: p.mkdir(),
    "pdf": lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
    "zip": _zip,
    "binary": lambda p: p.write_bytes(bytes(range(256)) * 8),
    "empty": lambda p: p.write_bytes(b""),
    "empty-gz": lambda p: p.write_bytes(gzip.compress(b"")),
    "ten-columns": lambda p: p.write_text(
        "ID,NAME,DOB,A,B,C,D,E,F,G\n" + f'1,"{SECRET_NAME}",{SECRET_DOB},a,b,c,d,e,f,g\n' * 5
    ),
    "ten-columns-no-header": lambda p: p.write_text(
        f'1,"{SECRET_NAME}",{SECRET_DOB},a,b,c,d,e,f,g\n' * 5
    ),
    "truncated-gz": _gz_truncated,
}


@pytest.mark.parametrize("kind", NOT_DOJ)
def test_unreadable_files_stop_with_one_line_naming_the_file(tmp_path: Path, kind: str) -> None:
    """A file that is not this format stops the read with one line that names the file and
    quotes nothing from it."""
    path = tmp_path / f"input-{kind}.dat"
    NOT_DOJ[kind](path)
    good = write(tmp_path / "good.dat", [line()])
    with pytest.raises(ReadError) as caught:
        read_doj([good, path])
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    assert SECRET_NAME not in message and "SMITH" not in message
    assert SECRET_DOB not in message


def test_ten_column_message_says_what_it_found(tmp_path: Path) -> None:
    """The message of a wrong table names the number of fields found and expected."""
    path = tmp_path / "other.csv"
    NOT_DOJ["ten-columns"](path)
    with pytest.raises(ReadError, match=r"10 fields.*95"):
        read_doj([path])


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    """A delivery with a header and no rows is read as empty, not refused."""
    records, stats = read_one(write(tmp_path / "a.dat", [], header=True))
    assert stats.header and stats.rows_read == 0
    assert records.subjects.height == records.counts.height == 0


# --------------------------------------------------------------------------------------------
# The shared sample and synthetic files


@pytest.fixture(scope="module")
def sample() -> Records:
    """The shared 20k-row sample, read once."""
    path = SAMPLE
    return read_doj([path])


def test_sample_every_row_accounted_for(sample: Records) -> None:
    """All 20,179 rows are read, from 216 people; nothing is blank. 42 lines repeat the line
    before them byte for byte (a sentence part written twice): they are set aside as duplicates,
    not read as one more part."""
    (stats,) = sample.files
    assert stats.header
    assert stats.encoding == "utf-8"
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined) == (20_179, 20_137, 42)
    reasons = sample.quarantine.select(
        pl.col("reason").str.extract(r"^(.*) line (\d+)$", 1).alias("why"),
        pl.col("reason").str.extract(r"(\d+)$", 1).cast(pl.Int64).alias("first"),
        "source_line",
    )
    assert reasons["why"].unique().to_list() == ["exact duplicate of"]
    assert (reasons["source_line"] > reasons["first"]).all()
    assert stats.blank_lines == 0
    assert sample.subjects.height == 216
    assert sample.counts.height == 18_660
    assert sample.counts["source_rows"].sum() == 20_137
    assert sample.merged_duplicate_counts == 0


def test_sample_spot_checks(sample: Records) -> None:
    """Known rows of the sample (read with zcat) come out with their values."""
    first = sample.subjects.filter(pl.col("subject_id") == "10000001").row(0, named=True)
    assert first == {
        "subject_id": "10000001",
        "cii_number": "3855663659",
        "name": "MITCHELL,SCOTT K",
        "dob": date(1975, 8, 20),
        "sex": None,
        "deceased": False,
        "pc290_registrant": False,
    }
    # Lines 7-9: one HS 11359 count sentenced in three parts, 88 days, 38 days and 10 years,
    # running together: the 10 years end it.
    c = count(sample, "10000001", "101002003000")
    assert (c["source_line"], c["source_rows"], c["source_lines"]) == (7, 3, [7, 8, 9])
    assert c["event_date"] == date(1977, 10, 24)
    assert c["offense_date"] == date(1977, 9, 24)
    assert c["sentence_end"] == date(1987, 10, 24)
    assert c["sentence_days"] == (date(1987, 10, 24) - date(1977, 10, 24)).days
    assert (c["code"], c["section"], c["subsection"]) == ("HS", "11359", None)
    assert (c["disposition"], c["level"], c["step_type"]) == ("convicted", "felony", "court")
    assert c["county"] == "SACRAMENTO"
    # Lines 15-17: 3 years, 14 months and 12 days from 1978-10-15: the 3 years end it.
    assert count(sample, "10000001", "102002003000")["sentence_end"] == date(1981, 10, 15)
    # Line 2: the arrest for HS 11357(a), a misdemeanor by its conviction status.
    a = count(sample, "10000001", "101001001000")
    assert (a["source_line"], a["step_type"], a["disposition"]) == (2, "arrest", None)
    assert (a["section"], a["subsection"], a["level"]) == ("11357", "(a)", "misdemeanor")
    assert a["court_case_number"] is None
    # Line 59: a dismissed count in another county, with its case number.
    d = count(sample, "10000001", "110002001000")
    assert (d["source_line"], d["county"], d["court_case_number"]) == (59, "NARNIA", "75715581")
    assert (d["disposition"], d["section"], d["subsection"]) == ("dismissed", "602", "(l)")
    # The last line of the file.
    last = count(sample, "10000216", "140002003000")
    assert (last["source_line"], last["event_date"]) == (20_180, date(2024, 6, 30))
    name = sample.subjects.filter(pl.col("subject_id") == "10000216")["name"].item()
    assert name == "SCOTT,AYDEN Q"


@pytest.mark.parametrize(
    ("name", "encoding", "crlf"),
    [("plain.dat", "utf-8", False), ("latin1-crlf.dat.gz", "latin-1", True)],
)
def test_synthetic_files_quarantine_exactly_the_planted_defects(
    tmp_path: Path, name: str, encoding: str, crlf: bool
) -> None:
    """Every row the generator broke on purpose, and no other, is set aside."""
    path = tmp_path / name
    stats = write_synthetic(
        path, rows=20_000, malformed_share=0.01, seed=3, encoding=encoding, crlf=crlf
    )
    records, file_stats = read_one(path)
    assert stats.malformed_rows == 200
    assert file_stats.rows_read == 20_000
    assert file_stats.rows_quarantined == stats.malformed_rows
    assert file_stats.rows_loaded == 20_000 - stats.malformed_rows
    assert file_stats.header
    assert records.subjects.height <= stats.people
    reasons = records.quarantine["reason"].str.extract(r"^([^:]+)", 1).unique().sort().to_list()
    assert reasons == sorted(
        [REASON_BAD_CNT_ORDER, REASON_BAD_DATE, REASON_FIELD_COUNT, REASON_NO_SUBJECT]
    )
    if encoding == "latin-1":
        assert file_stats.encoding == "latin-1"
        names = records.subjects["name"].drop_nulls()
        assert names.str.contains("Ñ").any()
        assert not names.str.contains("Ã").any()
        assert not records.quarantine["raw"].str.contains("\r").any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_keys_are_those_a_hash_table_finds(seed: int) -> None:
    """The merge finds sentence parts by sorting their keys: the same rows as counting them."""
    keys = pl.Series("k", [1, 7, 3, 7, 7, 2, 3, 9, 0, 2**64 - 1, 2**64 - 1], dtype=pl.UInt64)
    keys = keys.sample(fraction=1.0, shuffle=True, seed=seed)
    assert doj._is_repeated(keys).to_list() == keys.is_duplicated().to_list()
    assert not doj._is_repeated(keys.unique()).any()
    assert doj._is_repeated(keys.clear()).len() == 0


# --------------------------------------------------------------------------------------------
# When a sentence ends (prop64.md section 2): its parts run together, the longest ends it;
# parole, PRCS and mandatory supervision follow the custody; prison terms added up only under
# the policy switch `judgment.consecutive_prison_terms`.

START = "20220101"
#: A felony HS 11359 conviction (reduced under the statute, so it has a remedy).
FELONY = {
    "OFFENSE_DESCR": "11359 HS-POSSESS MARIJUANA FOR SALE",
    "OFFENSE_TOC": "F",
    "CONV_STAT_DESCR": "FELONY",
}
EVENT = date(2022, 1, 1)


def parts(*pieces: tuple[str, str, str], cnt: str = "001002001000") -> list[str]:
    """Rows of one count's sentence parts: (where, length, unit), numbered by SENT_ORDER."""
    return [
        line(
            CNT_ORDER=cnt,
            STP_EVENT_DATE=START,
            SENT_LOC_DESCR=where,
            SENT_LENGTH=n,
            SENT_TIME_CODE=unit,
            SENT_ORDER=str(order),
            **FELONY,
        )
        for order, (where, n, unit) in enumerate(pieces, 1)
    ]


def ends(tmp_path: Path, *pieces: tuple[str, str, str]) -> tuple[date, date]:
    """(sentence_end, sentence_end_consecutive) of a count with these parts."""
    records, _ = read_one(write(tmp_path / "a.dat", [line(ARREST), *parts(*pieces)]))
    c = count(records, "10000001", "001002001000")
    assert c["source_rows"] == len(pieces)
    return c["sentence_end"], c["sentence_end_consecutive"]


def test_probation_with_jail_as_its_condition_ends_with_the_probation(tmp_path: Path) -> None:
    """3 years of probation with 365 days of jail: 3 years, not 4."""
    end, consecutive = ends(tmp_path, ("PROBATION", "3", "Y"), ("JAIL", "365", "D"))
    assert end == consecutive == date(2025, 1, 1)


def test_the_longest_part_ends_the_sentence_whatever_its_order(tmp_path: Path) -> None:
    end, _ = ends(tmp_path, ("JAIL", "90", "D"), ("PROBATION", "36", "M"), ("FINE", "0", "D"))
    assert end == date(2025, 1, 1)
    # Parts without a place (the sample's `  -  `) run together too.
    end, _ = ends(tmp_path, ("  -  ", "88", "D"), ("  -  ", "38", "D"), ("  -  ", "10", "Y"))
    assert end == date(2032, 1, 1)


def test_prison_terms_run_together_unless_the_policy_adds_them(tmp_path: Path) -> None:
    end, consecutive = ends(tmp_path, ("STATE PRISON", "16", "M"), ("STATE PRISON", "8", "M"))
    assert end == date(2023, 5, 1)
    assert consecutive == date(2024, 1, 1)


@pytest.mark.parametrize(
    ("custody", "after", "end"),
    [
        (("STATE PRISON", "2", "Y"), ("PAROLE", "3", "Y"), date(2027, 1, 1)),
        (("STATE PRISON", "2", "Y"), ("PRCS", "1", "Y"), date(2025, 1, 1)),
        (("COUNTY JAIL", "1", "Y"), ("MANDATORY SUPERVISION", "2", "Y"), date(2025, 1, 1)),
    ],
    ids=["parole", "prcs", "mandatory-supervision"],
)
def test_supervision_follows_the_custody(
    tmp_path: Path, custody: tuple[str, str, str], after: tuple[str, str, str], end: date
) -> None:
    """Parole, PRCS and mandatory supervision are served after the custody: the person is
    still serving until they end."""
    assert ends(tmp_path, custody, after)[0] == end


def test_supervision_alone_runs_from_the_conviction(tmp_path: Path) -> None:
    assert ends(tmp_path, ("PAROLE", "3", "Y"))[0] == date(2025, 1, 1)


def test_parts_of_one_count_in_two_files_are_merged(tmp_path: Path) -> None:
    """A count's parts split across two deliveries make one sentence; the same part delivered
    twice is one part (prison terms are not added twice)."""
    first = write(tmp_path / "a.dat", [line(ARREST), *parts(("STATE PRISON", "2", "Y"))])
    second = write(tmp_path / "b.dat", parts(("STATE PRISON", "2", "Y"), ("PAROLE", "3", "Y")))
    records = read_doj([first, second])
    c = count(records, "10000001", "001002001000")
    assert c["sentence_end"] == date(2027, 1, 1)
    assert c["sentence_end_consecutive"] == date(2027, 1, 1)
    assert c["source_file"] == str(first) and c["source_lines"] == [2]
    assert records.merged_duplicate_counts == 1


def _remedy(tmp_path: Path, rows: list[str], as_of: date, consecutive: bool = False) -> str:
    records = read_doj([write(tmp_path / "r.dat", rows)])
    policy = load_policy("statute")
    policy = policy.model_copy(
        update={"judgment": policy.judgment.model_copy(
            update={"consecutive_prison_terms": consecutive})}
    )  # fmt: skip
    table = decide(records, policy, as_of, "Sacramento").table
    (remedy,) = table.filter(pl.col("count_id") == "001002001000")["remedy"].to_list()
    return str(remedy)


def test_still_serving_reads_the_longest_part(tmp_path: Path) -> None:
    """HS 11361.8(b) or (f): 3 years of probation with a year of jail from 2022-01-01 end on
    2025-01-01; on 2025-06-01 the sentence is complete (summed, it would run to 2026)."""
    rows = [line(ARREST), *parts(("PROBATION", "3", "Y"), ("JAIL", "365", "D"))]
    assert _remedy(tmp_path, rows, date(2024, 12, 31)) == "11361.8(b)"
    assert _remedy(tmp_path, rows, date(2025, 1, 1)) == "11361.8(f)"
    assert _remedy(tmp_path, rows, date(2025, 6, 1)) == "11361.8(f)"


def test_consecutive_prison_terms_are_a_policy_switch(tmp_path: Path) -> None:
    rows = [line(ARREST), *parts(("STATE PRISON", "2", "Y"), ("STATE PRISON", "2", "Y"))]
    as_of = date(2025, 1, 1)
    assert _remedy(tmp_path, rows, as_of) == "11361.8(f)"
    assert _remedy(tmp_path, rows, as_of, consecutive=True) == "11361.8(b)"


def test_parole_shown_in_the_record_is_still_serving(tmp_path: Path) -> None:
    rows = [line(ARREST), *parts(("STATE PRISON", "1", "Y"), ("PAROLE", "3", "Y"))]
    assert _remedy(tmp_path, rows, date(2025, 6, 1)) == "11361.8(b)"
    assert _remedy(tmp_path, rows, date(2026, 1, 1)) == "11361.8(f)"


# --------------------------------------------------------------------------------------------
# Headers by name


def _header(names: list[str]) -> str:
    return ",".join(names)


def _reorder(row: str, order: list[int]) -> str:
    fields = next(csv.reader([row]))
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([fields[i] for i in order])
    return out.getvalue()


def test_columns_are_read_by_the_header_names(tmp_path: Path) -> None:
    """Dates swapped and SUBJECT_ID moved: read by name, the facts are the same."""
    order = list(range(len(DOJ_COLUMNS)))
    a, b = DOJ_COLUMNS.index("CYC_DATE"), DOJ_COLUMNS.index("STP_EVENT_DATE")
    order[a], order[b] = order[b], order[a]
    order = order[2:] + order[:2]
    names = [DOJ_COLUMNS[i].lower() for i in order]
    rows = [line(ARREST), line()]
    plain = read_doj([write(tmp_path / "plain.dat", rows, header=True)])
    moved = write(tmp_path / "moved.dat", [_header(names), *[_reorder(r, order) for r in rows]])
    records, stats = read_one(moved)
    assert stats.columns == tuple(n.upper() for n in names)
    keep = [c for c in plain.counts.columns if c not in ("source_file",)]
    assert records.counts.select(keep).equals(plain.counts.select(keep))
    c = count(records, "10000001", "001002001000")
    assert (c["event_date"], c["offense_date"]) == (date(2010, 3, 1), date(2010, 1, 5))


def test_a_header_without_a_needed_column_is_named(tmp_path: Path) -> None:
    names = [n for n in DOJ_COLUMNS if n != "STP_EVENT_DATE"] + ["NOTE"]
    path = write(tmp_path / "a.dat", [_header(names), line()])
    with pytest.raises(ReadError, match="no column STP_EVENT_DATE"):
        read_doj([path])
    twice = [*DOJ_COLUMNS[:-1], "CNT_ORDER"]
    with pytest.raises(ReadError, match="names CNT_ORDER more than once"):
        read_doj([write(tmp_path / "b.dat", [_header(twice), line()])])


def test_extra_columns_are_kept_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "a.dat", [_header([*DOJ_COLUMNS, "NOTE"]), line() + ",seen"])
    _records, stats = read_one(path)
    assert stats.extra_columns == ("NOTE",)
    assert stats.rows_loaded == 1


def test_a_header_repeated_inside_the_file_is_set_aside(tmp_path: Path) -> None:
    header = ",".join(f'"{n}"' for n in DOJ_COLUMNS)
    path = write(tmp_path / "a.dat", [header, line(ARREST), header, line()])
    records, stats = read_one(path)
    assert stats.header and stats.rows_loaded == 2
    assert records.quarantine.select("source_line", "reason").rows() == [(3, "repeated header")]


# --------------------------------------------------------------------------------------------
# Lines too long to hold


def test_a_line_over_the_limit_is_set_aside_with_its_length(tmp_path: Path) -> None:
    rows = [line(ARREST), "A" * 50_000, line()]
    path = write(tmp_path / "a.dat.gz", rows)
    records = read_doj([path], max_line_bytes=10_000)
    (stats,) = records.files
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined) == (3, 2, 1)
    (row,) = records.quarantine.rows(named=True)
    assert row["source_line"] == 2
    assert row["reason"] == "line longer than 10000 bytes: 50,000 bytes"
    assert row["raw"].startswith("AAAA") and len(row["raw"]) < 300
    # Under the default limit (1 MB) the same line is only a row of the wrong shape.
    assert read_doj([path]).quarantine["reason"][0].startswith("wrong number of fields")


def test_an_endless_line_is_never_held_whole() -> None:
    """A valid row, then 20 MB without a line break, then a row: the blocks handed on stay
    within the chunk size plus the limit, and the line comes as its stand-in."""
    data = (line(ARREST) + "\n" + "A" * 20_000_000 + "\n" + line() + "\n").encode()
    size, limit = 65_536, 4_096
    blocks = list(chunks._blocks(io.BytesIO(data), Path("x"), size, limit))
    assert max(len(b) for b in blocks) <= size + limit
    lines = b"".join(blocks).split(b"\n")
    assert chunks.too_long_length(lines[1]) == 20_000_000
    assert lines[0] == line(ARREST).encode() and lines[2] == line().encode()


def test_duplicate_is_matched_against_its_own_text(tmp_path: Path) -> None:
    """Three lines equal in every value read, the first written differently ("  -  " for an
    empty OFN): the third repeats the second byte for byte and is set aside as its duplicate,
    though it differs in text from the first line of equal values."""
    padded = line(OFN="  -  ")
    plain = line(OFN="")
    assert padded != plain
    records, stats = read_one(write(tmp_path / "a.dat", [padded, plain, plain]))
    assert (stats.rows_loaded, stats.rows_quarantined) == (2, 1)
    assert records.quarantine.select("source_line", "reason").rows() == [
        (3, "exact duplicate of line 2")
    ]
