"""Read California RAP sheets (text, text PDFs, scans through OCR) into the canonical tables.

A RAP sheet is one person's criminal history as the DOJ prints it (formats/rap-sheet.md): a
personal block (CII, date of birth, sex, names), then cycles separated by `* * * *`, each a
list of events (`ARR/DET/CITE:`, `COURT:`, `CUSTODY:`...) separated by `- - - -`, each event a
date, an agency and its counts (`CNT:01 #case`, the offense, `*DISPO:`, `CONV STATUS:`, `SEN:`)
with later updates under a date line (`DISPO:CONV SET ASIDE & DISM PER 1203.4 PC`).

Why it is built this way:
- It is a line-oriented reader with a small state machine per event, not a grammar: real sheets
  carry page headers in the middle of a cycle, OCR noise, counts without a section and events of
  kinds no grammar lists, and each of those must be kept and reported, never make the whole
  sheet fail.
- Every event is accounted for. An event is parsed into counts, or, when its kind is not known
  or it has no header at all, kept whole in the quarantine with its text and line ("rows" of a
  sheet are its events: read = loaded + quarantined). Values that are read with a correction
  (OCR look-alikes in a date) or left unknown (a date that has two readings) are listed in the
  reading notes with their line.
- The counts go into the same canonical tables as the DOJ bulk file (through
  `records.canonical`), numbered like the DOJ's CNT_ORDER (cycle, event, count), so the engine,
  outputs, filings and workspace treat a sheet like a one-person DOJ file.
- Federal entries (a U.S. District Court, a U.S. agency) are kept with the county `FEDERAL`, so
  no state rule decides them and the federal screen can find them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from clearance.records import schema
from clearance.records.canonical import (
    EVENTS_SCHEMA,
    NOTES_SCHEMA,
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
from clearance.records.doj import FileStats
from clearance.records.places import FEDERAL, place_of
from clearance.records.rapsheet_text import (
    clean_text,
    digits,
    find_date,
    fix_section,
    read_date,
    read_sentence,
)

__all__ = ["RapSheet", "looks_like_rapsheet", "parse_rapsheet", "read_rapsheets"]

#: Quarantine reasons of a RAP sheet (the text before any detail).
REASON_UNKNOWN_EVENT = "unrecognised RAP-sheet event"
REASON_NO_HEADER = "RAP-sheet text that is no event"

# --------------------------------------------------------------------------------------------
# Line patterns. Lines are upper case (see `clean_text`); stray punctuation that scans leave at
# the start of a line (`.`, `*`, `'`) is allowed before every tag.

_LEAD = r"^[\s.*'`,]*"
_HEADERS: tuple[tuple[str, str], ...] = (
    ("supplemental_arrest", r"SUPP?LEMENTAL\s*ARR\w*\s*[:;]"),
    (
        "arrest",
        r"[A]?RR(?:EST)?\W{0,3}/\W{0,3}[DP]ET(?:AINED)?\W{0,3}/\W{0,3}C[I1L]TED?\W{0,3}[:;]",
    ),
    ("court", r"C?OUR[TI1](?:\s+ACTION)?\s*[:;]"),
    ("custody", r"CUSTODY[\s*]*[:;]?"),
    ("registration", r"R\s?E\s?G\s?I\s?S\s?T\s?R\s?A\s?T\s?I\s?O\s?N\s*[:;]"),
    ("probation", r"PROBATION\s*[:;]"),
    ("applicant", r"APPLICANT\s*[:;]"),
    ("deceased", r"DECEASED\s*[:;]?"),
)
_HEADER_RES = tuple((kind, re.compile(_LEAD + pattern)) for kind, pattern in _HEADERS)
#: A line that starts like an event header (`WORD:` or `WORD WORD:`) but is no known kind.
_OTHER_HEADER = re.compile(_LEAD + r"([A-Z][A-Z /&.-]{2,30}?)\s*[:;]")
#: Tags that are parts of an event, never a header of their own.
_FIELD_TAGS = (
    "NAM",
    "DOB",
    "CNT",
    "COM",
    "TOC",
    "DISPO",
    "CONV STATUS",
    "SEN",
    "ARR BY",
    "DCN",
    "CII",
    "SEX",
    "RAC",
    "FBI",
    "CDL",
    "SOC",
    "OCC",
    "HGT",
    "WGT",
    "EYE",
    "HAI",
    "POB",
    "PAGE",
    "RE",
    "WARRANT",
    "CRT",
    "CASE",
)

_STARS = re.compile(r"^[\s.,'`]*\*(?:[\s.,'`]*\*){2,4}[\s.,'`]*$")


class _CycleLine:
    """`* * * *`, also as OCR reads it (`x * @ &`, `*k* ke Kk *`): three to five tokens of one
    to three characters, one of them with an asterisk, no digit and no word among them."""

    @staticmethod
    def match(text: str) -> bool:
        if _STARS.match(text):
            return True
        tokens = text.split()
        return (
            3 <= len(tokens) <= 5
            and all(len(t) <= 3 for t in tokens)
            and any("*" in t for t in tokens)
            and not re.search(r"[0-9]|[A-Z]{3}", text)
            and "END" not in text
        )


_CYCLE_LINE = _CycleLine()
_LONE_STAR = re.compile(r"^[\s.,'`]*\*[\s.,'`]*$")
_END = re.compile(r"END\s+OF\s+MESSAGE")
_EVENT_LINE = re.compile(r"^[\s'.]*-(?:[\s'.]*-)+[\s'.]*$")
_PAGE_LINE = re.compile(r"^\s*(?:PAGE|PG\.?)\s*[0-9OIL]+(?:\s*(?:OF|/)\s*[0-9OIL]+)?\s*$")
_STRIKE_LINE = re.compile(r"FELONY\s+STRIKE")
_CNT = re.compile(
    _LEAD + r"CN[TI1L]\s*[:;.]\s*([0-9OIL]{1,3})(?:\s*-\s*([0-9OIL]{1,3}))?\b[\s.:-]*(.*)$"
)
_NAM = re.compile(r"NAM\s*[:;]\s*([0-9OIL]{2,3})")
_DOB_TAG = re.compile(r"DOB\s*[:;/]\s*[0-9OQDILSZBG.]{8,10}")
_TOC = re.compile(r"TOC\s*[:;]\s*([MFIN])\b")
_DISPO = re.compile(_LEAD + r"D\s?[I1L]\s?S\s?P\s?[O0]\s*[:;]\s*(.*)$")
_STATUS = re.compile(_LEAD + r"C[O0]NV\s*STAT\w*\s*[:;.]\s*(.*)$")
_SEN = re.compile(_LEAD + r"SEN\s*[:;]\s*(.*)$")
_COM = re.compile(_LEAD + r"COM\s*[:;]\s*(.*)$")
_CASE = re.compile(_LEAD + r"#\s*(.+)$")
_TAGGED = re.compile(_LEAD + r"[A-Z][A-Z ]{0,15}\s*[:;]")
_FLAG = re.compile(r"^\s*-[A-Z]")
_SENTENCING = re.compile(r"1170\s*\(H\)\s*PC\s*-\s*SENTENCING")
_DATE_ONLY = re.compile(r"^[\s.'`]*[0-9OQDILSZBG][0-9OQDILSZBG.]{6,10}[0-9OQDILSZBG][\s.'`]*$")
_DATED_DISPO = re.compile(
    r"^[\s.'`]*([0-9OQDILSZBG][0-9OQDILSZBG.]{6,10}[0-9OQDILSZBG])\s+(D\s?[I1L]\s?S\s?P\s?[O0]\s*[:;].*)$"
)
_SEE_COMMENT = re.compile(r"SEE\W*COMMENT\W*FOR\W*CHARGE")
_CHARGE_IN_COMMENT = re.compile(r"CHRG\s*[-:]?\s*(.+)$")
_SEN_IN_COMMENT = re.compile(r"(?:SEN\s*-?\s*X|XSEN\s*:)\s*(.+)$")
_ATTEMPT_AFTER = re.compile(r"^(\W*[0-9][0-9.]*(?:\s*\([0-9A-Z]{1,4}\))*)\s*[-/]\s*664\b(.*)$")
_SECTION_DASH = re.compile(r"^(\W*[0-9][0-9.]*(?:\s*\([0-9A-Z]{1,4}\))*)\s*[-|]\s*(?=[0-9])")


@dataclass
class Line:
    number: int
    text: str


@dataclass
class Update:
    """A dated entry under a court event: a later disposition, a new sentence, a new level."""

    line: int
    date: date | None
    dispositions: list[str] = field(default_factory=list)
    sentence: str | None = None
    status: str | None = None
    counts: list[int] = field(default_factory=list)


@dataclass
class Count:
    """One count of an event, as printed."""

    line: int
    numbers: list[int]
    case_number: str | None = None
    offense: str | None = None
    toc: str | None = None
    disposition: str | None = None
    status: str | None = None
    sentence: str | None = None
    flags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)


@dataclass
class Event:
    """One event of a cycle."""

    kind: str
    line: int
    lines: list[Line]
    date: date | None = None
    agency: str | None = None
    county: str | None = None
    federal: bool = False
    name_code: str | None = None
    toc: str | None = None
    #: A date was printed but could not be read (not merely absent).
    date_unreadable: bool = False
    counts: list[Count] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text.rstrip() for line in self.lines).strip("\n")


@dataclass
class Unrecognised:
    """Text of a cycle that is no event the reader knows: kept whole, with why."""

    line: int
    reason: str
    text: str


@dataclass
class Note:
    line: int
    kind: str
    detail: str


@dataclass
class RapSheet:
    """One parsed RAP sheet: the person, the cycles' events, what could not be read."""

    source: str
    cii: str | None
    dob: date | None
    sex: str | None
    names: dict[str, str]
    cycles: list[list[Event]]
    unrecognised: list[Unrecognised]
    notes: list[Note]
    has_personal_block: bool
    #: A date of birth was printed but could not be read.
    dob_unreadable: bool = False

    @property
    def name(self) -> str | None:
        return self.names.get("01") or next(iter(self.names.values()), None)

    @property
    def events(self) -> list[Event]:
        return [event for cycle in self.cycles for event in cycle]


