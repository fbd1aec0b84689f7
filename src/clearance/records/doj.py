"""Read DOJ bulk criminal-history files into the canonical tables, losing nothing.

Why it is built this way:
- Files are large (a county is millions of ~800-byte rows), so they are read in chunks of whole
  lines and every step is a Polars expression over a chunk; memory holds one chunk of raw text
  plus the compact canonical columns, never the whole file.
- Every physical line is accounted for: it is either loaded or set aside in the quarantine with
  the file, the line number and the reason. `rows_read == rows_loaded + rows_quarantined` holds
  for every file (blank lines are not rows and are counted apart).
- Field counting is done on the raw line with quoted segments removed, so a quoted name with a
  comma (`"RAMIREZ,RYAN K"`) is one field and a row with a stray or missing comma is caught
  instead of being silently shifted or truncated by a lenient CSV parser.
- Dates that the DOJ marks as unknown (blank, `00000000`, `YYYY0000`) become null: a date is
  never invented. A step date that is present but garbled is quarantined, because the step date
  places the conviction in time and a guess could move it across 2016-11-09.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import polars as pl

from clearance.records import schema
from clearance.records.offenses import parse_offenses

#: Bytes of raw text handled at once. Big enough to amortise per-chunk costs, small enough that
#: a chunk's intermediate columns stay a few hundred MB at most.
CHUNK_BYTES = 32 * 1024 * 1024

#: The DOJ columns the canonical record is built from (the rest are never parsed).
USED_COLUMNS: tuple[str, ...] = (
    "SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "CYC_DATE", "STP_EVENT_DATE",
    "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "OFN", "OFFENSE_DESCR", "OFFENSE_TOC",
    "DISP_OFFENSE_DESCR", "DISP_OFFENSE_TOC", "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC",
    "FE_NUM_CRT_CASE", "DISP_DESCR", "CONV_STAT_DESCR", "SENT_LENGTH", "SENT_TIME_CODE",
    "SENT_TIME_DESCR", "CYC_AGE", "COMMENT_TEXT",
)  # fmt: skip
_USED_INDICES = [schema.DOJ_COLUMNS.index(c) for c in USED_COLUMNS]

#: Values that mean "nothing here" once padding is stripped.
_EMPTY_VALUES = ("", "-", "NULL")

ProgressCallback = Callable[[int], None]


class ReadError(Exception):
    """A file that cannot be read at all or is not a DOJ bulk file. The message is one line that
    names the file and what to fix; it never quotes the file's content (it may be personal)."""


@dataclass
class FileStats:
    """Row accounting for one input file."""

    path: str
    bytes: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    header: bool = False
    encoding: str = "utf-8"


@dataclass
class Records:
    """The canonical tables of one or more input files (see `schema`)."""

    subjects: pl.DataFrame
    counts: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileStats] = field(default_factory=list)
    #: Counts that appeared in more than one file for the same person and were merged.
    merged_duplicate_counts: int = 0

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def total_bytes(paths: Sequence[Path]) -> int:
    """Bytes on disk of all inputs, for a progress bar."""
    return sum(p.stat().st_size for p in paths if p.is_file())


def read_doj(paths: Sequence[Path | str], progress: ProgressCallback | None = None) -> Records:
    """Read DOJ bulk files into subjects, counts and quarantine, merging people by SUBJECT_ID.

    `progress`, when given, is called with the number of bytes (on disk) consumed since the last
    call, so a caller can drive a progress bar across several files.
    """
    rows: list[pl.DataFrame] = []
    quarantined: list[pl.DataFrame] = []
    stats: list[FileStats] = []
    for raw_path in paths:
        path = Path(raw_path)
        file_stats, file_rows, file_quarantine = _read_file(path, progress)
        stats.append(file_stats)
        rows.extend(file_rows)
        quarantined.extend(file_quarantine)

    row_table = pl.concat(rows, how="vertical") if rows else _empty_rows()
    quarantine = (
        pl.concat(quarantined, how="vertical")
        if quarantined
        else schema.empty(schema.QUARANTINE_SCHEMA)
    )
    counts, merged = _fold_counts(row_table)
    subjects = _subjects(row_table, counts)
    return Records(
        subjects=subjects,
        counts=counts,
        quarantine=quarantine,
        files=stats,
        merged_duplicate_counts=merged,
    )


# --------------------------------------------------------------------------------------------
# Files and chunks


