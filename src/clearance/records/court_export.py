"""Read a court case-management export (CSV or XLSX) through a mapping file.

Courts and District Attorneys export case lists from their own systems, each with its own
column names, date formats and codes (`F` for felony, `CONV` for convicted). Los Angeles' second
wave of cannabis relief came from such records, cases the state's file did not carry. Rather
than one reader per court, a short YAML **mapping** says which column holds what and how its
values read; it is checked like a policy (pydantic), and an error names its line.

Each data row is one count of one court case. Rows are people's convictions as the court keeps
them, with the court's own case and count numbers: the count keeps them (`court_case_number`,
and the count number inside `count_id`), so filings cite them. A row that lacks what a decision
needs (case number, name, offense, disposition) or whose conviction date is garbled is set
aside in the quarantine with its line and the reason; read = loaded + quarantined.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from clearance.policy import loader
from clearance.records import schema
from clearance.records.canonical import (
    EVENTS_SCHEMA,
    CountRow,
    Person,
    SentencePart,
    SourceRecords,
    build_counts,
    build_subjects,
    disposition_of,
    level_of,
    stable_id,
)
from clearance.records.chunks import ReadError
from clearance.records.doj import FileStats
from clearance.records.places import place_of
from clearance.records.rapsheet_text import read_sentence

REASON_NO_CASE = "no case number"
REASON_NO_NAME = "no name"
REASON_NO_OFFENSE = "no offense section"
REASON_NO_DISPOSITION = "no disposition"
REASON_BAD_DATE = "unreadable conviction date"


class MappingError(Exception):
    """A mapping file that cannot be used; the message names the file, line and key."""


class SentenceColumn(BaseModel):
    """A column holding one sentence part as a number (`Jail Days: 30`)."""

    model_config = ConfigDict(extra="forbid")
    column: str
    unit: Literal["days", "months", "years"]
    kind: str = Field(default="other", description="jail, probation, prison...")


class Columns(BaseModel):
    """Which column of the export holds each field (names as in the header row)."""

    model_config = ConfigDict(extra="forbid")
    case_number: str
    #: `LAST, FIRST M` in one column, or the parts in columns of their own (below).
    name: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    conviction_date: str
    section: str
    disposition: str
    count: str | None = None
    dob: str | None = None
    cii: str | None = None
    sex: str | None = None
    offense_date: str | None = None
    code: str | None = Field(default=None, description="code letters when apart (HS, PC)")
    description: str | None = None
    level: str | None = None
    sentence: str | None = Field(default=None, description="free text: 3 YEARS PROBATION, ...")
    sentence_parts: list[SentenceColumn] = Field(default_factory=list)
    court: str | None = None

    @model_validator(mode="after")
    def _a_name(self) -> Columns:
        if self.name is None and self.last_name is None:
            raise ValueError("give the column of the name, or of the last name (last_name)")
        return self


class ValueMaps(BaseModel):
    """The export's codes and what they mean; values not listed are read as plain words."""

    model_config = ConfigDict(extra="forbid")
    level: dict[str, Literal["felony", "misdemeanor", "infraction", "unknown"]] = Field(
        default_factory=dict
    )
    disposition: dict[str, Literal["convicted", "dismissed", "acquitted", "set_aside", "other"]] = (
        Field(default_factory=dict)
    )
    sex: dict[str, str] = Field(default_factory=dict)