# --------------------------------------------------------------------------------------------
# The sheet


def looks_like_rapsheet(text: str) -> bool:
    """Whether a text is a RAP sheet: a personal block or events between cycle lines."""
    head = clean_text(text[:200_000])
    has_cycles = any(_CYCLE_LINE.match(line) for line in head.splitlines())
    has_events = any(
        regex.match(line) for line in head.splitlines() for _, regex in _HEADER_RES[:3]
    )
    has_person = bool(re.search(r"CII\s*/|NAM\s*/\s*0", head))
    return (has_cycles and has_events) or (has_person and has_events)


def parse_rapsheet(text: str, source: str = "<text>") -> RapSheet:
    """Parse a RAP sheet's text. Never raises on content: what cannot be read is reported."""
    lines = [Line(i, t) for i, t in enumerate(clean_text(text).split("\n"), start=1)]
    notes: list[Note] = []
    lines = _without_page_furniture(lines, notes)
    preamble, cycles = _split_cycles(lines, notes)
    cii, dob, sex, names, found = _personal_block(preamble, notes)
    sheet = RapSheet(
        source=source,
        cii=cii,
        dob=dob,
        sex=sex,
        names=names,
        cycles=[],
        unrecognised=[],
        notes=notes,
        has_personal_block=found,
        dob_unreadable=dob is None
        and any(n.kind == "unreadable" and "date of birth" in n.detail for n in notes),
    )
    for cycle in cycles:
        events: list[Event] = []
        registration_cycle = False
        for piece in _split_events(cycle):
            if not any(line.text.strip() for line in piece):
                continue
            kind, header_index = _header_of(piece)
            if kind is None and registration_cycle:
                kind, header_index = "registration", None
            if kind is None or kind.startswith("?"):
                text = "\n".join(line.text.rstrip() for line in piece).strip("\n")
                reason = (
                    f"{REASON_UNKNOWN_EVENT}: {kind[1:]}"
                    if kind
                    else f"{REASON_NO_HEADER}: no event header"
                )
                first = next(line.number for line in piece if line.text.strip())
                sheet.unrecognised.append(Unrecognised(first, reason, text))
                continue
            if kind == "registration" and not events:
                registration_cycle = True
            events.append(_parse_event(kind, piece, header_index, notes))
        if events:
            sheet.cycles.append(events)
    return sheet


