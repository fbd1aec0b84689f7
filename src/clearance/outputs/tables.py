"""The result tables of a run: convictions, people and results (every input row).

Column names and order are a contract (DESIGN.md, "Outputs"): offices load these files into
their own systems, and the filings, the store and the web app read them back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from clearance import heap
from clearance.engine import Decided
from clearance.frames import chunk_slices, is_sorted_by
from clearance.outputs.bulkfile import BulkFile
from clearance.outputs.cells import KEYS, spreadsheet_safe
from clearance.policy.rules import minus_years
from clearance.records.chunks import Chunk, as_utf8, distinct_files, iter_chunks
from clearance.records.doj import PLAN_DROP, PLAN_JOIN, Records, reread
from clearance.records.schema import DOJ_COLUMNS

CONVICTION_COLUMNS = (
    "subject_id", "name", "dob", "cii_number", "county", "court_case_number", "count_id",
    "offense_date", "conviction_date", "age_at_offense", "code_section", "offense_level",
    "decision", "new_level", "remedy", "reasons", "explanation", "source",
)  # fmt: skip

PEOPLE_COLUMNS = (
    "subject_id", "name", "dob", "cii_number", "convictions_before", "convictions_after",
    "felonies_before", "felonies_after", "no_conviction_left", "no_felony_left",
    "conviction_last_7_years_before", "conviction_last_7_years_after",
)  # fmt: skip

RESULT_COLUMNS = ("clearance_decision", "clearance_new_level", "clearance_remedy",
                  "clearance_reasons")  # fmt: skip


def convictions_table(decided: Decided, records: Records) -> pl.DataFrame:
    """One row per decided conviction, with the person's identity for the office's filings."""
    people = records.subjects.select("subject_id", "name", "dob", "cii_number")
    table = decided.table
    # A run's determinations come in (subject_id, count_id) order: kept, not sorted again (a
    # statewide run's copy would add to its peak memory).
    if not is_sorted_by(table, ["subject_id", "count_id"]):
        table = table.sort(["subject_id", "count_id"])
    # One chunk of the determinations at a time, so that no column is copied to line up with
    # the new ones (see `chunk_slices`).
    pieces = [_convictions_of(piece, people) for piece in chunk_slices(table)]
    return pl.concat(pieces, how="vertical", rechunk=False)


#: Determinations turned into output rows, and written, at once (see `sorted_slices`).
SLICE_ROWS = 1 << 17

#: The order of a run's determinations and of the files written from them.
ORDER = ["subject_id", "count_id"]


def sorted_slices(table: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The determinations in (subject_id, count_id) order, `SLICE_ROWS` at a time.

    A run's own table is in that order: its slices are views. A run decided in parts (buckets
    of people, a statewide run in buckets) puts its parts together unsorted: each slice is
    gathered through the order, so the table is never sorted whole (a second copy of every
    explanation). Either way the files written slice by slice are the same bytes."""
    if table.height == 0:
        yield table
        return
    if is_sorted_by(table, ORDER):
        for start in range(0, table.height, SLICE_ROWS):
            yield table.slice(start, SLICE_ROWS)
        return
    order = table.select(pl.arg_sort_by(ORDER, maintain_order=True)).to_series()
    for start in range(0, table.height, SLICE_ROWS):
        yield table[order.slice(start, SLICE_ROWS)]


def write_convictions(decided: Decided, records: Records, csv: Path, parquet: Path) -> None:
    """convictions.csv (formula-like cells neutralised) and convictions.parquet, a slice of
    the determinations at a time: the rows with the people's identity are never held whole
    (in a run of millions of convictions, a copy of every explanation)."""
    people = records.subjects.select("subject_id", "name", "dob", "cii_number")
    with csv.open("wb") as out, _ParquetParts(parquet) as parts:
        for number, part in enumerate(sorted_slices(decided.table)):
            rows = _convictions_of(part, people)
            spreadsheet_safe(rows, KEYS).write_csv(out, include_header=number == 0)
            parts.write(rows)