class Mapping(BaseModel):
    """A court export's layout (see examples/court-export-mapping.yaml)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    county: str | None = Field(default=None, description="the court's county, for every row")
    sheet: str | None = Field(default=None, description="XLSX: the sheet (default: the first)")
    header_row: int = Field(default=1, ge=1)
    columns: Columns
    dates: list[str] = Field(default_factory=lambda: ["%m/%d/%Y", "%Y-%m-%d", "%Y%m%d"])
    values: ValueMaps = Field(default_factory=ValueMaps)

    @field_validator("dates")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        if not formats:
            raise ValueError("give at least one date format, e.g. '%m/%d/%Y'")
        for fmt in formats:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a date format (use %Y, %m, %d)")
        return formats

    @field_validator("values")
    @classmethod
    def _upper(cls, values: ValueMaps) -> ValueMaps:
        return ValueMaps(
            level={k.strip().upper(): v for k, v in values.level.items()},
            disposition={k.strip().upper(): v for k, v in values.disposition.items()},
            sex={k.strip().upper(): v for k, v in values.sex.items()},
        )

    def used_columns(self) -> list[tuple[str, str]]:
        """(field, column) of every mapped column, in the order of `Columns`."""
        out = []
        for key, value in self.columns:
            if isinstance(value, str):
                out.append((key, value))
        out += [("sentence_parts", part.column) for part in self.columns.sentence_parts]
        return out


def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; errors say `file line N: key: problem`."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"no such mapping file {str(path)!r}")
    text = path.read_bytes().decode("utf-8", errors="replace")
    return mapping_from_text(text, path.name)


def mapping_from_text(text: str, source: str) -> Mapping:
    if not text.strip():
        raise MappingError(f"{source}: the mapping is empty: it needs name and columns")
    try:
        data, lines = loader._parse_yaml(text, source)
    except loader.PolicyError as exc:
        raise MappingError(str(exc).replace("the policy", "the mapping")) from None
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        first = min(exc.errors(), key=lambda e: loader._line_of(tuple(e["loc"]), lines))
        loc = tuple(first["loc"])
        raise MappingError(
            str(
                loader._located(
                    source,
                    loader._line_of(loc, lines),
                    loader.dotted(loc) or None,
                    loader._problem(first, Mapping),
                )
            )
        ) from None


# --------------------------------------------------------------------------------------------
# Reading the table


def _table(path: Path, mapping: Mapping) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line or row number, cells)]) of a CSV or XLSX export, every cell as text."""
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path, mapping)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:20_000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    for cells in reader:
        rows.append((reader.line_num, [c.strip() for c in cells]))
    return _split_header(path, rows, mapping)