def _without_page_furniture(lines: list[Line], notes: list[Note]) -> list[Line]:
    """Page numbers and the header lines repeated at the top of every page are not part of the
    record: a page break can fall in the middle of a count. A line counts as a page header when
    it first appears before the first cycle and comes back later; structural lines never do."""
    first_cycle = next(
        (i for i, line in enumerate(lines) if _CYCLE_LINE.match(line.text)), len(lines)
    )
    seen = Counter(line.text.strip() for line in lines if line.text.strip())
    head = {
        line.text.strip()
        for line in lines[:first_cycle]
        if line.text.strip() and seen[line.text.strip()] > 1 and not _structural(line.text)
    }
    kept: list[Line] = []
    for line in lines:
        stripped = line.text.strip()
        if _PAGE_LINE.match(stripped) or (stripped in head and _after(line, lines, first_cycle)):
            continue
        kept.append(line)
    return kept


def _after(line: Line, lines: list[Line], first_cycle: int) -> bool:
    return first_cycle < len(lines) and line.number > lines[first_cycle].number


def _structural(text: str) -> bool:
    return bool(
        _CYCLE_LINE.match(text)
        or _EVENT_LINE.match(text)
        or _header_kind(text)
        or re.match(_LEAD + r"(?:CII|DOB|NAM|SEX)\b", text)
    )


