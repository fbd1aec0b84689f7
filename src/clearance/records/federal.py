"""Federal cases: the documented case-list CSV, and the federal entries of the other inputs.

State relief cannot reach a federal conviction, so federal counts are kept in a table of their
own (`FEDERAL_SCHEMA`), one row per count, which the pardon rules (`law/federal.py`) decide.
Rows come from three places:

1. **The federal case list** (docs/federal.md): a CSV with a header, as clinics and federal
   defenders export from court dockets, with at least `person_id, name, dob, citizenship, court,
   docket, statute, offense_date, disposition, disposition_date, sentence` (optional:
   `description`, `count`, `agency`). A malformed row (wrong number of fields, no person_id, a
   date that is not a date, a citizenship or disposition outside the documented values) goes
   to quarantine with its file, line and reason: rows read = loaded + quarantined.
2. **RAP sheets**: events of a U.S. agency or a U.S. District Court (county `FEDERAL`, see
   `records.places`). A cycle with a federal court event gives that event's counts; a cycle
   with only an arrest gives charged counts.
3. **DOJ bulk files**: counts whose county is a federal agency or whose offense cites the U.S.
   Code or the CFR.

A case list is a few thousand rows: the CSV is split by the standard library's C reader, and
everything after (validation, dates, statutes, sentences) is columnar.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from clearance.records.chunks import ReadError
from clearance.records.doj import FileStats, Records
from clearance.records.federal_statutes import STATUTE_SCHEMA, parse_statutes
from clearance.records.places import FEDERAL, is_federal
from clearance.records.schema import QUARANTINE_SCHEMA

#: The documented columns of the case list, in order.
CASE_LIST_COLUMNS: tuple[str, ...] = (
    "person_id", "name", "dob", "citizenship", "court", "docket", "statute", "offense_date",
    "disposition", "disposition_date", "sentence",
)  # fmt: skip
#: Columns a case list may add.
OPTIONAL_COLUMNS: tuple[str, ...] = ("description", "count", "agency")
#: Without these a row cannot be screened at all.
REQUIRED_COLUMNS: tuple[str, ...] = ("person_id", "statute")

#: Header spellings seen in docket exports, read as the documented names.
_ALIASES = {
    "subject_id": "person_id", "id": "person_id", "client_id": "person_id",
    "defendant": "name", "full_name": "name", "date_of_birth": "dob", "birth_date": "dob",
    "citizenship_status": "citizenship", "district": "court", "court_district": "court",
    "docket_number": "docket", "case_number": "docket", "case": "docket",
    "statute_of_conviction": "statute", "charge": "statute", "code_section": "statute",
    "offense": "description", "offense_description": "description", "date_of_offense":
    "offense_date", "conviction_date": "disposition_date", "count_number": "count",
}  # fmt: skip

CITIZENSHIP = ("citizen", "lpr", "unlawfully_present", "unknown")
DISPOSITIONS = ("convicted", "charged", "dismissed", "pending")
_CITIZENSHIP_WORDS = {
    "us_citizen": "citizen", "u.s._citizen": "citizen", "united_states_citizen": "citizen",
    "naturalized": "citizen", "naturalized_citizen": "citizen",
    "permanent_resident": "lpr", "lawful_permanent_resident": "lpr", "green_card": "lpr",
    "undocumented": "unlawfully_present", "not_lawfully_present": "unlawfully_present",
    "unlawful": "unlawfully_present",
}  # fmt: skip
_DISPOSITION_WORDS = {
    "guilty": "convicted", "conviction": "convicted", "plea": "convicted",
    "guilty_plea": "convicted", "charge": "charged", "indicted": "charged",
    "arrested": "charged", "open": "pending", "acquitted": "dismissed", "not_guilty":
    "dismissed", "dismissal": "dismissed",
}  # fmt: skip

#: One row per federal count, from any source.
FEDERAL_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "name": pl.String(),
    "dob": pl.Date(),
    "citizenship": pl.String(),
    "court": pl.String(),
    "docket": pl.String(),
    "count": pl.String(),
    "statute_raw": pl.String(),
    "description": pl.String(),
    "offense_date": pl.Date(),
    "disposition": pl.String(),
    "disposition_date": pl.Date(),
    "sentence": pl.String(),
    "sentence_months": pl.Int32(),
    "sentence_life": pl.Boolean(),
    "origin": pl.String(),
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    **STATUTE_SCHEMA,
}


@dataclass
class FederalRead:
    """Federal counts of the inputs, the rows set aside, and the accounting per file."""

    counts: pl.DataFrame
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    files: list[FileStats] = field(default_factory=list)
    #: Path -> kind read (`federal`, or the kind of the other reader).
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def _column_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9.]+", "_", text.strip().lower().lstrip("\ufeff")).strip("_")
    return _ALIASES.get(name, name)


def is_case_list(path: Path) -> bool:
    """True when the file is a CSV whose header names the case list's person or statute (one
    without the other is then refused by `read_case_list` with the column it lacks)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b" or head[:5] == b"%PDF-" or head[:4] == b"PK\x03\x04":
        return False
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    if not first:
        return False
    delimiter = "\t" if first[0].count("\t") > first[0].count(",") else ","
    names = {_column_name(c) for c in next(csv.reader(first, delimiter=delimiter), [])}
    if "record_id" in names or "cnt_order" in names:
        return False  # a DOJ bulk file's header
    return bool(set(REQUIRED_COLUMNS) & names)


