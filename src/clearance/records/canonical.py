"""Canonical tables from sources read one record at a time (RAP sheets, court exports).

The DOJ reader works on millions of rows with Polars expressions. A RAP sheet is one person and
a court export a few thousand cases, read into plain Python rows first because their structure
(indented events, mapped columns) is not columnar. This module turns those rows into the same
`subjects` and `counts` tables the DOJ reader returns, so the engine, outputs, filings and the
workspace need no change. The vocabulary (dispositions, levels, step types) is mapped here the
same way the DOJ reader maps its columns, and sentence ends are computed the same way, so the
same history read from two sources gets the same decision.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from clearance.records import schema
from clearance.records.doj import FileStats, Records
from clearance.records.offenses import OFFENSE_SCHEMA, parse_offenses


@dataclass(frozen=True)
class SentencePart:
    """One part of a sentence: `012 MONTHS PROBATION` is (0, 12, 0, "PROBATION")."""

    years: int
    months: int
    days: int
    kind: str

    @property
    def empty(self) -> bool:
        return not (self.years or self.months or self.days)


@dataclass
class CountRow:
    """One count at one step, as a source gives it, before it becomes a canonical row."""

    subject_id: str
    count_id: str
    step_type: str
    event_date: date | None
    offense_date: date | None
    county: str | None
    court_case_number: str | None
    offense_raw: str | None
    disposition: str | None
    level: str
    source_file: str
    source_line: int
    #: Sentence parts counted from `sentence_start` (the event date, or the date of the update
    #: that imposed a new sentence).
    sentence: tuple[SentencePart, ...] = ()
    sentence_start: date | None = None
    cycle_age: int | None = None
    #: The agency or court is federal (a U.S. District Court, a U.S. agency).
    federal: bool = False
    #: A cycle date was printed but could not be read (not merely absent).
    offense_date_unreadable: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Person:
    """A person's identity as a source gives it."""

    subject_id: str
    cii_number: str | None
    name: str | None
    dob: date | None
    sex: str | None
    #: A date of birth was printed but could not be read (not merely absent).
    dob_unreadable: bool = False


class SourceRecords(Records):
    """`Records` with what a non-DOJ source adds: its events (with federal and unrecognised
    entries marked) and its reading notes (values corrected or doubtful). Both are tables that
    the CLI prints and the run folder keeps; the engine reads only the canonical tables."""

    def __init__(
        self,
        subjects: pl.DataFrame,
        counts: pl.DataFrame,
        quarantine: pl.DataFrame,
        files: list[FileStats],
        events: pl.DataFrame | None = None,
        notes: pl.DataFrame | None = None,
        source_format: str = "",
    ) -> None:
        super().__init__(subjects=subjects, counts=counts, quarantine=quarantine, files=files)
        self.events = events if events is not None else pl.DataFrame(schema=EVENTS_SCHEMA)
        self.notes = notes if notes is not None else pl.DataFrame(schema=NOTES_SCHEMA)
        self.source_format = source_format
        #: What reading and merging the sources did (`records.sources.SourcesRead`), set by
        #: `read_sources`; kept here so it travels with the records through a pipeline.
        self.read: object | None = None


#: Reading notes: a value read with a correction, or left unknown because it was doubtful.
NOTES_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "kind": pl.String(),
    "detail": pl.String(),
}

#: One row per event a RAP sheet holds (court exports: one per case), parsed or not.
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "subject_id": pl.String(),
    "event_id": pl.String(),
    "kind": pl.String(),
    "event_date": pl.Date(),
    "agency": pl.String(),
    "county": pl.String(),
    "federal": pl.Boolean(),
    "counts": pl.Int32(),
    "status": pl.String(),
    "text": pl.String(),
}