def _split_cycles(lines: list[Line], notes: list[Note]) -> tuple[list[Line], list[list[Line]]]:
    """The preamble and each cycle's lines. A run of lines holding one `*` each is a cycle line
    too (a scan can break `* * * *` over lines); text after END OF MESSAGE is no record."""
    preamble: list[Line] = []
    cycles: list[list[Line]] = []
    current = preamble
    stars: list[Line] = []
    after_end: list[Line] = []
    for index, line in enumerate(lines):
        if _END.search(line.text):
            after_end = [x for x in lines[index + 1 :] if x.text.strip()]
            break
        if _LONE_STAR.match(line.text):
            stars.append(line)
            continue
        if len(stars) >= 3:
            current = []
            cycles.append(current)
        elif stars:
            current.extend(stars)
        stars = []
        if _CYCLE_LINE.match(line.text):
            current = []
            cycles.append(current)
            continue
        if _STRIKE_LINE.search(line.text):
            continue
        current.append(line)
    current.extend(stars)
    if after_end:
        notes.append(
            Note(
                after_end[0].number,
                "ignored",
                f"{len(after_end)} line(s) after END OF MESSAGE are not part of the record",
            )
        )
    # A sheet typed without a cycle line before its first event: the events start there.
    first_event = next((i for i, x in enumerate(preamble) if _header_kind(x.text)), None)
    if first_event is not None:
        start = first_event
        while start > 0 and re.match(_LEAD + r"NAM\s*[:;]", preamble[start - 1].text):
            start -= 1
        cycles.insert(0, preamble[start:])
        del preamble[start:]
    return preamble, cycles


def _personal_block(
    preamble: list[Line], notes: list[Note]
) -> tuple[str | None, date | None, str | None, dict[str, str], bool]:
    """CII, date of birth, sex and the numbered names of the personal block."""
    cii = dob = sex = None
    names: dict[str, str] = {}
    found = False
    in_names = False
    for line in preamble:
        text = line.text
        if m := re.search(r"CII\s*/\s*([A-Z]?\s*[0-9OQDILSZBG][0-9OQDILSZBG ]{5,11})", text):
            number = m.group(1).replace(" ", "")
            fixed = number[:1] + (digits(number[1:]) or number[1:])
            cii, found = fixed, True
            if fixed != number:
                notes.append(Note(line.number, "ocr_corrected", "CII number read with look-alikes"))
        if m := re.search(r"DOB\s*/\s*([0-9OQDILSZBG.]{8,10})", text):
            reading = read_date(m.group(1))
            dob, found = reading.value, True
            _note_reading(notes, line.number, "date of birth", reading)
        if m := re.search(r"SEX\s*/\s*([MFXU])\b", text):
            sex = m.group(1)
        if m := re.match(_LEAD + r"NAM\s*/\s*([0-9OIL]{2,3})\s+(.+?)\s*$", text):
            names[digits(m.group(1)) or m.group(1)] = _name(m.group(2))
            in_names, found = True, True
            continue
        if in_names and (m := re.match(r"^\s*([0-9]{2,3})\s+([A-Z][A-Z' ,.-]+?)\s*$", text)):
            names.setdefault(m.group(1), _name(m.group(2)))
            continue
        in_names = False
    return cii, dob, sex, names, found


def _name(raw: str) -> str:
    """`LAST, FIRST M` as the DOJ file writes names (`LAST,FIRST M`)."""
    return re.sub(r"\s*,\s*", ",", re.sub(r"\s+", " ", raw.strip()))


def _note_reading(notes: list[Note], line: int, what: str, reading: object) -> None:
    value = getattr(reading, "value", None)
    doubt = getattr(reading, "doubt", None)
    if doubt:
        notes.append(Note(line, "unreadable", f"{what}: {doubt}; left unknown"))
    elif getattr(reading, "corrected", False) and value is not None:
        notes.append(Note(line, "ocr_corrected", f"{what} read as {value.isoformat()}"))


# --------------------------------------------------------------------------------------------
# Events


#: Digits a scan puts in place of letters, undone where a word is expected (`C0URT:`).
_LETTERS = str.maketrans("015", "OIS")


def _header_kind(text: str) -> str | None:
    words = text[:40].translate(_LETTERS) + text[40:]
    for kind, regex in _HEADER_RES:
        if regex.match(text) or regex.match(words):
            return kind
    return None


def _header_of(piece: list[Line]) -> tuple[str | None, int | None]:
    """The kind of an event and the index of its header line. Lines before the header may only
    be a name or date-of-birth reference (`NAM:001`). An unknown `WORD:` header gives `?WORD`."""
    for index, line in enumerate(piece):
        text = line.text
        if not text.strip():
            continue
        kind = _header_kind(text)
        if kind:
            return kind, index
        if re.match(_LEAD + r"(?:NAM|DOB)\s*[:;]", text):
            continue
        other = _OTHER_HEADER.match(text)
        if other and other.group(1).strip() not in _FIELD_TAGS:
            return "?" + other.group(1).strip(), index
        return None, None
    return None, None