def _decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (a byte-order mark is dropped), else Latin-1."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _date_expr(column: str) -> tuple[pl.Expr, pl.Expr]:
    """(the date, a flag: the text is there but is not a date). YYYY-MM-DD as documented; the
    forms docket exports also use (MM/DD/YYYY, YYYY/MM/DD, YYYYMMDD) are read too."""
    text = pl.col(column).str.strip_chars()
    parsed = pl.coalesce(
        text.str.to_date(form, strict=False)
        for form in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d")
    )
    bad = text.is_not_null() & (text != "") & parsed.is_null()
    return parsed, bad


#: Leading words of a disposition as docket exports write them (`Convicted - plea`,
#: `Dismissed on motion`), read as the documented value.
_DISPOSITION_PREFIXES = (
    ("convicted", "convicted"), ("guilty", "convicted"), ("dismiss", "dismissed"),
    ("acquit", "dismissed"), ("not_guilty", "dismissed"), ("charged", "charged"),
    ("indicted", "charged"), ("pending", "pending"),
)  # fmt: skip


def _vocabulary(
    column: str,
    words: dict[str, str],
    allowed: tuple[str, ...],
    prefixes: tuple[tuple[str, str], ...] = (),
) -> pl.Expr:
    """The documented value of a column: as written, a known synonym, or (for `prefixes`) the
    value its leading word names; null for anything else (the row is quarantined)."""
    key = (
        pl.col(column)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(r"[^a-z.]+", "_")
        .str.strip_chars("_")
    )
    value = (
        pl.when(key.is_in(list(allowed)))
        .then(key)
        .otherwise(key.replace_strict(words, default=None))
    )
    for prefix, meaning in prefixes:
        value = value.fill_null(pl.when(key.str.starts_with(prefix)).then(pl.lit(meaning)))
    return value


_SENTENCE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(YEARS?|YRS?|Y|MONTHS?|MOS?|M|DAYS?|DYS?|D)\b")


def sentence_months(text: str | None) -> tuple[int | None, bool]:
    """(months of custody, life) of a sentence text: `60 months`, `5 years`, `10 years 6
    months`, `24 MONTHS PRISON, 3 YEARS SUPERVISED RELEASE` (release and probation are not
    custody), `time served` (0), `life`. None when nothing is read."""
    if text is None or not text.strip():
        return None, False
    upper = text.upper()
    if re.search(r"\bLIFE\b", upper):
        return None, True
    total = 0.0
    seen = False
    for part in re.split(r"[,;+]|\bAND\b|\bFOLLOWED BY\b", upper):
        if re.search(r"PROBATION|SUPERVISED|RELEASE|FINE|\$|RESTITUTION|COMMUNITY", part):
            seen = seen or bool(_SENTENCE_PART.search(part))
            continue
        for number, unit in _SENTENCE_PART.findall(part):
            seen = True
            value = float(number)
            total += (
                value * 12 if unit.startswith("Y") else value / 30.4 if unit[0] == "D" else value
            )
    if "TIME SERVED" in upper or "NO CUSTODY" in upper:
        seen = True
    return (round(total), False) if seen else (None, False)