def _open(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """Open a plain or gzip file; return (decompressed stream, raw stream for progress)."""
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.is_dir():
        raise ReadError(f"{path}: is a folder, not a DOJ bulk file")
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ReadError(f"{path}: cannot be opened ({exc.strerror or 'unreadable'})") from None
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")), cast(BinaryIO, raw)
    return cast(BinaryIO, raw), cast(BinaryIO, raw)


def _chunks(stream: BinaryIO, path: Path) -> Iterator[bytes]:
    """Yield chunks of whole lines (the last may lack its newline)."""
    carry = b""
    while True:
        try:
            block = stream.read(CHUNK_BYTES)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ReadError(f"{path}: cannot be read to the end ({_short(exc)})") from None
        if not block:
            if carry:
                yield carry
            return
        block = carry + block
        cut = block.rfind(b"\n")
        if cut < 0:
            carry = block
            continue
        carry = block[cut + 1 :]
        yield block[: cut + 1]


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:80]


def _check_format(first: bytes, path: Path) -> None:
    """Refuse what is clearly not a DOJ text file before parsing anything."""
    if first.startswith(b"%PDF"):
        raise ReadError(f"{path}: is a PDF, not a DOJ bulk file (give the .dat/.csv extract)")
    if first.startswith(b"PK\x03\x04"):
        raise ReadError(f"{path}: is a ZIP/Office file, not a DOJ bulk file (unzip or export it)")
    if b"\x00" in first[:4096]:
        raise ReadError(f"{path}: is a binary file, not a DOJ bulk file")


class _LineChunks:
    """The lines of one file, chunk by chunk, as (source_line, raw) tables.

    Shared by the reader and by the results writer, so both number lines the same way: line 1
    is the first physical line of the file, header included.
    """

    def __init__(self, path: Path, stats: FileStats) -> None:
        self.path = path
        self.stats = stats

    def __iter__(self) -> Iterator[tuple[pl.DataFrame, int]]:
        """Yield (lines without the header, bytes consumed on disk since the last chunk)."""
        stream, raw = _open(self.path)
        next_line = 1
        position = 0
        first = True
        with raw, stream:
            for chunk in _chunks(stream, self.path):
                if first:
                    _check_format(chunk, self.path)
                    if chunk.startswith(b"\xef\xbb\xbf"):
                        chunk = chunk[3:]
                text = _decode(chunk, self.stats)
                lines = _split_lines(text, next_line)
                next_line += lines.height
                if first:
                    lines = _drop_header(lines, self.stats)
                    _check_shape(lines, self.path)
                    first = False
                now = raw.tell()
                yield lines, now - position
                position = now
        if first:
            raise ReadError(f"{self.path}: is empty")


def iter_lines(path: Path) -> Iterator[pl.DataFrame]:
    """Non-blank data lines of a DOJ file as (source_line, raw) tables, header left out."""
    stats = FileStats(path=str(path), bytes=0)
    for lines, _ in _LineChunks(path, stats):
        yield lines.filter(pl.col("raw").str.strip_chars() != "")


def _read_file(
    path: Path, progress: ProgressCallback | None
) -> tuple[FileStats, list[pl.DataFrame], list[pl.DataFrame]]:
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    stats = FileStats(path=str(path), bytes=path.stat().st_size if path.is_file() else 0)
    rows: list[pl.DataFrame] = []
    quarantined: list[pl.DataFrame] = []
    for lines, consumed in _LineChunks(path, stats):
        good, bad, blank = _classify(lines, str(path))
        stats.blank_lines += blank
        parsed, bad_values = _parse(good, str(path))
        quarantine = pl.concat([bad, bad_values], how="vertical")
        stats.rows_loaded += parsed.height
        stats.rows_quarantined += quarantine.height
        stats.rows_read += parsed.height + quarantine.height
        if parsed.height:
            rows.append(parsed)
        if quarantine.height:
            quarantined.append(quarantine)
        if progress is not None:
            progress(consumed)
    return stats, rows, quarantined


def _decode(chunk: bytes, stats: FileStats) -> str:
    """UTF-8 when it decodes, else Latin-1 (which never fails) for this and later chunks."""
    if stats.encoding == "utf-8":
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            stats.encoding = "latin-1"
    return chunk.decode("latin-1")


def _split_lines(text: str, first_line: int) -> pl.DataFrame:
    """One row per physical line with its 1-based line number; CR of CRLF removed."""
    if text.endswith("\n"):
        text = text[:-1]
    line = pl.Series("raw", [text]).str.split("\n").explode().str.strip_suffix("\r")
    return (
        pl.DataFrame({"raw": line})
        .with_row_index("source_line", offset=first_line)
        .cast({"source_line": pl.Int64})
    )


def _drop_header(lines: pl.DataFrame, stats: FileStats) -> pl.DataFrame:
    if lines.height and lines["raw"][0].lstrip('"').upper().startswith("RECORD_ID,"):
        stats.header = True
        return lines.slice(1)
    return lines