def _split_events(cycle: list[Line]) -> list[list[Line]]:
    """A cycle's events: separated by `- - - -` lines, or starting at a header line."""
    pieces: list[list[Line]] = [[]]
    for line in cycle:
        if _EVENT_LINE.match(line.text):
            pieces.append([])
            continue
        current = pieces[-1]
        if _header_kind(line.text) and any(_header_kind(x.text) for x in current):
            # A second header in the same piece starts a new event; any name reference just
            # before it belongs to it.
            moved: list[Line] = []
            while current and re.match(_LEAD + r"NAM\s*[:;]", current[-1].text):
                moved.insert(0, current.pop())
            pieces.append(moved)
        pieces[-1].append(line)
    return pieces


def _parse_event(kind: str, piece: list[Line], header: int | None, notes: list[Note]) -> Event:
    """Date, agency and counts of one event (see the module docstring)."""
    start = next(i for i, line in enumerate(piece) if line.text.strip())
    event = Event(
        kind=kind, line=piece[header if header is not None else start].number, lines=piece[start:]
    )
    body = piece[(header if header is not None else start - 1) + 1 :]
    head_rest = piece[header].text if header is not None else ""
    if header is not None:
        regex = dict(_HEADER_RES)[kind]
        found = regex.match(head_rest) or regex.match(
            head_rest[:40].translate(_LETTERS) + head_rest[40:]
        )
        assert found is not None
        head_rest = head_rest[found.end() :]
        if kind == "custody":
            head_rest = re.sub(r"^\s*[A-Z]+\b", "", head_rest)  # CUSTODY:JAIL
    zone = [Line(event.line, head_rest), *body] if header is not None else body
    index = _read_event_head(event, zone, notes)
    _read_counts(event, zone[index:], notes)
    if event.county is None and event.agency is not None and kind == "court":
        notes.append(
            Note(
                event.line,
                "unknown_county",
                f"no county known for {event.agency!r}: its convictions are decided in no county",
            )
        )
    return event


def _read_event_head(event: Event, zone: list[Line], notes: list[Note]) -> int:
    """Name reference, date, agency and type of charge before the first count; returns the
    index in `zone` of the first count line."""
    agency_pending = False
    first_count = len(zone)
    for index, line in enumerate(zone):
        text = line.text
        if _CNT.match(text):
            first_count = index
            break
        if m := _NAM.search(text):
            event.name_code = digits(m.group(1)) or m.group(1)
        if m := _TOC.search(text):
            event.toc = m.group(1)
        text = _TOC.sub(" ", _DOB_TAG.sub(" ", _NAM.sub(" ", text)))
        if event.date is None and event.agency is None and not agency_pending:
            found = find_date(text)
            if found is not None:
                reading, _, end = found
                event.date = reading.value
                event.date_unreadable = reading.value is None and "marked unknown" not in (
                    reading.doubt or ""
                )
                _note_reading(notes, line.number, "event date", reading)
                rest = text[end:].strip(" .'`-")
                if rest:
                    _set_agency(event, rest, line.number, notes)
                else:
                    agency_pending = True
                continue
            # A date too damaged to be read (`2O1?O315 CAPD OAKLAND`): the agency still is.
            if m := re.match(r"^\s*(\S{6,12})\s+(\S.*)$", text):
                token = m.group(1)
                if sum(c.isdigit() for c in token) >= 3 and not _TAGGED.match(text):
                    notes.append(
                        Note(
                            line.number,
                            "unreadable",
                            f"event date {token!r} cannot be read; left unknown",
                        )
                    )
                    _set_agency(event, m.group(2).strip(" .'`-"), line.number, notes)
                    event.date_unreadable = True
                    continue
        elif agency_pending and text.strip(" .'`-") and not _TAGGED.match(text):
            _set_agency(event, text.strip(" .'`-"), line.number, notes)
            agency_pending = False
    if event.date is None:
        notes.append(Note(event.line, "unreadable", f"{event.kind} event without a date"))
    return first_count


def _set_agency(event: Event, text: str, line: int, notes: list[Note]) -> None:
    agency = re.sub(r"\s+", " ", text).strip()
    event.agency = agency
    place = place_of(agency)
    event.county, event.federal = place.county, place.federal
    if place.doubt and place.county is not None:
        notes.append(Note(line, "place_corrected", place.doubt))
    if place.federal:
        notes.append(Note(line, "federal", f"federal entry kept for the federal screen: {agency}"))


