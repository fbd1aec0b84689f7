"""Tests of the synthetic DOJ bulk-file writer.

The reader, the engine and the benchmarks trust these files to have the exact DOJ layout, to
be reproducible, and to contain the awkward cases the format notes list; these tests hold the
writer to that. Files are small (a few thousand to 20,000 rows) so the suite stays fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from clearance.records.schema import DOJ_COLUMNS, DOJ_FIELD_COUNT
from clearance.synth import SynthStats, write_synthetic

COL = {name: i for i, name in enumerate(DOJ_COLUMNS)}
HEADER = ",".join(DOJ_COLUMNS)
ROWS = 20_000


def parse(data: bytes, encoding: str = "utf-8") -> list[list[str]]:
    """All CSV rows of a file's bytes (header included when present)."""
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def date_ok(value: str) -> bool:
    """A step date a reader keeps: a real YYYYMMDD date or the unknown marker YYYY0000."""
    if not re.fullmatch(r"\d{8}", value):
        return False
    if value.endswith("0000"):
        return True
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def is_good(row: list[str]) -> bool:
    """The checks a reader applies before loading a row."""
    return (
        len(row) == DOJ_FIELD_COUNT
        and re.fullmatch(r"\d{8,}", row[COL["SUBJECT_ID"]]) is not None
        and re.fullmatch(r"\d{12}", row[COL["CNT_ORDER"]]) is not None
        and date_ok(row[COL["STP_EVENT_DATE"]])
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthStats, bytes]:
    """One 20,000-row file shared by the content tests."""
    path = tmp_path_factory.mktemp("synth") / "sample.dat"
    stats = write_synthetic(path, ROWS, seed=11)
    return stats, path.read_bytes()


@pytest.fixture(scope="module")
def good_rows(sample: tuple[SynthStats, bytes]) -> list[list[str]]:
    """The well-formed data rows of the shared file."""
    return [r for r in parse(sample[1])[1:] if is_good(r)]


def column(rows: list[list[str]], name: str) -> list[str]:
    return [r[COL[name]] for r in rows]


# ---- determinism --------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.dat", tmp_path / "b.dat", tmp_path / "c.dat"
    write_synthetic(a, 3000, seed=5, malformed_share=0.01)
    write_synthetic(b, 3000, seed=5, malformed_share=0.01)
    write_synthetic(c, 3000, seed=6, malformed_share=0.01)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_shorter_file_is_a_prefix_of_a_longer_one(tmp_path: Path) -> None:
    short, long = tmp_path / "short.dat", tmp_path / "long.dat"
    write_synthetic(short, 1500, seed=2, malformed_share=0.0)
    write_synthetic(long, 4000, seed=2, malformed_share=0.0)
    assert long.read_bytes().startswith(short.read_bytes())


# ---- layout -------------------------------------------------------------------------------


def test_exact_row_count_and_header(sample: tuple[SynthStats, bytes]) -> None:
    stats, data = sample
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""  # every line, the last one included, ends with a newline
    assert len(lines) - 1 == ROWS + 1
    assert lines[0] == HEADER
    assert stats.rows == ROWS
    assert stats.bytes_written == len(data)
    assert 600 < stats.bytes_written / ROWS < 1000  # real files are ~800 bytes a row


def test_without_header(tmp_path: Path) -> None:
    path = tmp_path / "noheader.dat"
    stats = write_synthetic(path, 2000, header=False, seed=1)
    rows = parse(path.read_bytes())
    assert stats.rows == len(rows) == 2000
    assert rows[0][0] == "  -  "


def test_good_rows_are_rows_minus_malformed(sample: tuple[SynthStats, bytes]) -> None:
    stats, data = sample
    rows = parse(data)[1:]
    good = [r for r in rows if is_good(r)]
    assert stats.malformed_rows == round(ROWS * 0.002)
    assert len(good) == stats.rows - stats.malformed_rows
    for row in good:
        assert re.fullmatch(r"\d{12}", row[COL["CNT_ORDER"]])
        assert row[COL["CNT_ORDER"]].endswith("000")
        assert row[COL["SUBJECT_ID"]]