def _field_counts(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(number of fields, quotes balanced) of a raw CSV line, quoted commas not counted."""
    unquoted = raw.str.replace_all(r'"[^"]*"', "")
    return unquoted.str.count_matches(",", literal=True) + 1, ~unquoted.str.contains(
        '"', literal=True
    )


def _check_shape(lines: pl.DataFrame, path: Path) -> None:
    """Stop on a file whose first rows are not 95-field rows: it is some other table."""
    sample = lines.head(200).filter(pl.col("raw").str.strip_chars() != "")
    if sample.height == 0:
        return
    fields, _ = _field_counts(pl.col("raw"))
    counts = sample.select(fields.alias("n"))["n"]
    fitting = counts.is_in([schema.DOJ_FIELD_COUNT, schema.DOJ_FIELD_COUNT + 1]).sum()
    if fitting == 0:
        found = counts.mode().sort()[0]
        raise ReadError(
            f"{path}: not a DOJ bulk file: rows have {found} fields, the DOJ layout has "
            f"{schema.DOJ_FIELD_COUNT}"
        )


def _classify(lines: pl.DataFrame, source: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Split lines into well-formed ones (95 fields) and quarantined ones; count blank lines."""
    fields, balanced = _field_counts(pl.col("raw"))
    n = schema.DOJ_FIELD_COUNT
    marked = lines.with_columns(
        fields.alias("_fields"),
        balanced.alias("_balanced"),
        (pl.col("raw").str.strip_chars() == "").alias("_blank"),
    )
    blank = int(marked["_blank"].sum())
    marked = marked.filter(~pl.col("_blank"))
    trailing = pl.col("raw").str.ends_with(",") & (pl.col("_fields") == n + 1)
    ok = pl.col("_balanced") & ((pl.col("_fields") == n) | trailing)
    good = marked.filter(ok).select(
        "source_line",
        pl.when(trailing).then(pl.col("raw").str.strip_suffix(",")).otherwise("raw").alias("raw"),
    )
    bad = marked.filter(~ok).select(
        pl.lit(source).alias("source_file"),
        "source_line",
        pl.when(~pl.col("_balanced"))
        .then(pl.lit(schema.REASON_UNBALANCED_QUOTES))
        .otherwise(
            pl.format(
                "{}: {} instead of {}",
                pl.lit(schema.REASON_FIELD_COUNT),
                pl.col("_fields"),
                pl.lit(n),
            )
        )
        .alias("reason"),
        "raw",
    )
    return good, bad, blank


# --------------------------------------------------------------------------------------------
# Parsing well-formed lines


def _clean(name: str) -> pl.Expr:
    """A DOJ value with padding removed and placeholders (`  -  `, `NULL  `, blank) as null."""
    value = pl.col(name).str.strip_chars()
    return pl.when(value.is_in(_EMPTY_VALUES)).then(None).otherwise(value)


def _date(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(parsed date or null, garbled): unknown markers are null and not garbled."""
    parsed = value.str.to_date("%Y%m%d", strict=False)
    unknown = (
        value.is_null() | value.str.contains(r"^\d{4}(0000|\d\d00)$") | value.str.contains(r"^0+$")
    )
    return parsed, parsed.is_null() & ~unknown


def _parse(good: pl.DataFrame, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse well-formed lines into canonical row columns; set aside rows missing what they need."""
    if good.height == 0:
        return _empty_rows(), schema.empty(schema.QUARANTINE_SCHEMA)
    body = "\n".join(good["raw"].to_list()).encode("utf-8")
    fields = pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        columns=_USED_INDICES,
        infer_schema=False,
        quote_char='"',
    )
    # Projected columns come back in file order, named differently across Polars versions.
    fields.columns = list(USED_COLUMNS)
    frame = pl.concat([good, fields], how="horizontal")
    frame = frame.with_columns(*[_clean(c).alias(c) for c in USED_COLUMNS])

    event_date, event_garbled = _date(pl.col("STP_EVENT_DATE"))
    frame = frame.with_columns(
        event_date.alias("event_date"),
        event_garbled.alias("_event_garbled"),
        _date(pl.col("CYC_DATE"))[0].alias("offense_date"),
        _date(pl.col("PRI_DOB"))[0].alias("dob"),
    )
    reason = (
        pl.when(pl.col("SUBJECT_ID").is_null())
        .then(pl.lit(schema.REASON_NO_SUBJECT))
        .when(pl.col("CNT_ORDER").is_null() | ~pl.col("CNT_ORDER").str.contains(r"^\d{12}$"))
        .then(pl.lit(schema.REASON_BAD_CNT_ORDER))
        .when(pl.col("_event_garbled"))
        .then(pl.lit(schema.REASON_BAD_DATE))
        .otherwise(None)
    )
    frame = frame.with_columns(reason.alias("_reason"))
    bad = frame.filter(pl.col("_reason").is_not_null()).select(
        pl.lit(source).alias("source_file"), "source_line", pl.col("_reason").alias("reason"), "raw"
    )
    kept = frame.filter(pl.col("_reason").is_null())
    return _canonical_rows(kept, source), bad


def _level(stat: pl.Expr, toc: pl.Expr) -> pl.Expr:
    """Conviction level from CONV_STAT_DESCR, else the type of charge (F/M/I)."""
    stat_u = stat.str.to_uppercase()
    toc_u = toc.str.to_uppercase().str.slice(0, 1)
    return (
        pl.when(stat_u.str.starts_with("FEL"))
        .then(pl.lit("felony"))
        .when(stat_u.str.starts_with("MIS"))
        .then(pl.lit("misdemeanor"))
        .when(stat_u.str.starts_with("INF"))
        .then(pl.lit("infraction"))
        .when(toc_u == "F")
        .then(pl.lit("felony"))
        .when(toc_u == "M")
        .then(pl.lit("misdemeanor"))
        .when(toc_u == "I")
        .then(pl.lit("infraction"))
        .otherwise(pl.lit("unknown"))
    )


def _disposition(descr: pl.Expr) -> pl.Expr:
    d = descr.str.to_uppercase()
    return (
        pl.when(d.is_null())
        .then(None)
        .when(d.str.contains("SET ASIDE") | d.str.contains("1203.4", literal=True))
        .then(pl.lit("set_aside"))
        .when(d.str.starts_with("CONVICTED"))
        .then(pl.lit("convicted"))
        .when(d.str.starts_with("DISMISSED"))
        .then(pl.lit("dismissed"))
        .when(d.str.starts_with("ACQUITTED"))
        .then(pl.lit("acquitted"))
        .otherwise(pl.lit("other"))
    )


def _step_type(descr: pl.Expr) -> pl.Expr:
    d = descr.str.to_uppercase()
    return (
        pl.when(d.str.starts_with("ARREST") | d.str.starts_with("CITED"))
        .then(pl.lit("arrest"))
        .when(d.str.starts_with("COURT"))
        .then(pl.lit("court"))
        .when(d.str.starts_with("REGISTRATION"))
        .then(pl.lit("registration"))
        .when(d.str.starts_with("DECEASED"))
        .then(pl.lit("deceased"))
        .when(d.str.starts_with("PROBATION"))
        .then(pl.lit("probation"))
        .when(d.str.starts_with("CUSTODY"))
        .then(pl.lit("custody"))
        .otherwise(pl.lit("other"))
    )


def _canonical_rows(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Row-level canonical columns (before sentence parts are folded into counts)."""
    conv = pl.col("CONV_OFFENSE_DESCR")
    disp = pl.col("DISP_OFFENSE_DESCR")
    charged = pl.col("OFFENSE_DESCR")
    comment = pl.col("COMMENT_TEXT")
    chosen = pl.coalesce(conv, disp, charged)
    see_comment = chosen.is_null() | chosen.str.to_uppercase().str.starts_with("SEE COMMENT")
    toc = (
        pl.when(conv.is_not_null())
        .then(pl.col("CONV_OFFENSE_TOC"))
        .when(disp.is_not_null())
        .then(pl.col("DISP_OFFENSE_TOC"))
        .otherwise(pl.col("OFFENSE_TOC"))
    )
    unit = pl.coalesce(pl.col("SENT_TIME_CODE"), pl.col("SENT_TIME_DESCR")).str.to_uppercase()
    length = pl.col("SENT_LENGTH").str.extract(r"^(\d{1,5})", 1).cast(pl.Int32, strict=False)
    return frame.select(
        pl.col("SUBJECT_ID").alias("subject_id"),
        pl.col("CII_NUMBER").alias("cii_number"),
        pl.col("PRI_NAME").alias("name"),
        "dob",
        pl.col("GENDER").alias("sex"),
        pl.col("CNT_ORDER").alias("count_id"),
        _step_type(pl.col("STP_TYPE_DESCR")).alias("step_type"),
        "event_date",
        "offense_date",
        pl.col("CYC_AGE")
        .str.extract(r"^(\d{1,3})$", 1)
        .cast(pl.Int32, strict=False)
        .alias("cycle_age"),
        pl.col("STP_ORI_CNTY_NAME").str.to_uppercase().str.replace_all(r"\s+", " ").alias("county"),
        pl.coalesce(pl.col("OFN"), pl.col("FE_NUM_CRT_CASE")).alias("court_case_number"),
        pl.when(see_comment).then(comment).otherwise(chosen).alias("offense_raw"),
        _disposition(pl.col("DISP_DESCR")).alias("disposition"),
        _level(pl.col("CONV_STAT_DESCR"), toc).alias("level"),
        pl.when(unit.str.starts_with("Y")).then(length).otherwise(0).alias("_years"),
        pl.when(unit.str.starts_with("M")).then(length).otherwise(0).alias("_months"),
        pl.when(unit.str.starts_with("D")).then(length).otherwise(0).alias("_days"),
        pl.lit(source).alias("source_file"),
        "source_line",
    )


_ROW_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "cii_number": pl.String(),
    "name": pl.String(),
    "dob": pl.Date(),
    "sex": pl.String(),
    "count_id": pl.String(),
    "step_type": pl.String(),
    "event_date": pl.Date(),
    "offense_date": pl.Date(),
    "cycle_age": pl.Int32(),
    "county": pl.String(),
    "court_case_number": pl.String(),
    "offense_raw": pl.String(),
    "disposition": pl.String(),
    "level": pl.String(),
    "_years": pl.Int32(),
    "_months": pl.Int32(),
    "_days": pl.Int32(),
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}


def _empty_rows() -> pl.DataFrame:
    return schema.empty(_ROW_SCHEMA)


# --------------------------------------------------------------------------------------------
# Folding rows into counts and people


def _fold_counts(rows: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """One count per (person, CNT_ORDER): sentence parts summed, people merged across files.

    Within a file, repeated CNT_ORDER rows are parts of one sentence: their lengths add up
    (years, months and days kept apart, then added to the step date on the calendar). Across
    files the same person's same count is one count: the first file given wins.
    """
    key = ["subject_id", "count_id"]
    first = [
        c
        for c in _ROW_SCHEMA
        if c not in (*key, "_years", "_months", "_days", "source_file", "name", "cii_number")
        and c not in ("dob", "sex")
    ]
    per_file = rows.group_by([*key, "source_file"], maintain_order=True).agg(
        *[pl.col(c).first() for c in first if c != "source_line"],
        pl.col("source_line").min(),
        pl.col("source_line").alias("source_lines"),
        pl.len().cast(pl.Int32).alias("source_rows"),
        pl.col("_years").sum(),
        pl.col("_months").sum(),
        pl.col("_days").sum(),
    )
    merged = per_file.unique(subset=key, keep="first", maintain_order=True)
    duplicates = per_file.height - merged.height
    offset = pl.format("{}y{}mo{}d", pl.col("_years"), pl.col("_months"), pl.col("_days"))
    end = pl.col("event_date").dt.offset_by(offset)
    counts = merged.with_columns(
        pl.col("count_id").str.slice(0, 3).alias("cycle_id"),
        pl.col("count_id").str.slice(0, 6).alias("event_id"),
        end.alias("sentence_end"),
        (end - pl.col("event_date")).dt.total_days().alias("sentence_days"),
    )
    # Offense texts repeat a lot: parse each distinct text once and join it back.
    texts = counts.select(pl.col("offense_raw").unique(maintain_order=True))
    parsed = pl.concat([texts, parse_offenses(texts["offense_raw"])], how="horizontal")
    counts = counts.join(
        parsed, on="offense_raw", how="left", nulls_equal=True, maintain_order="left"
    )
    return counts.select([pl.col(c).cast(t) for c, t in schema.COUNTS_SCHEMA.items()]), duplicates


def _subjects(rows: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """One row per person: the first non-empty identity values seen, and status flags."""
    people = rows.group_by("subject_id", maintain_order=True).agg(
        pl.col("cii_number").drop_nulls().first(),
        pl.col("name").drop_nulls().first(),
        pl.col("dob").drop_nulls().first(),
        pl.col("sex").drop_nulls().first(),
    )
    flags = counts.group_by("subject_id").agg(
        (pl.col("step_type") == "deceased").any().alias("deceased"),
        ((pl.col("step_type") == "registration") & (pl.col("section") == "290"))
        .any()
        .alias("pc290_registrant"),
    )
    joined = people.join(flags, on="subject_id", how="left", maintain_order="left")
    return joined.select(
        [
            pl.col(c).cast(t).fill_null(False) if t == pl.Boolean() else pl.col(c).cast(t)
            for c, t in schema.SUBJECTS_SCHEMA.items()
        ]
    )