def stable_id(prefix: str, *parts: str | None) -> str:
    """An id that is the same for the same identity and says nothing about it (a hash)."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}{digest[:12].upper()}"


def disposition_of(text: str | None) -> str | None:
    """The canonical disposition of a disposition text, as the DOJ reader maps DISP_DESCR."""
    if text is None or not text.strip():
        return None
    d = text.strip().upper()
    if "SET ASIDE" in d or "1203.4" in d:
        return "set_aside"
    # A scan's zero for the letter O (`C0NVICTED`) is undone in the leading word only.
    head = re.sub(r"\s+", "", d)[:12].replace("0", "O")
    if head.startswith("CONVICTED"):
        return "convicted"
    if head.startswith("DISMISSED"):
        return "dismissed"
    if head.startswith("ACQUITTED"):
        return "acquitted"
    return "other"


def level_of(status: str | None, toc: str | None = None) -> str:
    """Conviction level from a status text (FELONY...), else the type of charge (F/M/I)."""
    s = (status or "").strip().upper()
    for prefix, level in (("FEL", "felony"), ("MIS", "misdemeanor"), ("INF", "infraction")):
        if s.startswith(prefix):
            return level
    t = (toc or "").strip().upper()[:1]
    return {"F": "felony", "M": "misdemeanor", "I": "infraction"}.get(t, "unknown")


def _add(start: date, part: SentencePart) -> date:
    """`start` plus a part on the calendar (31 January plus a month is 28 or 29 February)."""
    months = start.month - 1 + part.months + 12 * part.years
    year, month = start.year + months // 12, months % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    shifted = date(year, month, min(start.day, last))
    return date.fromordinal(shifted.toordinal() + part.days)


def sentence_end(start: date | None, parts: tuple[SentencePart, ...]) -> date | None:
    """When a sentence ends: when its longest-running part ends, counted from its start. Parts
    run together (jail as a condition of probation is the usual pair), so they are not added
    up (prop64.md section 2; the DOJ reader folds a count's sentence rows the same way). None
    when there is no start; the start itself when no part has a length."""
    if start is None:
        return None
    return max((_add(start, part) for part in parts if not part.empty), default=start)


def _total(start: date, parts: tuple[SentencePart, ...]) -> date:
    """`start` plus every part's length, one after the other."""
    total = SentencePart(
        sum(p.years for p in parts), sum(p.months for p in parts), sum(p.days for p in parts), ""
    )
    return _add(start, total)


def consecutive_end(
    start: date | None, parts: tuple[SentencePart, ...], end: date | None
) -> date | None:
    """The end when prison terms are served one after the other (a policy switch reads it):
    the prison parts added up from the start, if that is later than `end`."""
    prison = tuple(p for p in parts if p.kind == "PRISON" and not p.empty)
    if start is None or not prison:
        return end
    added = _total(start, prison)
    return max(d for d in (end, added) if d is not None)


def build_counts(rows: list[CountRow]) -> pl.DataFrame:
    """The canonical counts table of some rows, typed as `schema.COUNTS_SCHEMA`."""
    if not rows:
        return schema.empty(schema.COUNTS_SCHEMA)
    ends = [sentence_end(r.sentence_start or r.event_date, r.sentence) for r in rows]
    frame = pl.DataFrame(
        {
            "subject_id": [r.subject_id for r in rows],
            "count_id": [r.count_id for r in rows],
            "cycle_id": [r.count_id[:3] for r in rows],
            "event_id": [r.count_id[:6] for r in rows],
            "step_type": [r.step_type for r in rows],
            "event_date": [r.event_date for r in rows],
            "offense_date": [r.offense_date for r in rows],
            "cycle_age": [r.cycle_age for r in rows],
            "county": [r.county for r in rows],
            "court_case_number": [r.court_case_number for r in rows],
            "offense_raw": [r.offense_raw for r in rows],
            "disposition": [r.disposition for r in rows],
            "level": [r.level for r in rows],
            "sentence_end": [
                end if end is not None else r.event_date for end, r in zip(ends, rows, strict=True)
            ],
            "source_file": [r.source_file for r in rows],
            "source_line": [r.source_line for r in rows],
        },
        schema_overrides={
            "event_date": pl.Date,
            "offense_date": pl.Date,
            "sentence_end": pl.Date,
            "cycle_age": pl.Int32,
            "source_line": pl.Int64,
            "county": pl.String,
            "court_case_number": pl.String,
            "offense_raw": pl.String,
            "disposition": pl.String,
        },
    )
    offenses = parse_offenses(frame["offense_raw"])
    frame = pl.concat([frame, offenses], how="horizontal").with_columns(
        (pl.col("sentence_end") - pl.col("event_date"))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("sentence_days"),
        pl.lit(1, dtype=pl.Int32).alias("source_rows"),
        pl.concat_list(pl.col("source_line")).alias("source_lines"),
    )
    assert set(OFFENSE_SCHEMA) <= set(frame.columns)
    extra = {
        "federal": pl.Series([r.federal for r in rows], dtype=pl.Boolean),
        "offense_date_unreadable": pl.Series(
            [r.offense_date_unreadable for r in rows], dtype=pl.Boolean
        ),
        "sentence_end_consecutive": pl.Series(
            [
                consecutive_end(r.sentence_start or r.event_date, r.sentence, end)
                for r, end in zip(rows, ends, strict=True)
            ],
            dtype=pl.Date,
        ),
        "source_elsewhere": pl.Series([[] for _ in rows], dtype=pl.List(pl.Int64)),
    }
    return _typed(frame.with_columns(v.alias(k) for k, v in extra.items()), schema.COUNTS_SCHEMA)


def _typed(frame: pl.DataFrame, shape: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame with exactly the columns of `shape`, in order: a column the canonical tables
    gain that these sources do not carry is null (false for flags)."""
    columns = []
    for name, dtype in shape.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype))
        elif dtype == pl.Boolean():
            columns.append(pl.lit(False, dtype=pl.Boolean).alias(name))
        else:
            columns.append(pl.lit(None).cast(dtype).alias(name))
    return frame.select(columns)


def build_subjects(people: list[Person], counts: pl.DataFrame) -> pl.DataFrame:
    """The canonical subjects table: identity, and the flags read from the record."""
    if not people:
        return schema.empty(schema.SUBJECTS_SCHEMA)
    deceased = set(counts.filter(pl.col("step_type") == "deceased")["subject_id"].to_list())
    registered = set(
        counts.filter((pl.col("step_type") == "registration") & (pl.col("section") == "290"))[
            "subject_id"
        ].to_list()
    )
    frame = pl.DataFrame(
        {
            "subject_id": [p.subject_id for p in people],
            "cii_number": [p.cii_number for p in people],
            "name": [p.name for p in people],
            "dob": [p.dob for p in people],
            "sex": [p.sex for p in people],
            "deceased": [p.subject_id in deceased for p in people],
            "pc290_registrant": [p.subject_id in registered for p in people],
            "dob_unreadable": [p.dob_unreadable for p in people],
        },
        schema_overrides={"dob": pl.Date},
    )
    return _typed(frame, schema.SUBJECTS_SCHEMA)