def test_malformed_kinds_and_spread(tmp_path: Path) -> None:
    path = tmp_path / "broken.dat"
    stats = write_synthetic(path, 6000, seed=3, malformed_share=0.05)
    rows = parse(path.read_bytes())[1:]
    assert stats.malformed_rows == 300
    bad = [(i, r) for i, r in enumerate(rows) if not is_good(r)]
    assert len(bad) == stats.malformed_rows
    field_counts = Counter(len(r) for _, r in bad)
    assert {94, 96} <= set(field_counts)
    assert any(n < 94 for n in field_counts)
    wide = [r for _, r in bad if len(r) == DOJ_FIELD_COUNT]
    assert any(r[COL["SUBJECT_ID"]] == "" for r in wide)
    cnt = Counter(len(r[COL["CNT_ORDER"]]) for r in wide if r[COL["SUBJECT_ID"]])
    assert {9, 13} <= set(cnt)
    assert any(re.search("[A-Z]", r[COL["CNT_ORDER"]]) for r in wide)
    dates = [r[COL["STP_EVENT_DATE"]] for r in wide if not date_ok(r[COL["STP_EVENT_DATE"]])]
    assert any("O" in d for d in dates)
    assert any(d[4:6] == "13" for d in dates)
    # spread over the file, not bunched at the start
    positions = [i for i, _ in bad]
    assert positions[0] < 200 and positions[-1] > 5800


def test_no_malformed_rows_when_share_is_zero(tmp_path: Path) -> None:
    path = tmp_path / "clean.dat"
    stats = write_synthetic(path, 3000, seed=4, malformed_share=0.0)
    rows = parse(path.read_bytes())[1:]
    assert stats.malformed_rows == 0
    assert all(is_good(r) for r in rows)


def test_placeholders_quoting_and_padding(sample: tuple[SynthStats, bytes]) -> None:
    text = sample[1].decode("utf-8")
    first = text.split("\n")[1]
    assert first.startswith('"  -  ","  -  ",')
    assert re.search(r',"[A-Z\' -]+,[A-Z]+( [A-Z])?",', first)  # the name, always quoted
    assert ",NULL  ," in text
    assert "DAYS      " in text
    assert '"PER DA ""NO FILE"""' in text  # a quote inside a field is doubled
    assert '"COUNTS CONSOLIDATED, SEE CASE"' in text


def test_zero_rows_writes_only_the_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.dat"
    stats = write_synthetic(path, 0)
    assert path.read_text() == HEADER + "\n"
    assert (stats.rows, stats.people, stats.malformed_rows) == (0, 0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [{"rows": -1}, {"rows": 10, "malformed_share": 1.5}, {"rows": 10, "seed": -1}],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, int | float]) -> None:
    with pytest.raises(ValueError):
        write_synthetic(tmp_path / "x.dat", **kwargs)  # type: ignore[arg-type]


# ---- content ------------------------------------------------------------------------------


def test_people_are_consistent_across_their_rows(
    sample: tuple[SynthStats, bytes], good_rows: list[list[str]]
) -> None:
    identity: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in good_rows:
        identity[row[COL["SUBJECT_ID"]]].add(
            tuple(row[COL[c]] for c in ("CII_NUMBER", "PRI_NAME", "PRI_DOB", "GENDER"))
        )
    assert all(len(v) == 1 for v in identity.values())
    assert len(identity) == sample[0].people
    assert all(re.fullmatch(r"\d{8,}", sid) for sid in identity)
    genders = Counter(next(iter(v))[3] for v in identity.values())
    assert set(genders) == {"M", "F"}
    dobs = [next(iter(v))[2] for v in identity.values()]
    assert all(date_ok(d) and not d.endswith("0000") for d in dobs)