def _with_sentences(frame: pl.DataFrame) -> pl.DataFrame:
    """`sentence_months` and `sentence_life` from `sentence`, each distinct text read once."""
    texts = frame.select("sentence").unique()
    read = [sentence_months(t) for t in texts["sentence"]]
    table = texts.with_columns(
        pl.Series("sentence_months", [m for m, _ in read], dtype=pl.Int32),
        pl.Series("sentence_life", [life for _, life in read], dtype=pl.Boolean),
    )
    return frame.drop("sentence_months", "sentence_life", strict=False).join(
        table, on="sentence", how="left", nulls_equal=True, maintain_order="left"
    )


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """Statutes and sentences read, columns typed and ordered as `FEDERAL_SCHEMA`."""
    if "sentence_months" not in frame.columns or frame["sentence_months"].null_count() == (
        frame.height
    ):
        frame = _with_sentences(frame)
    frame = parse_statutes(frame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in FEDERAL_SCHEMA.items())


def empty_federal() -> pl.DataFrame:
    return pl.DataFrame(schema=FEDERAL_SCHEMA)


def read_case_list(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, FileStats]:
    """One case-list CSV -> (federal counts, quarantine, accounting)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{path}: cannot read ({exc.strerror})") from None
    stats = FileStats(path=str(path), bytes=len(data), header=True)
    text, stats.encoding = _decode(data)
    first = text.splitlines()[:1]
    if not first:
        raise ReadError(f"{path}: empty file, expected a federal case list with a header")
    delimiter = "\t" if first[0].count("\t") > first[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_column_name(c) for c in next(reader)]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReadError(
            f"{path}: not a federal case list: the header lacks {', '.join(missing)} "
            f"(expected {', '.join(CASE_LIST_COLUMNS)})"
        )
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str, str]] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not "".join(record).strip():
                stats.blank_lines += 1
                continue
            stats.rows_read += 1
            if len(record) != width:
                bad.append(
                    (
                        line,
                        f"wrong number of fields: {len(record)} (expected {width})",
                        delimiter.join(record),
                    )
                )
                continue
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise ReadError(f"{path}: line {reader.line_num}: unreadable CSV ({exc})") from None
    # Rows to columns in Polars (not a Python loop per cell); a name given twice keeps the
    # first column of that name.
    names = [name if name not in header[:i] else f"_dup{i}" for i, name in enumerate(header)]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")
    frame = frame.with_columns(
        pl.Series("source_line", lines, dtype=pl.Int64),
        pl.lit(str(path)).alias("source_file"),
        pl.concat_str(pl.col(names), separator=delimiter).alias("_raw"),
    ).with_columns(
        pl.when(pl.col(n).str.strip_chars() != "").then(pl.col(n).str.strip_chars()).alias(n)
        for n in names
    )
    for name in (*CASE_LIST_COLUMNS, *OPTIONAL_COLUMNS):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    checks: list[tuple[str, pl.Expr]] = [("no person_id", pl.col("person_id").is_null())]
    typed: list[pl.Expr] = []
    for column in ("dob", "offense_date", "disposition_date"):
        parsed, garbled = _date_expr(column)
        typed.append(parsed.alias(f"_{column}"))
        checks.append((f"{column} is not a date (use YYYY-MM-DD)", garbled))
    citizenship = _vocabulary("citizenship", _CITIZENSHIP_WORDS, CITIZENSHIP)
    disposition = _vocabulary(
        "disposition", _DISPOSITION_WORDS, DISPOSITIONS, _DISPOSITION_PREFIXES
    )
    checks.append(
        (
            f"citizenship is not one of {', '.join(CITIZENSHIP)}",
            pl.col("citizenship").is_not_null() & citizenship.is_null(),
        )
    )
    checks.append(
        (
            f"disposition is not one of {', '.join(DISPOSITIONS)}",
            pl.col("disposition").is_not_null() & disposition.is_null(),
        )
    )
    reason = pl.concat_str(
        [pl.when(cond).then(pl.lit(text)) for text, cond in checks],
        separator="; ",
        ignore_nulls=True,
    )
    frame = frame.with_columns(
        *typed,
        citizenship.fill_null("unknown").alias("_citizenship"),
        disposition.alias("_disposition"),
        pl.when(reason != "").then(reason).alias("_reason"),
    )
    quarantined = frame.filter(pl.col("_reason").is_not_null())
    kept = frame.filter(pl.col("_reason").is_null())
    quarantine = pl.concat(
        [
            pl.DataFrame(
                {
                    "source_file": [str(path)] * len(bad),
                    "source_line": [b[0] for b in bad],
                    "reason": [b[1] for b in bad],
                    "raw": [b[2] for b in bad],
                },
                schema=QUARANTINE_SCHEMA,
            ),
            quarantined.select(
                "source_file",
                "source_line",
                pl.col("_reason").alias("reason"),
                pl.col("_raw").alias("raw"),
            ),
        ]
    ).sort("source_line")
    counts = kept.select(
        "person_id",
        "name",
        pl.col("_dob").alias("dob"),
        pl.col("_citizenship").alias("citizenship"),
        "court",
        "docket",
        "count",
        pl.col("statute").alias("statute_raw"),
        "description",
        pl.col("_offense_date").alias("offense_date"),
        pl.col("_disposition").alias("disposition"),
        pl.col("_disposition_date").alias("disposition_date"),
        "sentence",
        pl.lit("case list").alias("origin"),
        "source_file",
        "source_line",
    )
    stats.rows_quarantined = quarantine.height
    stats.rows_loaded = counts.height
    return _finish(counts), quarantine, stats


#: A U.S. Code or CFR citation in an offense text (a DOJ row of a federal case).
_FEDERAL_CODE = r"\bU\.?\s?S\.?\s?C\b|\bC\.?F\.?R\b|\bUSC\b"


def federal_entries(records: Records) -> pl.DataFrame:
    """The federal counts of records read by the other readers (RAP sheets, DOJ files)."""
    events = getattr(records, "events", None)
    return federal_entries_of(
        records.counts, records.subjects, events if isinstance(events, pl.DataFrame) else None
    )


def federal_entries_of(
    counts: pl.DataFrame, subjects: pl.DataFrame, events: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The federal counts of canonical tables (and the RAP-sheet events, for the agency names).

    RAP sheets mark federal events with the county `FEDERAL`; a DOJ row is federal when its
    county field names a federal agency or its offense cites the U.S. Code or the CFR. Per
    cycle, the counts of its federal court events are taken (their disposition); a cycle with
    only an arrest gives charged counts."""
    if not counts.height:
        return empty_federal()
    # Counties and offense texts repeat: each distinct value is tested once.
    # (Categorical columns: the distinct values are taken before any cast to text, and the
    # filter compares codes, so a statewide table is never copied as strings.)
    counties = counts["county"].unique().drop_nulls().cast(pl.String).to_list()
    federal_counties = [c for c in counties if c == FEDERAL or is_federal(c)]
    texts = counts["offense_raw"].unique().drop_nulls().cast(pl.String)
    federal_texts = texts.filter(texts.str.to_uppercase().str.contains(_FEDERAL_CODE)).to_list()
    if not federal_counties and not federal_texts:
        return empty_federal()
    found = counts.filter(
        pl.col("county").is_in(federal_counties) | pl.col("offense_raw").is_in(federal_texts)
    )
    if not found.height:
        return empty_federal()
    found = found.with_columns(
        pl.col(c).cast(pl.String)
        for c in ("county", "cycle_id", "event_id", "offense_raw", "step_type", "disposition")
    )
    court_cycles = (
        found.filter(pl.col("step_type") == "court").select("subject_id", "cycle_id").unique()
    )
    with_court = found.join(court_cycles, on=["subject_id", "cycle_id"], how="semi")
    taken = pl.concat(
        [
            with_court.filter(pl.col("step_type") == "court"),
            found.join(court_cycles, on=["subject_id", "cycle_id"], how="anti").filter(
                pl.col("step_type") == "arrest"
            ),
        ]
    ).sort("source_file", "source_line")
    taken = taken.with_columns(pl.col("source_file").cast(pl.String))
    rap_files: list[str] = []
    if events is not None and events.height:
        agencies = events.select(
            pl.col("subject_id").cast(pl.String),
            pl.col("event_id").cast(pl.String),
            pl.col("agency").cast(pl.String).alias("_agency"),
        ).unique(subset=["subject_id", "event_id"], keep="first", maintain_order=True)
        taken = taken.join(agencies, on=["subject_id", "event_id"], how="left")
        # By file name: a run folder's events.csv keeps names, its record full paths.
        rap_files = [Path(f).name for f in events["source_file"].cast(pl.String).unique()]
    else:
        taken = taken.with_columns(pl.lit(None, dtype=pl.String).alias("_agency"))
    origin = (
        pl.when(pl.col("source_file").str.replace(r"^.*[/\\]", "").is_in(rap_files))
        .then(pl.lit("RAP sheet"))
        .otherwise(pl.lit("DOJ file"))
    )
    people = subjects.select(pl.col("subject_id").cast(pl.String), "name", "dob").unique(
        "subject_id", keep="first", maintain_order=True
    )
    taken = taken.join(people, on="subject_id", how="left")
    court_step = pl.col("step_type") == "court"
    disposition = (
        pl.when(~court_step)
        .then(pl.lit("charged"))
        .when(pl.col("disposition").is_in(["convicted", "set_aside"]))
        .then(pl.lit("convicted"))
        .when(pl.col("disposition").is_in(["dismissed", "acquitted"]))
        .then(pl.lit("dismissed"))
        .otherwise(pl.lit("charged"))
    )
    months = (pl.col("sentence_days").cast(pl.Float64) / 30.4).round(0).cast(pl.Int32)
    frame = taken.select(
        pl.col("subject_id").alias("person_id"),
        "name",
        "dob",
        pl.lit("unknown").alias("citizenship"),
        pl.coalesce(pl.col("_agency"), pl.col("county")).alias("court"),
        pl.col("court_case_number").alias("docket"),
        pl.col("count_id").str.slice(6, 3).str.strip_chars_start("0").alias("count"),
        pl.col("offense_raw").alias("statute_raw"),
        pl.lit(None, dtype=pl.String).alias("description"),
        "offense_date",
        disposition.alias("disposition"),
        pl.when(court_step).then(pl.col("event_date")).alias("disposition_date"),
        pl.when(court_step & (pl.col("sentence_days") > 0))
        .then(pl.format("{} days", pl.col("sentence_days")))
        .alias("sentence"),
        pl.when(court_step).then(months).alias("sentence_months"),
        pl.lit(False).alias("sentence_life"),
        origin.alias("origin"),
        "source_file",
        "source_line",
    )
    return _finish(frame)