def write_sorted_parquet(
    table: pl.DataFrame, path: Path, compression: str, row_group: int | None = None
) -> None:
    """The determinations as Parquet, in (subject_id, count_id) order, a slice at a time (row
    groups of at most `row_group` rows: `SLICE_ROWS` is a multiple of the record's)."""
    with _ParquetParts(path, compression, row_group) as parts:
        for part in sorted_slices(table):
            parts.write(part)


class _ParquetParts:
    """A Parquet file written a table at a time, one row group each."""

    def __init__(self, path: Path, compression: str = "zstd", row_group: int | None = None) -> None:
        self.path = path
        self.compression = compression
        self.row_group = row_group
        self.writer: pq.ParquetWriter | None = None

    def __enter__(self) -> _ParquetParts:
        return self

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression=self.compression)
        elif not table.schema.equals(self.writer.schema):
            table = table.cast(self.writer.schema)
        self.writer.write_table(table, row_group_size=self.row_group)

    def __exit__(self, *args: object) -> None:
        if self.writer is not None:
            self.writer.close()


def _convictions_of(table: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    return (
        table.join(people, on="subject_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("age").alias("age_at_offense"),
            pl.col("level").alias("offense_level"),
            pl.col("reasons").list.join(";").alias("reasons"),
            pl.format(
                "{}:{}",
                pl.col("source_file").map_batches(_basenames, return_dtype=pl.String),
                pl.col("source_line"),
            ).alias("source"),
        )
        .select(CONVICTION_COLUMNS)
    )


def _basenames(paths: pl.Series) -> pl.Series:
    """File names without folders: a row points to its file, not to the office's disk layout."""
    return paths.str.extract(r"([^/\\]+)$", 1)


def conviction_base(records: Records, as_of: date) -> pl.DataFrame:
    """Per person, their record before any decision: convictions, felonies, and convictions in
    the seven years before `as_of`.

    Counted are the person's convictions of any offense in any county, set-asides under PC
    1203.4 included: the conviction stays on the record (and is decided, HS 11361.8 reaching
    it), and only an 11361.8 dismissal and sealing removes it. The record can hold millions of
    counts, so this is computed once per run, streaming; the run's figures and each what-if's
    then subtract only what their decisions remove.
    """
    seven = minus_years(as_of, 7)
    return (
        records.counts.lazy()
        .filter(pl.col("disposition").is_in(["convicted", "set_aside"]))
        .group_by("subject_id")
        .agg(
            pl.len().alias("convictions_before"),
            (pl.col("level") == "felony").sum().alias("felonies_before"),
            (pl.col("event_date") >= seven).fill_null(False).sum().alias("_recent_before"),
        )
        .collect(engine="streaming")
    )


def people_table(
    decided: Decided, records: Records, base: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per person with a decided conviction: what their record looks like before and after.

    A dismissal removes a conviction; a reduction to a misdemeanor or infraction removes a
    felony. Every decided count is one of the person's convictions, so the figures after are
    the figures before (`conviction_base`, given or computed) less what the decisions remove.
    """
    seven = minus_years(decided.as_of, 7)
    base = conviction_base(records, decided.as_of) if base is None else base
    gone = pl.col("decision") == "dismiss"
    reduced = (pl.col("decision") == "reduce") & pl.col("new_level").is_not_null()
    recent = (pl.col("conviction_date") >= seven).fill_null(False)
    # Lazy and streaming: only the columns read are taken from the determinations (which hold
    # the explanations), and the grouping works in batches (a third of the memory, statewide).
    removed = (
        decided.table.lazy()
        .group_by("subject_id")
        .agg(
            gone.sum().alias("_gone"),
            ((pl.col("level") == "felony") & (gone | reduced)).sum().alias("_felonies_gone"),
            (gone & recent).sum().alias("_recent_gone"),
        )
    )
    people = records.subjects.lazy().select("subject_id", "name", "dob", "cii_number")
    return (
        removed.join(people, on="subject_id", how="left")
        .join(base.lazy(), on="subject_id", how="left")
        .with_columns(
            (pl.col("convictions_before") - pl.col("_gone")).alias("convictions_after"),
            (pl.col("felonies_before") - pl.col("_felonies_gone")).alias("felonies_after"),
            (pl.col("_recent_before") > 0).alias("conviction_last_7_years_before"),
            (pl.col("_recent_before") > pl.col("_recent_gone")).alias(
                "conviction_last_7_years_after"
            ),
        )
        .with_columns(
            (pl.col("convictions_after") == 0).alias("no_conviction_left"),
            (pl.col("felonies_after") == 0).alias("no_felony_left"),
        )
        .select(PEOPLE_COLUMNS)
        .sort("subject_id")
        .collect(engine="streaming")
    )


def write_results_csv(
    path: Path, decided: Decided, records: Records, inputs: Sequence[Path]
) -> int:
    """Every row of the inputs, with the decision columns appended; returns rows written.

    The file is rectangular: each row has exactly the header's fields. A row keeps its bytes
    and its encoding; its line ends in LF (a CR before it is dropped), a trailing comma or the
    padding after its last quote is cut, and what is not a row of the layout (a blank line, a
    line with the wrong number of fields, a repeated header) is left out: the quarantine holds
    it, with its file and line. Columns a header adds to the DOJ layout follow the DOJ columns
    (empty for files without them); a file whose header puts the columns in another order is
    written in the DOJ order, its rows parsed and quoted again (as UTF-8).

    Only a few percent of rows carry a decision, so the 95 columns are never parsed or
    re-quoted: each chunk of the input is copied as bytes and the four fields are inserted
    before every line end in one vectorised step (empty on the rows without a decision).
    """
    # A count folded from several rows (sentence parts) marks each of its lines. Those counts
    # are few, so only they are looked up, by the line of the count's first row in its file:
    # a statewide record is never joined whole, and never on text keys.
    counts = records.counts
    decisions = decided.table.select(
        "source_file",
        "source_line",
        pl.concat_str(
            [
                pl.lit(""),
                pl.col("decision").fill_null(""),
                pl.col("new_level").fill_null(""),
                pl.col("remedy").fill_null(""),
                pl.col("reasons").list.join(";").fill_null(""),
            ],
            separator=",",
        )
        # A few hundred distinct texts: four bytes a line instead of the text.
        .cast(pl.Categorical)
        .alias("suffix"),
    )
    empty_suffix = "," * len(RESULT_COLUMNS)
    # Each file once, as the reader read it (a file given twice is one file).
    sources = distinct_files(inputs)[0]
    read = {f.path: f for f in records.files if f.planned}
    stats = {s: read[str(s)] if str(s) in read else reread(s) for s in sources}
    extras = tuple(dict.fromkeys(e for s in sources for e in stats[s].extra_columns))
    pad = "," * len(extras)
    written = 0
    with BulkFile(path) as out:
        header = ",".join((*DOJ_COLUMNS, *extras, *RESULT_COLUMNS)) + "\n"
        out.write([header.encode("utf-8")])
        for source in sources:
            mine = _lines_decided(decisions, counts, str(source), records.lines_elsewhere)
            first = mine["source_line"].to_numpy()
            plan = stats[source].plan
            columns = stats[source].columns
            padded = mine.with_columns(pl.lit(pad) + pl.col("suffix")) if pad else mine
            chunks = iter_chunks(source, max_line=stats[source].max_line_bytes)
            for number, (chunk, _) in enumerate(chunks, 1):
                if not chunk.data:
                    continue
                # `mine` is in line order: the chunk's lines are one slice of it.
                low, high = np.searchsorted(
                    first, [chunk.first_line, chunk.first_line + chunk.line_count]
                )
                lines = _chunk_plan(plan, chunk)
                if columns is None:
                    here = padded.slice(int(low), int(high - low))
                    pieces, rows = _append_columns(chunk, here, pad + empty_suffix, lines)
                else:
                    here = mine.slice(int(low), int(high - low))
                    pieces, rows = _in_doj_order(chunk, here, empty_suffix, lines, columns, extras)
                out.write(pieces)
                written += rows
                if number % _RELEASE_EVERY == 0:
                    heap.release()
    return written


def _in_doj_order(
    chunk: Chunk,
    here: pl.DataFrame,
    empty: str,
    plan: np.ndarray,
    columns: tuple[str, ...],
    extras: tuple[str, ...],
) -> tuple[list[bytes | bytearray | memoryview], int]:
    """A chunk of a file whose header orders the columns its own way: its rows (with their
    decision columns, as the other files get them) parsed and written in the DOJ order, then
    the extra columns of every input, then the decisions; a column the file lacks is empty."""
    pieces, rows = _append_columns(chunk, here, empty, plan)
    if rows == 0:
        return [], 0
    body = b"".join(bytes(p) for p in pieces)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = as_utf8(body)[0]
    width = len(columns) + len(RESULT_COLUMNS)
    frame = pl.read_csv(
        body,
        has_header=False,
        schema={f"c{i}": pl.String for i in range(width)},
        quote_char='"',
        empty_string_is_null=False,
    )
    where = {name: i for i, name in enumerate(columns)}
    ordered = frame.select(
        *[
            pl.col(f"c{where[name]}") if name in where else pl.lit("").alias(name)
            for name in (*DOJ_COLUMNS, *extras)
        ],
        *[pl.col(f"c{len(columns) + i}") for i in range(len(RESULT_COLUMNS))],
    )
    return [ordered.write_csv(include_header=False).encode("utf-8")], rows


#: Chunks written between two returns of freed memory (see `heap`): each chunk leaves a few
#: 16 MB byte strings behind, and this thread runs while the main one builds the other outputs.
_RELEASE_EVERY = 8


def _chunk_plan(plan: np.ndarray | None, chunk: Chunk) -> np.ndarray:
    """The reader's plan (`doj.PLAN_DROP`...) of the chunk's lines: zeros when it has none."""
    if plan is None:
        return np.zeros(chunk.line_count, dtype=np.int16)
    part = plan[chunk.first_line : chunk.first_line + chunk.line_count]
    if len(part) < chunk.line_count:
        # Lines the reader did not see (the file grew since): not rows it vouched for.
        part = np.concatenate(
            (part, np.full(chunk.line_count - len(part), PLAN_DROP, dtype=np.int16))
        )
    return part


def _lines_decided(
    decisions: pl.DataFrame,
    counts: pl.DataFrame,
    source: str,
    elsewhere: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(source_line, suffix) of every line of `source` that carries a decision, in line order.

    A count is known in its file by its first line (`source_line`), so the counts folded from
    several lines are found by that number. A count whose parts are in several files is known
    by its first file: its lines in `source`, when that is another file, are in `elsewhere`
    (`doj.ELSEWHERE_SCHEMA`) and carry its decision too.
    """
    mine = decisions.filter(pl.col("source_file") == source).drop("source_file")
    in_file = (counts["source_rows"] > 1) & (counts["source_file"] == source)
    folded = counts.select("source_line", "source_lines").filter(in_file)
    own = (
        mine.join(folded, on="source_line", how="left")
        .select(
            pl.col("source_lines").fill_null(pl.concat_list(pl.col("source_line"))),
            pl.col("suffix").cast(pl.String),
        )
        .explode("source_lines")
        .rename({"source_lines": "source_line"})
    )
    if elsewhere is not None and elsewhere.height:
        here = elsewhere.filter(pl.col("source_file") == source)
        if here.height:
            keyed = decisions.select(
                pl.col("source_file").cast(pl.String).alias("count_file"),
                pl.col("source_line").alias("count_line"),
                pl.col("suffix").cast(pl.String),
            )
            found = here.join(keyed, on=["count_file", "count_line"], how="inner").select(
                "source_line", "suffix"
            )
            own = pl.concat([own, found], how="vertical")
    return own.sort("source_line")


def _append_columns(
    chunk: Chunk, here: pl.DataFrame, empty: str, plan: np.ndarray
) -> tuple[list[bytes | bytearray | memoryview], int]:
    """The chunk's rows with the decision columns appended; and how many rows it holds.
    `here` holds the (source_line, suffix) of the chunk's lines that carry a decision, in line
    order; `plan` what to do with each line (see `doj.PLAN_DROP`).

    Two paths, one contract (the same bytes for the same rows, tested): a chunk whose lines
    are nearly all plain rows (the usual file, a few lines set aside or cut) takes the fast
    one, a chunk with many lines to handle one by one the general one.
    """
    lines = _Lines(chunk, plan)
    if len(lines.special(here)) * _FEW_SPECIAL > max(chunk.line_count, 1):
        return _insert_columns(chunk, here, empty, plan)
    return _replace_line_ends(chunk, here, empty, plan)


#: The fast path serves a chunk when at most one line in this many needs handling of its own
#: (a decision, a line set aside or cut, a CR of its own, a quoted line break).
_FEW_SPECIAL = 4


class _Lines:
    """Where each line of a chunk ends, for the fast path: the line ending that is replaced
    (LF, or CR LF when every line ends so) and the lines that need handling of their own."""

    def __init__(self, chunk: Chunk, plan: np.ndarray) -> None:
        data = chunk.data
        self.chunk = chunk
        self.plan = plan
        self.starts, self.ends = chunk.bounds
        newlines = chunk.newlines
        count = len(self.starts)
        self.crlf = len(newlines) > 0 and b"\r" in data and data.count(b"\r\n") == len(newlines)
        self.ending = b"\r\n" if self.crlf else b"\n"
        # Where each line's replaced ending starts (the end of the data for a last line
        # without one), and whether the line has a line feed.
        tail = np.append(newlines, len(data))[:count]
        self.has_newline = np.arange(count) < len(newlines)
        if self.crlf:
            tail = tail - self.has_newline
        self.tail = tail.astype(np.int64)

    def special(self, here: pl.DataFrame) -> np.ndarray:
        """The lines handled one by one, in order: every line that is not a plain row ending
        in the replaced line ending without a decision."""
        odd = (self.plan != 0) | (self.ends != self.tail)
        odd[self.decided_lines(here)] = True
        return np.flatnonzero(odd)

    def decided_lines(self, here: pl.DataFrame) -> np.ndarray:
        """The line of each decision: a row's last line (a decision is known by its first)."""
        at = (here["source_line"] - self.chunk.first_line).to_numpy()
        joined = self.plan == PLAN_JOIN
        if not joined.any():
            return at
        row_ends = np.append(np.flatnonzero(~joined), len(self.starts) - 1)
        return row_ends[np.minimum(np.searchsorted(row_ends, at), len(row_ends) - 1)]


def _replace_line_ends(
    chunk: Chunk, here: pl.DataFrame, empty: str, plan: np.ndarray | None = None
) -> tuple[list[bytes | bytearray | memoryview], int]:
    """Fast path. Nearly every line is a row that gets the same empty columns, so one C-level
    replace of the line endings (LF, or CR LF when every line ends so) does the bulk; the few
    lines that need their own (a decision, a line set aside, a row's cut trailing comma, a CR
    of its own, a line break inside quotes) are then patched by cutting views of the replaced
    text around them: nothing is copied again before the write."""
    if plan is None:
        plan = np.zeros(chunk.line_count, dtype=np.int16)
    data = chunk.data
    lines = _Lines(chunk, plan)
    empty_end = empty.encode("ascii") + b"\n"
    filled = data.replace(lines.ending, empty_end)
    if not data.endswith(b"\n"):
        filled += empty_end
    width = len(empty)
    # Line i starts i * grow bytes later than in the input: each ending before it grew so.
    grow = width + 1 - len(lines.ending)
    special = lines.special(here)
    suffixes = dict(
        zip(
            lines.decided_lines(here).tolist(),
            [s.encode("utf-8") for s in here["suffix"].to_list()],
            strict=True,
        )
    )
    kind = plan[special]
    shift = special * grow
    starts, ends = lines.starts[special], lines.ends[special]
    tail, newline = lines.tail[special], lines.has_newline[special]
    # What is kept of each line before its columns: a row up to its cut, a joined line up to
    # its ending (given back as it was), a line set aside nothing.
    keep = np.where(kind >= 0, ends - kind, np.where(kind == PLAN_JOIN, ends, starts)) + shift
    # Where the replaced text goes on: at the line feed after the empty columns; past it for a
    # line set aside, and for a joined last line without one.
    gone = (kind == PLAN_DROP) | ((kind == PLAN_JOIN) & ~newline)
    resume = tail + shift + width + gone
    ending_end = tail + (newline & lines.crlf)
    empty_bytes = empty.encode("ascii")
    view = memoryview(filled)
    pieces: list[bytes | bytearray | memoryview] = []
    position = 0
    for line, code, cut, after, low, high in zip(
        special.tolist(), kind.tolist(), keep.tolist(), resume.tolist(), ends.tolist(),
        ending_end.tolist(), strict=True,
    ):  # fmt: skip
        pieces.append(view[position:cut])
        if code >= 0:
            pieces.append(suffixes.get(line, empty_bytes))
        elif code == PLAN_JOIN:
            pieces.append(data[low:high])
        position = after
    pieces.append(view[position:])
    return pieces, int((plan >= 0).sum())


def _insert_columns(
    chunk: Chunk, here: pl.DataFrame, empty: str, plan: np.ndarray
) -> tuple[list[bytes | bytearray | memoryview], int]:
    """General path, vectorised over the chunk's bytes: each row's end (its CR, its line feed,
    the bytes the plan cuts) is removed and its columns and a line feed inserted in their
    place; lines left out are removed whole; a line whose break is inside a quoted field keeps
    its bytes and its break, and its row's columns go at the end of the row's last line."""
    data = chunk.data
    size = len(data)
    starts, ends = chunk.bounds
    breaks = np.append(starts[1:], size)  # where each line's next line starts
    rows = plan >= 0
    joined = plan == PLAN_JOIN
    # A decision is known by the row's first line; its columns go on the row's last line.
    row_ends = np.append(np.flatnonzero(~joined), len(starts) - 1)
    decided_at = (here["source_line"] - chunk.first_line).to_numpy()
    last_line = row_ends[np.minimum(np.searchsorted(row_ends, decided_at), len(row_ends) - 1)]
    suffix = np.full(len(starts), empty, dtype=object)
    suffix[last_line] = here["suffix"].to_list()
    texts = pl.Series(suffix[rows], dtype=pl.String) + "\n"
    cut = ends[rows] - plan[rows]
    inserted = np.frombuffer(texts.str.join("").item().encode("utf-8"), np.uint8)
    # Bytes removed: from each row's cut to its next line; every byte of a dropped line.
    dropped = plan == PLAN_DROP
    opened = np.bincount(np.concatenate((cut, starts[dropped])), minlength=size + 1)
    closed = np.bincount(np.concatenate((breaks[rows], breaks[dropped])), minlength=size + 1)
    keep = np.cumsum(opened[:size] - closed[:size]) == 0
    positions = np.repeat(cut, texts.str.len_bytes().to_numpy())
    body = np.insert(np.frombuffer(data, np.uint8), positions, inserted)
    kept = np.insert(keep, positions, True)
    return [body[kept].data], int(rows.sum())


def decade(column: str) -> pl.Expr:
    """'1990s' from a date column, 'unknown' when null."""
    return (
        pl.when(pl.col(column).is_null())
        .then(pl.lit("unknown"))
        .otherwise(pl.format("{}s", (pl.col(column).dt.year() // 10 * 10)))
    )


def as_of_text(day: date) -> str:
    return day.isoformat()