def test_histories_span_decades_counties_and_steps(good_rows: list[list[str]]) -> None:
    years = {d[:4] for d in column(good_rows, "CYC_DATE") if d}
    decades = {y[:3] for y in years}
    assert {"197", "198", "199", "200", "201", "202"} <= decades
    assert any(d > "20161109" for d in column(good_rows, "STP_EVENT_DATE"))
    counties = Counter(column(good_rows, "STP_ORI_CNTY_NAME"))
    assert counties.most_common(1)[0][0] == "SACRAMENTO"
    assert {"LOS ANGELES", "ALAMEDA", "SAN JOAQUIN"} <= set(counties)
    steps = Counter(column(good_rows, "STP_TYPE_DESCR"))
    assert {"ARREST/DETAINED/CITED", "COURT ACTION", "REGISTRATION", "DECEASED"} <= set(steps)
    assert steps["COURT ACTION"] > steps["REGISTRATION"] > 0
    # several cycles per person, in CNT_ORDER order within each person
    cycles: dict[str, list[str]] = defaultdict(list)
    for row in good_rows:
        cycles[row[COL["SUBJECT_ID"]]].append(row[COL["CNT_ORDER"]])
    assert max(len({c[:3] for c in v}) for v in cycles.values()) >= 5
    assert all(v == sorted(v) for v in cycles.values())


def test_levels_dispositions_and_sentences(good_rows: list[list[str]]) -> None:
    assert {"F", "M", "I"} <= set(column(good_rows, "OFFENSE_TOC"))
    assert {"FELONY", "MISDEMEANOR", "INFRACTION"} <= set(column(good_rows, "CONV_STAT_DESCR"))
    dispositions = set(column(good_rows, "DISP_DESCR"))
    assert {
        "CONVICTED",
        "DISMISSED",
        "ACQUITTED",
        "CONV SET ASIDE & DISM PER 1203.4 PC",
    } <= dispositions
    assert {"JAIL", "PRISON", "PROBATION", "FINE"} <= set(column(good_rows, "SENT_LOC_DESCR"))
    assert {"D", "M", "Y"} <= set(column(good_rows, "SENT_TIME_CODE"))
    # sentence parts: the same count on several rows with different parts
    parts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in good_rows:
        parts[(row[COL["SUBJECT_ID"]], row[COL["CNT_ORDER"]])].add(row[COL["SENT_LOC_DESCR"]])
    assert sum(len(p) >= 2 for p in parts.values()) > 100
    ages = [a for a in column(good_rows, "CYC_AGE") if a.strip() != "-"]
    assert ages and all(a.isdigit() for a in ages)


def test_offense_text_variants_are_present(good_rows: list[list[str]]) -> None:
    texts = set(column(good_rows, "OFFENSE_DESCR")) | set(column(good_rows, "COMMENT_TEXT"))
    for prefix in (
        "11357(C)HS-",
        "11357(b)HS-",
        "11357A HS-",
        "11357B2 HS-",
        "11359HS-",
        "11360A2 HS-",
        "11360(B) SELL/FURNISH/ETC MARIJUANA/HASH",
        "HS 11357(b)",
        "/11357 HS",
        " 148 PC - RESISTING",
        "484(A)/490.5 PC",
        "664/11359 HS",
        "664.11357(C) HS",
        "66411357(C) HS",
        "664-11357(C) HS",
        "182(A)(1) PC-CONSPIRACY",
        "11357.5",
        "11359.5",
        "11355",
        "11350",
        "11377",
        "187(A) PC",
        "288(A) PC",
        "261(A)(2) PC",
        "664/187",
    ):
        assert any(t.startswith(prefix) for t in texts), prefix