def _read_counts(event: Event, lines: list[Line], notes: list[Note]) -> None:
    """Counts and the dated updates after them (a small state machine over the lines)."""
    count: Count | None = None
    update: Update | None = None
    part: str | None = None  # the field a continuation line belongs to
    for line in lines:
        text = line.text
        if not text.strip():
            part = None
            continue
        if m := _CNT.match(text):
            numbers = _count_numbers(m.group(1), m.group(2))
            if update is not None:
                update.counts.extend(numbers)
                continue
            count = Count(line=line.number, numbers=numbers)
            event.counts.append(count)
            rest = m.group(3).strip()
            if rest.startswith("#"):
                count.case_number = _case_number(rest[1:])
            elif re.match(r"^[0-9]", rest):
                count.offense = rest  # `CNT:01 11359 HS-POSSESS ...` on one line
            elif rest:
                count.other.append(rest)
            part = None
            continue
        if count is None:
            # Event-level text before any count stays in the event's text.
            continue
        dated = _DATED_DISPO.match(text)
        if dated and (event.kind == "court" or update is not None):
            # `20130620 DISPO:CONV SET ASIDE ...`: a date and its disposition on one line.
            reading = read_date(dated.group(1))
            _note_reading(notes, line.number, "update date", reading)
            update = Update(line=line.number, date=reading.value)
            count.updates.append(update)
            part = _read_update_line(update, dated.group(2), None)
            continue
        if _DATE_ONLY.match(text) and (event.kind == "court" or update is not None):
            reading = read_date(text.strip(" .'`"))
            _note_reading(notes, line.number, "update date", reading)
            update = Update(line=line.number, date=reading.value)
            count.updates.append(update)
            part = None
            continue
        if update is not None:
            part = _read_update_line(update, text, part)
            continue
        part = _read_count_line(count, text, part, event)
    _attach_updates(event)
    for count in event.counts:
        if count.offense is not None and fix_section(count.offense)[1]:
            shown = (offense_text(count) or "").split("-")[0].strip()
            notes.append(Note(count.line, "ocr_corrected", f"offense section read as {shown!r}"))
        if event.kind in ("applicant", "deceased"):
            continue
        if count.offense is None and not count.comments:
            notes.append(Note(count.line, "no_section", "count without an offense line"))
        elif not re.match(r"^\W*[0-9]", offense_text(count) or "0"):
            notes.append(
                Note(count.line, "no_section", f"count's offense has no section: {count.offense!r}")
            )


def _count_numbers(first: str, last: str | None) -> list[int]:
    a = int(digits(first) or 0)
    b = int(digits(last) or 0) if last else a
    if b < a or b - a > 99:
        b = a
    return list(range(a, b + 1))


def _case_number(raw: str) -> str | None:
    """`#45      6` is case 456; trailing punctuation and spaces are scanning noise."""
    value = re.sub(r"\s+", "", raw).strip(".:;,-'`")
    return value or None


def _read_count_line(count: Count, text: str, part: str | None, event: Event) -> str | None:
    stripped = text.strip()
    if m := _DISPO.match(text):
        if count.disposition is None:
            count.disposition = m.group(1).strip()
        else:
            count.other.append(stripped)
        return "dispo"
    if m := _STATUS.match(text):
        count.status = m.group(1).strip(" .")
        return None
    if m := _SEN.match(text):
        count.sentence = m.group(1).strip()
        return "sentence"
    if m := _COM.match(text):
        count.comments.append(m.group(1).strip())
        return "comment"
    if m := _TOC.search(text):
        count.toc = m.group(1)
        return None
    if count.offense is None and (m := _CASE.match(text)) and count.case_number is None:
        count.case_number = _case_number(m.group(1))
        return None
    if _FLAG.match(text) and count.offense is None:
        count.flags.extend(f.strip() for f in re.findall(r"-[A-Z][A-Z ]*?(?=\s{2,}-|$)", stripped))
        return None
    if _SENTENCING.search(text):
        return None
    if part == "sentence" and not _TAGGED.match(text) and count.sentence is not None:
        count.sentence += " " + stripped
        return "sentence"
    if count.offense is None and count.disposition is None and not _TAGGED.match(text):
        count.offense = stripped.strip(" .'`*")
        return "offense"
    count.other.append(stripped)
    return part


def _read_update_line(update: Update, text: str, part: str | None) -> str | None:
    if m := _DISPO.match(text):
        update.dispositions.append(m.group(1).strip())
        return "dispo"
    if m := _STATUS.match(text):
        update.status = m.group(1).strip(" .")
        return None
    if m := _SEN.match(text):
        update.sentence = m.group(1).strip()
        return "sentence"
    if part == "sentence" and update.sentence is not None and not _TAGGED.match(text):
        update.sentence += " " + text.strip()
        return "sentence"
    return None