def read_federal(paths: Sequence[Path], mapping: Path | None = None) -> FederalRead:
    """Every input: case lists read here, any other file by its own reader (RAP sheets, DOJ
    files, court exports with `mapping`) and its federal entries taken."""
    from clearance.records.sources import read_sources

    parts: list[pl.DataFrame] = []
    quarantines: list[pl.DataFrame] = []
    read = FederalRead(empty_federal())
    for path in dict.fromkeys(paths):
        if not path.is_file():
            raise ReadError(f"{path}: no such file")
        if is_case_list(path):
            counts, quarantine, stats = read_case_list(path)
            parts.append(counts)
            quarantines.append(quarantine)
            read.files.append(stats)
            read.kinds[str(path)] = "federal"
            continue
        other = read_sources([path], None, mapping)
        parts.append(federal_entries(other.records))
        quarantines.append(other.records.quarantine.select(list(QUARANTINE_SCHEMA)))
        read.files.extend(other.records.files)
        read.kinds.update(other.kinds)
    if parts:
        read.counts = pl.concat(parts)
        read.quarantine = pl.concat([q.cast(QUARANTINE_SCHEMA) for q in quarantines])  # type: ignore[arg-type]
    return read


def federal_overview(records: Records) -> dict[str, object]:
    """What a state run says about the federal entries of its inputs: how many, of how many
    people, under which sections, and the command that screens them (state relief cannot
    reach them)."""
    return overview_of(federal_entries(records))


def overview_of(found: pl.DataFrame) -> dict[str, object]:
    """`federal_overview` of federal entries already found (a run decided in parts of people
    finds them part by part, `clearance.scale`)."""
    statutes = (
        found.group_by(pl.coalesce("statute", "statute_raw").fill_null("no statute").alias("s"))
        .len()
        .sort(["len", "s"], descending=[True, False])
    )
    return {
        "counts": found.height,
        "people": int(found["person_id"].n_unique()),
        "by_statute": {str(k): int(v) for k, v in statutes.iter_rows()},
        "screen_with": "clearance federal FILES... --out DIR" if found.height else "",
    }