def _xlsx(path: Path, mapping: Mapping) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ReadError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        if mapping.sheet is not None and mapping.sheet not in book.sheetnames:
            raise ReadError(
                f"{path}: no sheet {mapping.sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        sheet = book[mapping.sheet] if mapping.sheet else book.worksheets[0]
        rows = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, [_cell(c) for c in cells]))
    finally:
        book.close()
    return _split_header(path, rows, mapping)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split_header(
    path: Path, rows: list[tuple[int, list[str]]], mapping: Mapping
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if len(rows) < mapping.header_row:
        raise ReadError(f"{path}: no header row (the mapping says row {mapping.header_row})")
    header = [h.strip() for h in rows[mapping.header_row - 1][1]]
    missing = [c for _, c in mapping.used_columns() if c not in header]
    if missing:
        raise ReadError(
            f"{path}: the mapping {mapping.name!r} names columns the file lacks: "
            f"{', '.join(repr(m) for m in missing)}"
        )
    return header, rows[mapping.header_row :]


# --------------------------------------------------------------------------------------------
# Rows to counts


@dataclass
class _Row:
    line: int
    cells: dict[str, str]


def _parse_date(value: str, formats: list[str]) -> tuple[date | None, bool]:
    """(date, garbled): an empty value is unknown, not garbled."""
    return _date_of(value.strip(), tuple(formats))


@lru_cache(maxsize=65_536)
def _date_of(text: str, formats: tuple[str, ...]) -> tuple[date | None, bool]:
    """A date by the first format that reads it (exports repeat dates: each is parsed once)."""
    if not text:
        return None, False
    for fmt in (*formats, "%Y-%m-%d"):
        pattern = _format_pattern(fmt)
        if pattern is not None:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"])), False
            except ValueError:
                continue
        try:
            return datetime.strptime(text, fmt).date(), False
        except ValueError:
            continue
    return None, True


@lru_cache(maxsize=64)
def _format_pattern(fmt: str) -> re.Pattern[str] | None:
    """A regular expression for a format made of %Y, %m and %d only (strptime is slow, and an
    export has a date or two on each of its rows); None for other formats."""
    if re.sub(r"%[Ymd]", "", fmt).count("%") or not all(d in fmt for d in ("%Y", "%m", "%d")):
        return None
    pattern = re.escape(fmt)
    for directive, group in (("%Y", r"(?P<y>[0-9]{4})"), ("%m", r"(?P<m>[0-9]{1,2})"),
                             ("%d", r"(?P<d>[0-9]{1,2})")):  # fmt: skip
        pattern = pattern.replace(re.escape(directive), group)
    return re.compile(pattern)


def _mapped(value: str, table: MappingOf[str, str]) -> str | None:
    key = value.strip().upper()
    return table.get(key) if key else None


def read_court_export(paths: list[Path | str] | Path | str, mapping: Mapping) -> SourceRecords:
    """Read court exports with one mapping into canonical tables (one person per CII, else per
    name and date of birth; one cycle per case)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    people: dict[str, Person] = {}
    cases: dict[tuple[str, str], list[tuple[_Row, str]]] = {}
    quarantine: list[dict[str, object]] = []
    stats: list[FileStats] = []
    for path in dict.fromkeys(Path(p) for p in paths):
        header, rows = _table(path, mapping)
        file_stats = FileStats(path=str(path), bytes=path.stat().st_size, header=True)
        stats.append(file_stats)
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                file_stats.blank_lines += 1
                continue
            file_stats.rows_read += 1
            row = _Row(line, dict(zip(header, cells, strict=False)))
            reason = _problem(row, mapping)
            if reason is not None:
                quarantine.append(
                    {
                        "source_file": str(path),
                        "source_line": line,
                        "reason": reason,
                        "raw": ",".join(cells),
                    }
                )
                file_stats.rows_quarantined += 1
                continue
            file_stats.rows_loaded += 1
            person = _person(row, mapping)
            people.setdefault(person.subject_id, person)
            case = _get(row, mapping.columns.case_number)
            cases.setdefault((person.subject_id, case), []).append((row, str(path)))
    rows_out, events = _counts(cases, mapping)
    counts = build_counts(rows_out)
    subjects = build_subjects(list(people.values()), counts)
    return SourceRecords(
        subjects=subjects,
        counts=counts,
        quarantine=pl.DataFrame(quarantine, schema=schema.QUARANTINE_SCHEMA),
        files=stats,
        events=pl.DataFrame(events, schema=EVENTS_SCHEMA),
        source_format="court",
    )


def _get(row: _Row, column: str | None) -> str:
    return row.cells.get(column, "").strip() if column else ""


def _problem(row: _Row, mapping: Mapping) -> str | None:
    c = mapping.columns
    if not _get(row, c.case_number):
        return REASON_NO_CASE
    if not _name_of(row, mapping):
        return REASON_NO_NAME
    if not re.search(r"[0-9]", _get(row, c.section)):
        return REASON_NO_OFFENSE
    if not _get(row, c.disposition):
        return REASON_NO_DISPOSITION
    _, garbled = _parse_date(_get(row, c.conviction_date), mapping.dates)
    if garbled:
        return f"{REASON_BAD_DATE}: {_get(row, c.conviction_date)!r}"
    return None


def _person(row: _Row, mapping: Mapping) -> Person:
    c = mapping.columns
    cii = re.sub(r"[^0-9A-Z]", "", _get(row, c.cii).upper()) or None
    name = _name_of(row, mapping)
    dob, _ = _parse_date(_get(row, c.dob), mapping.dates)
    sex_raw = _get(row, c.sex)
    sex = _mapped(sex_raw, mapping.values.sex) or (sex_raw.upper()[:1] or None)
    key = stable_id("CRT", cii) if cii else stable_id("CRT", name, dob.isoformat() if dob else "")
    return Person(subject_id=key, cii_number=cii, name=name or None, dob=dob, sex=sex)


def _name_of(row: _Row, mapping: Mapping) -> str:
    """`LAST,FIRST M` as the DOJ file writes names, from one column or from its parts."""
    c = mapping.columns
    if c.name is not None:
        whole = _get(row, c.name)
    else:
        last = _get(row, c.last_name)
        given = " ".join(p for p in (_get(row, c.first_name), _get(row, c.middle_name)) if p)
        whole = f"{last}, {given}" if last and given else last
    return re.sub(r"\s*,\s*", ",", re.sub(r"\s+", " ", whole.upper())).strip(", ")


def _offense(row: _Row, mapping: Mapping) -> str:
    c = mapping.columns
    section = _get(row, c.section)
    code = _get(row, c.code)
    text = f"{section} {code}".strip() if code and code.upper() not in section.upper() else section
    description = _get(row, c.description)
    return f"{text}-{description}" if description else text


def _sentence(row: _Row, mapping: Mapping) -> tuple[SentencePart, ...]:
    c = mapping.columns
    parts = list(read_sentence(_get(row, c.sentence))) if c.sentence else []
    for part in c.sentence_parts:
        value = _get(row, part.column)
        amount = int(float(value)) if re.fullmatch(r"[0-9]+(?:\.0+)?", value) else 0
        if amount:
            length = {"years": (amount, 0, 0), "months": (0, amount, 0), "days": (0, 0, amount)}
            y, m, d = length[part.unit]
            parts.append(SentencePart(y, m, d, part.kind.upper()))
    return tuple(parts)


def _counts(
    cases: dict[tuple[str, str], list[tuple[_Row, str]]], mapping: Mapping
) -> tuple[list[CountRow], list[dict[str, object]]]:
    """One cycle per case (in conviction-date order for each person), counts numbered by the
    court's count numbers where they are numbers and unique, else in file order."""
    c = mapping.columns
    by_person: dict[str, list[tuple[str, list[tuple[_Row, str]]]]] = {}
    for (subject, case), rows in cases.items():
        by_person.setdefault(subject, []).append((case, rows))
    out: list[CountRow] = []
    events: list[dict[str, object]] = []
    for subject, person_cases in by_person.items():

        def when(item: tuple[str, list[tuple[_Row, str]]]) -> date:
            dates = [_parse_date(_get(r, c.conviction_date), mapping.dates)[0] for r, _ in item[1]]
            known = [d for d in dates if d is not None]
            return min(known) if known else date.max

        for cycle, (_case, rows) in enumerate(sorted(person_cases, key=when), start=1):
            numbers = [_get(r, c.count) for r, _ in rows]
            printed = [int(n) if n.isdigit() and 0 < int(n) < 1000 else 0 for n in numbers]
            first_row, first_file = rows[0]
            county = _county(first_row, mapping)
            events.append(
                {
                    "source_file": first_file,
                    "source_line": first_row.line,
                    "subject_id": subject,
                    "event_id": f"{min(cycle, 999):03d}001",
                    "kind": "court",
                    "event_date": _parse_date(_get(first_row, c.conviction_date), mapping.dates)[0],
                    "agency": _get(first_row, c.court) or None,
                    "county": county,
                    "federal": False,
                    "counts": len(rows),
                    "status": "parsed",
                    "text": None,
                }
            )
            taken: set[int] = set()
            for index, (row, source) in enumerate(rows):
                number = printed[index]
                if not number or number in taken:
                    # No count number, or the same one twice: the next one no row prints.
                    number = next(n for n in range(1, 1000) if n not in taken and n not in printed)
                taken.add(number)
                convicted_on, _ = _parse_date(_get(row, c.conviction_date), mapping.dates)
                offense_on, _ = _parse_date(_get(row, c.offense_date), mapping.dates)
                raw_disp = _get(row, c.disposition)
                disposition = _mapped(raw_disp, mapping.values.disposition) or disposition_of(
                    raw_disp
                )
                raw_level = _get(row, c.level)
                level = _mapped(raw_level, mapping.values.level) or level_of(raw_level, raw_level)
                out.append(
                    CountRow(
                        subject_id=subject,
                        count_id=f"{min(cycle, 999):03d}001{min(number, 999):03d}000",
                        step_type="court",
                        event_date=convicted_on,
                        offense_date=offense_on,
                        county=county,
                        court_case_number=_get(row, c.case_number),
                        offense_raw=_offense(row, mapping),
                        disposition=disposition,
                        level=level,
                        source_file=source,
                        source_line=row.line,
                        sentence=_sentence(row, mapping),
                    )
                )
    return out, events


def _county(row: _Row, mapping: Mapping) -> str | None:
    if mapping.county:
        return re.sub(r"[\s_-]+", " ", mapping.county).strip().upper()
    court = _get(row, mapping.columns.court)
    return place_of(court).county if court else None


def mapping_columns(mapping: Mapping) -> list[str]:
    """The export columns the mapping reads (for error messages and the docs)."""
    return [column for _, column in mapping.used_columns()]