def _attach_updates(event: Event) -> None:
    """An update names its counts (`CNT:01` under the date), or belongs to the count it follows;
    an update after the last count that names none concerns the whole case (a PC 1203.4 relief
    or a modified sentence is granted for the case): every count gets it."""
    if not event.counts:
        return
    last = event.counts[-1]
    moved = [u for u in last.updates if not u.counts]
    if moved:
        last.updates = [u for u in last.updates if u.counts]
        event.updates.extend(moved)
    for count in event.counts:
        for u in list(count.updates):
            if u.counts:
                count.updates.remove(u)
                for other in event.counts:
                    if set(other.numbers) & set(u.counts):
                        other.updates.append(u)
    for count in event.counts:
        count.updates.extend(event.updates)
        count.updates.sort(key=lambda u: (u.date or date.min, u.line))


# --------------------------------------------------------------------------------------------
# To the canonical tables


_STEP_TYPES = {
    "arrest": "arrest",
    "court": "court",
    "registration": "registration",
    "deceased": "deceased",
    "probation": "probation",
    "custody": "custody",
    "supplemental_arrest": "other",
    "applicant": "other",
}


def offense_text(count: Count) -> str | None:
    """The offense as the canonical `offense_raw`: the charge line, or the charge named in a
    comment (`SEE COMMENT FOR CHARGE` ... `COM: CHRG 487(A)-664 PC`), with attempts written
    after their target (`11359/664`) put first, and combined sections joined by `/`."""
    text = count.offense
    if text is None or _SEE_COMMENT.search(text):
        charged = next(
            (m.group(1) for c in count.comments if (m := _CHARGE_IN_COMMENT.search(c))), None
        )
        text = charged.strip() if charged else text
    if text is None:
        return None
    text, _ = fix_section(text)
    if m := _ATTEMPT_AFTER.match(text):
        text = f"664/{m.group(1).strip()}{m.group(2)}"
    text = _SECTION_DASH.sub(r"\1/", text).replace("|", "/")
    attempted = any("ATTEMPT" in f for f in count.flags)
    if attempted and not re.match(r"^\W*664", text):
        text = f"664/{text.lstrip(' ./-')}"
    return text


@dataclass(frozen=True)
class _Outcome:
    disposition: str | None
    disposition_text: str | None
    level: str
    sentence: tuple[SentencePart, ...]
    sentence_start: date | None


def _outcome(count: Count, event: Event) -> _Outcome:
    """The count's disposition, level and sentence after every update, in date order."""
    text = count.disposition
    disposition = disposition_of(text)
    level = level_of(count.status, count.toc)
    sentence_text = count.sentence or next(
        (m.group(1) for c in count.comments if (m := _SEN_IN_COMMENT.search(c))), None
    )
    sentence = read_sentence(sentence_text) if sentence_text else ()
    start = event.date
    for update in count.updates:
        for entry in update.dispositions:
            upper = entry.upper()
            relief_1118 = "11361.8" in upper
            if relief_1118 and re.search(r"REDUC|REDESIG|MISD|INFRAC", upper):
                level = "infraction" if "INFRAC" in upper else "misdemeanor"
            elif relief_1118 and re.search(r"DISM|SEAL", upper):
                disposition, text = "dismissed", entry
            elif re.search(r"17\s*\(\s*B\s*\)", upper) and "REDUC" in upper:
                level = "misdemeanor"
            elif disposition_of(entry) == "set_aside" and disposition in ("convicted", None):
                disposition, text = "set_aside", entry
            elif disposition_of(entry) in ("convicted", "dismissed", "acquitted"):
                disposition, text = disposition_of(entry), entry
        if update.status:
            level = level_of(update.status) if level_of(update.status) != "unknown" else level
        if update.sentence:
            sentence = read_sentence(update.sentence)
            start = update.date or start
    return _Outcome(disposition, text, level, sentence, start)