def test_charge_in_comment_pleas_and_registration(good_rows: list[list[str]]) -> None:
    see = [r for r in good_rows if r[COL["OFFENSE_DESCR"]] == "SEE COMMENT FOR CHARGE"]
    blank = [r for r in good_rows if r[COL["OFFENSE_DESCR"]] == "" and r[COL["COMMENT_TEXT"]]]
    assert see and blank
    assert all(re.search(r"\d{2,}", r[COL["COMMENT_TEXT"]]) for r in see + blank)  # a section
    pleas = [
        r
        for r in good_rows
        if r[COL["CONV_OFFENSE_DESCR"]].strip() not in ("", "-")
        and r[COL["CONV_OFFENSE_DESCR"]] != r[COL["OFFENSE_DESCR"]]
    ]
    assert pleas and all(r[COL["DISP_DESCR"]] for r in pleas)
    registrations = [r for r in good_rows if r[COL["STP_TYPE_DESCR"]] == "REGISTRATION"]
    assert any(r[COL["OFFENSE_DESCR"]].startswith("290 PC-REGISTRATION") for r in registrations)
    conspiracy = [r for r in good_rows if r[COL["OFFENSE_DESCR"]].startswith("182(A)(1)")]
    assert any("1135" in r[COL["COMMENT_TEXT"]] for r in conspiracy)


def test_case_numbers_and_unknown_dates(good_rows: list[list[str]]) -> None:
    court = [r for r in good_rows if r[COL["STP_TYPE_DESCR"]].startswith("COURT")]
    ofn = {r[COL["OFN"]] for r in court}
    assert "NULL  " in ofn
    assert any(re.fullmatch(r"\d{5,8}", o) for o in ofn)
    assert any(re.fullmatch(r"\d\d \d{6}-[A-Z]", o) for o in ofn)
    arrests = [r for r in good_rows if r[COL["STP_TYPE_DESCR"]] == "ARREST/DETAINED/CITED"]
    assert all(r[COL["OFN"]] == "" for r in arrests)
    cyc_dates = column(good_rows, "CYC_DATE")
    assert "" in cyc_dates
    assert any(d.endswith("0000") for d in cyc_dates)
    assert any(d.endswith("0000") for d in column(good_rows, "STP_EVENT_DATE"))
    # a court step never precedes its arrest cycle
    for row in court:
        cyc, step = row[COL["CYC_DATE"]], row[COL["STP_EVENT_DATE"]]
        if cyc and not cyc.endswith("0000") and not step.endswith("0000"):
            assert step >= cyc


def test_home_county_is_upper_cased(tmp_path: Path) -> None:
    path = tmp_path / "la.dat"
    write_synthetic(path, 3000, county="los angeles", seed=8)
    rows = [r for r in parse(path.read_bytes())[1:] if is_good(r)]
    counties = Counter(column(rows, "STP_ORI_CNTY_NAME"))
    assert counties.most_common(1)[0][0] == "LOS ANGELES"
    assert counties["LOS ANGELES"] > 0.5 * len(rows)


# ---- encodings, line endings, compression -------------------------------------------------


def test_gzip_round_trips(tmp_path: Path) -> None:
    plain, packed = tmp_path / "f.dat", tmp_path / "f.dat.gz"
    write_synthetic(plain, 2500, seed=9)
    stats = write_synthetic(packed, 2500, seed=9)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert stats.bytes_written == packed.stat().st_size < plain.stat().st_size


def test_latin1_has_accented_names_and_is_not_utf8(tmp_path: Path) -> None:
    latin, utf = tmp_path / "latin.dat", tmp_path / "utf.dat"
    write_synthetic(latin, 5000, seed=10, encoding="latin-1")
    write_synthetic(utf, 5000, seed=10)
    data = latin.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("latin-1")
    assert re.search("[ÑÁÉÍÓÚ]", text)
    assert utf.read_bytes().isascii()
    assert len(parse(data, "latin-1")) == len(parse(utf.read_bytes()))


def test_crlf_line_endings(tmp_path: Path) -> None:
    crlf, lf = tmp_path / "crlf.dat", tmp_path / "lf.dat"
    write_synthetic(crlf, 2000, seed=12, crlf=True)
    write_synthetic(lf, 2000, seed=12)
    data = crlf.read_bytes()
    assert data.count(b"\r\n") == 2001
    assert data.count(b"\n") == 2001
    assert data.replace(b"\r\n", b"\n") == lf.read_bytes()
    assert parse(data) == parse(lf.read_bytes())