def to_records(sheet: RapSheet, source_bytes: int = 0) -> SourceRecords:
    """The sheet as canonical tables: one person, one count row per printed count (a range
    `CNT:001-003` is three counts), one row for an event without counts."""
    subject_id = stable_id(
        "RAP",
        sheet.cii or "",
        "" if sheet.cii else (sheet.name or ""),
        "" if sheet.cii else (sheet.dob.isoformat() if sheet.dob else ""),
        "" if (sheet.cii or sheet.name) else sheet.source,
    )
    rows: list[CountRow] = []
    events: list[dict[str, object]] = []
    for c_index, cycle in enumerate(sheet.cycles, start=1):
        dated = [e.date for e in cycle if e.date is not None]
        cycle_date = cycle[0].date or (min(dated) if dated else None)
        cycle_unreadable = cycle_date is None and any(e.date_unreadable for e in cycle)
        for e_index, event in enumerate(cycle, start=1):
            prefix = f"{min(c_index, 999):03d}{min(e_index, 999):03d}"
            events.append(_event_row(sheet, subject_id, prefix, event, "parsed"))
            used: set[int] = set()
            printed = [n for count in event.counts for n in count.numbers]
            next_free = 1
            printed_counts: list[Count | None] = list(event.counts) or [None]
            for count in printed_counts:
                numbers = count.numbers if count is not None else [1]
                for number in numbers:
                    if not 1 <= number <= 999 or number in used or printed.count(number) > 1:
                        while next_free in used or next_free in printed:
                            next_free += 1
                        number = next_free
                    used.add(number)
                    row = _row(sheet, subject_id, prefix, number, event, count, cycle_date)
                    row.offense_date_unreadable = cycle_unreadable
                    rows.append(row)
    for item in sheet.unrecognised:
        events.append(
            {
                "source_file": sheet.source,
                "source_line": item.line,
                "subject_id": subject_id,
                "event_id": None,
                "kind": "unrecognised",
                "event_date": None,
                "agency": None,
                "county": None,
                "federal": False,
                "counts": 0,
                "status": item.reason,
                "text": item.text,
            }
        )
    counts = build_counts(rows)
    person = Person(
        subject_id=subject_id,
        cii_number=sheet.cii,
        name=sheet.name,
        dob=sheet.dob,
        sex=sheet.sex,
        dob_unreadable=sheet.dob_unreadable,
    )
    subjects = build_subjects([person], counts)
    quarantine = pl.DataFrame(
        {
            "source_file": [sheet.source] * len(sheet.unrecognised),
            "source_line": [u.line for u in sheet.unrecognised],
            "reason": [u.reason for u in sheet.unrecognised],
            "raw": [u.text for u in sheet.unrecognised],
        },
        schema=schema.QUARANTINE_SCHEMA,
    )
    notes = pl.DataFrame(
        {
            "source_file": [sheet.source] * len(sheet.notes),
            "source_line": [n.line for n in sheet.notes],
            "kind": [n.kind for n in sheet.notes],
            "detail": [n.detail for n in sheet.notes],
        },
        schema=NOTES_SCHEMA,
    )
    loaded = len(sheet.events)
    stats = FileStats(
        path=sheet.source,
        bytes=source_bytes,
        rows_read=loaded + len(sheet.unrecognised),
        rows_loaded=loaded,
        rows_quarantined=len(sheet.unrecognised),
    )
    return SourceRecords(
        subjects=subjects,
        counts=counts,
        quarantine=quarantine,
        files=[stats],
        events=pl.DataFrame(events, schema=EVENTS_SCHEMA),
        notes=notes,
        source_format="rapsheet",
    )


def _event_row(
    sheet: RapSheet, subject_id: str, prefix: str, event: Event, status: str
) -> dict[str, object]:
    return {
        "source_file": sheet.source,
        "source_line": event.line,
        "subject_id": subject_id,
        "event_id": prefix,
        "kind": event.kind,
        "event_date": event.date,
        "agency": event.agency,
        "county": event.county,
        "federal": event.federal,
        "counts": sum(len(c.numbers) for c in event.counts),
        "status": status,
        "text": event.text,
    }


def _row(
    sheet: RapSheet,
    subject_id: str,
    prefix: str,
    number: int,
    event: Event,
    count: Count | None,
    cycle_date: date | None,
) -> CountRow:
    case = None
    if count is not None:
        case = count.case_number or next(
            (c.case_number for c in event.counts if c.case_number), None
        )
    outcome = (
        _outcome(count, event)
        if count is not None
        else _Outcome(None, None, level_of(None, event.toc), (), event.date)
    )
    return CountRow(
        subject_id=subject_id,
        count_id=f"{prefix}{number:03d}000",
        step_type=_STEP_TYPES[event.kind],
        event_date=event.date,
        offense_date=cycle_date,
        county=FEDERAL if event.federal else event.county,
        court_case_number=case,
        offense_raw=offense_text(count) if count is not None else None,
        disposition=outcome.disposition,
        level=outcome.level,
        source_file=sheet.source,
        source_line=count.line if count is not None else event.line,
        sentence=outcome.sentence,
        sentence_start=outcome.sentence_start,
        federal=event.federal,
    )


# --------------------------------------------------------------------------------------------
# Files


def read_rapsheets(paths: Sequence[Path | str]) -> SourceRecords:
    """Read RAP sheets (`.txt`, text or scanned `.pdf`), one person each, into one set of
    canonical tables. A person whose sheet is given twice is read once."""
    from clearance.records.documents import sheet_text
    from clearance.records.merge import combine

    parts: list[SourceRecords] = []
    for path in dict.fromkeys(Path(p) for p in paths):
        text, size = sheet_text(path)
        sheet = parse_rapsheet(text, source=str(path))
        parts.append(to_records(sheet, size))
    return combine(parts)
