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

import functools
import io
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from clearance import heap
from clearance.frames import ValueCache, compact_strings
from clearance.records import schema
from clearance.records.case_numbers import carry_case_numbers
from clearance.records.chunks import (
    MAX_LINE_BYTES,
    TOO_LONG,
    Chunk,
    ReadError,
    as_text,
    as_utf8,
    distinct_files,
    iter_chunks,
)
from clearance.records.layout import DOJ_LAYOUT, USED_COLUMNS, Layout, layout_of
from clearance.records.offenses import OFFENSE_SCHEMA, parse_offenses

#: Values that mean "nothing here" once padding is stripped.
_EMPTY_VALUES = ("", "-", "NULL")

ProgressCallback = Callable[[int], None]

__all__ = [
    "USED_COLUMNS",
    "ChunkRows",
    "FileStats",
    "ReadError",
    "Records",
    "finish_records",
    "quarantine_of",
    "read_chunks",
    "read_doj",
    "start_file",
    "total_bytes",
]


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
    #: "utf-8"; "latin-1" when every line that is not ASCII is Latin-1; "mixed" when both
    encoding: str = "utf-8"
    #: Lines read as Latin-1 because they are not valid UTF-8 (each line is decoded alone).
    latin1_lines: int = 0
    #: The header's names when its columns are not the DOJ order (matched by name); None
    #: for the DOJ order or no header.
    columns: tuple[str, ...] | None = None
    #: Columns of the header the DOJ layout does not have (kept in results.csv).
    extra_columns: tuple[str, ...] = ()
    #: The file's rows end in a comma (an empty field after the last): said by its header,
    #: else by most rows of its first chunk. Elsewhere an empty field too many is quarantined,
    #: since it may be an inner field that shifts every later column.
    trailing_comma: bool = False
    #: Rows that results.csv carries (every row of the right shape, loaded or quarantined).
    results_rows: int = 0
    #: What results.csv does with each physical line (see `LinePlan`); None when every data
    #: line is a row copied as it is. Filled by the reader, read by the results writer.
    plan: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: Whether `plan` was made by this reader (a table read back from a run folder has none).
    planned: bool = field(default=False, repr=False, compare=False)
    #: The longest line read whole (a longer one is quarantined): results.csv reads the file
    #: again with the same limit, so that its lines are the lines the plan speaks of.
    max_line_bytes: int = field(default=MAX_LINE_BYTES, repr=False, compare=False)


@dataclass
class Records:
    """The canonical tables of one or more input files (see `schema`)."""

    subjects: pl.DataFrame
    counts: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[FileStats] = field(default_factory=list)
    #: Counts that appeared in more than one file for the same person and were merged.
    merged_duplicate_counts: int = 0
    #: What the reading has to tell the user without stopping (a file given twice, a file with
    #: no usable row), one line each, naming files but never their content.
    warnings: list[str] = field(default_factory=list)
    #: The lines, in other files, of counts merged across files (`ELSEWHERE_SCHEMA`): a count is
    #: known by its first file and line; results.csv marks these lines with its decision too.
    lines_elsewhere: pl.DataFrame | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


#: A line of a count merged across files, in a file other than the count's own (`source_*`),
#: and the file and first line by which the count is known (`count_*`).
ELSEWHERE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "count_file": pl.String(),
    "count_line": pl.Int64(),
}


def reread(path: Path) -> FileStats:
    """A file's accounting, layout and line plan, read again: for a results.csv rebuilt from
    tables read back from a run folder, which do not keep them."""
    return read_doj([path]).files[0]


def total_bytes(paths: Sequence[Path]) -> int:
    """Bytes on disk of all inputs, for a progress bar."""
    return sum(p.stat().st_size for p in paths if p.is_file())


def read_doj(
    paths: Sequence[Path | str],
    progress: ProgressCallback | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Records:
    """Read DOJ bulk files into subjects, counts and quarantine, merging people by SUBJECT_ID.

    `progress`, when given, is called with the number of bytes (on disk) consumed since the last
    call, so a caller can drive a progress bar across several files. A line longer than
    `max_line_bytes` is quarantined ("line longer than N bytes") without being held whole.

    This is `read_chunks` over every file, then the merge of `finish_records` (here also
    setting aside lines that repeat a line of an earlier chunk): a reader that does not hold
    the whole record (buckets of people on disk, Spark) calls the same two steps itself.
    """
    stats: list[FileStats] = []
    counts: list[pl.DataFrame] = []
    people: list[pl.DataFrame] = []
    quarantined: list[pl.DataFrame] = []
    # A file named twice is read once: its sentence parts would otherwise be summed twice.
    files, repeats = distinct_files(paths)
    for index, path in enumerate(files):
        file_stats = FileStats(path=str(path), bytes=path.stat().st_size if path.is_file() else 0)
        stats.append(file_stats)
        for rows in read_chunks(path, index, file_stats, progress, max_line_bytes):
            # The lists are to be the only holders of the chunks' tables, so that each can be
            # freed as soon as the merge copies it.
            counts.append(rows.counts)
            people.append(rows.subjects)
            if rows.quarantine.height:
                quarantined.append(rows.quarantine)
            del rows
        # The chunks' byte strings are gone: their pages go back before the merge needs more.
        heap.release()
    # Lines that repeat a line of an earlier chunk byte for byte are found at the merge.
    dedupe = CrossChunkDuplicates(stats)
    elsewhere: list[pl.DataFrame] = []
    merged_counts, merged = _finish_counts(counts, len(stats), dedupe, elsewhere)
    quarantined += [
        found.with_columns(pl.col("source_file").cast(quarantined[0].schema["source_file"]))
        if quarantined
        else found
        for found in dedupe.found
    ]
    merged_counts = carry_case_numbers(merged_counts)
    return Records(
        subjects=_subjects(people, merged_counts),
        counts=merged_counts,
        quarantine=quarantine_of(quarantined),
        files=stats,
        merged_duplicate_counts=merged,
        warnings=[*repeated_warnings(repeats), *unusable_warnings(stats)],
        lines_elsewhere=elsewhere[0] if elsewhere else None,
    )


def repeated_warnings(repeats: Sequence[tuple[Path, Path]]) -> list[str]:
    """One line for each file given again under another spelling (read once)."""
    return [
        f"{again}: given more than once, read once"
        if again == first
        else f"{again}: the same file as {first}, read once"
        for again, first in repeats
    ]


def unusable_warnings(stats: Sequence[FileStats]) -> list[str]:
    """One line for each file of which no row could be used, beside files that have rows
    (when no file has any, the command says so as its own outcome)."""
    if not any(f.rows_loaded for f in stats):
        return []
    return [
        f"{f.path}: no usable rows: {f.rows_quarantined:,} quarantined, see quarantine.csv"
        for f in stats
        if f.rows_loaded == 0
    ]


@dataclass
class ChunkRows:
    """One chunk of a file read into canonical rows (what `read_chunks` yields).

    - `counts`: the chunk's rows as one-part counts, typed as `schema.COUNTS_SCHEMA` plus what
      merging the parts of a sentence needs (`_seq`: input order across files; `_key`: a hash
      of person and CNT_ORDER; each part's length and kind). A sentence's parts may straddle
      chunks and files, so counts are final only once `finish_records` has merged them.
    - `subjects`: the people the chunk names, with the first identity values it has.
    - `quarantine`: the chunk's rows set aside (`schema.QUARANTINE_SCHEMA` plus `_seq`);
      `quarantine_of` puts many chunks' in input order.
    - `loaded` rows and `blank` lines, `first_line` (the chunk's first physical line), and
      `plan`: what results.csv does with each of its lines (the file's whole plan is in its
      `FileStats.plan` once the last chunk is read).

    Every row of a person carries its `subject_id`, so the rows of any set of people may be
    split off (by a hash of SUBJECT_ID, say) and finished apart: each merge is within a person.
    """

    chunk_index: int
    counts: pl.DataFrame
    subjects: pl.DataFrame
    quarantine: pl.DataFrame
    loaded: int
    blank: int
    first_line: int
    plan: np.ndarray


def read_chunks(
    path: Path,
    file_index: int,
    stats: FileStats,
    progress: ProgressCallback | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[ChunkRows]:
    """Each chunk of the DOJ file `path`, parsed into canonical rows, in file order.

    `file_index` is the file's place among the run's inputs (it orders rows across files);
    `stats` is the file's accounting, filled in chunk by chunk, with its layout from the
    header and, once the last chunk has been yielded, its line plan. Chunks are parsed on
    worker threads a few ahead of the caller; memory holds those few chunks' text plus what
    the caller keeps. Raises `ReadError` for a file that is not a DOJ file.
    """
    plans: list[tuple[int, np.ndarray]] = []
    stats.max_line_bytes = max_line_bytes

    def collect(future: Future[ChunkRows], consumed: int) -> ChunkRows:
        rows = future.result()
        stats.blank_lines += rows.blank
        stats.rows_loaded += rows.loaded
        stats.rows_quarantined += rows.quarantine.height
        stats.rows_read += rows.loaded + rows.quarantine.height
        stats.results_rows += int((rows.plan >= 0).sum())
        plans.append((rows.first_line, rows.plan))
        if progress is not None:
            progress(consumed)
        return rows

    pending: deque[tuple[Future[ChunkRows], int]] = deque()
    with ThreadPoolExecutor(max_workers=_IN_FLIGHT) as pool:
        try:
            layout = DOJ_LAYOUT
            for index, (chunk, header) in enumerate(iter_chunks(path, max_line=max_line_bytes)):
                if index == 0:
                    layout = start_file(stats, header, path)
                    # The first chunk alone: it decides whether this is a DOJ file at all, and
                    # whether its rows end in a comma, before any other work starts.
                    first = pool.submit(
                        _process, chunk, 0, stats, path, file_index, True, layout, max_line_bytes
                    )
                    consumed = chunk.consumed
                    del chunk
                    yield collect(first, consumed)
                    continue
                work = pool.submit(
                    _process, chunk, index, stats, path, file_index, False, layout, max_line_bytes
                )
                pending.append((work, chunk.consumed))
                del chunk
                while len(pending) >= _IN_FLIGHT:
                    yield collect(*pending.popleft())
            while pending:
                yield collect(*pending.popleft())
        finally:
            for future, _ in pending:
                future.cancel()
    stats.plan = _file_plan(plans)
    stats.planned = True


def finish_records(
    counts: list[pl.DataFrame],
    subjects: list[pl.DataFrame],
    files: list[FileStats],
    quarantine: pl.DataFrame | None = None,
) -> Records:
    """The canonical record from chunks' rows (`ChunkRows.counts` and `.subjects`), given in
    input order: sentence parts that straddle chunks or files merged, case numbers carried
    from step to step, one row per person with the status flags of their record.

    The rows may be those of every person or of any set of people whose rows are all given
    (a bucket of people): every merge is within one person. `files` is the inputs'
    accounting (`merged_duplicate_counts` needs their number); `quarantine` the rows set aside
    (`quarantine_of`), empty when not given. `counts` is emptied as it is merged, so that
    each chunk's table is freed as soon as it is copied.
    """
    elsewhere: list[pl.DataFrame] = []
    merged_counts, merged = _finish_counts(counts, len(files), None, elsewhere)
    merged_counts = carry_case_numbers(merged_counts)
    people = _subjects(subjects, merged_counts)
    return Records(
        subjects=people,
        counts=merged_counts,
        quarantine=schema.empty(schema.QUARANTINE_SCHEMA) if quarantine is None else quarantine,
        files=files,
        merged_duplicate_counts=merged,
        lines_elsewhere=elsewhere[0] if elsewhere else None,
    )


def quarantine_of(chunks: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The quarantine of many chunks (`ChunkRows.quarantine`, in any order) as one table in
    input order, as `Records.quarantine` holds it."""
    frames = [q for q in chunks if q.height]
    if not frames:
        return schema.empty(schema.QUARANTINE_SCHEMA)
    return pl.concat(frames, how="vertical").sort("_seq").drop("_seq")


# --------------------------------------------------------------------------------------------
# The line plan: what results.csv does with each physical line of an input

#: results.csv leaves the line out: a blank line, a line whose fields are not the layout's, a
#: repeated header. The quarantine (or the blank-line count) holds it.
PLAN_DROP = -1
#: The line is not the end of its row: a quoted field holds its line break.
PLAN_JOIN = -2
# Any other value (0 or more) is the number of bytes cut from the end of the row before the
# decision columns: 0 for a row as it is, 1 for a trailing comma, 3 for a trailing `,""`.

#: Quarantine reasons of rows that have the layout's fields but are not rows of data.
_DROPPED_REASONS: tuple[str, ...] = (schema.REASON_REPEATED_HEADER,)


# --------------------------------------------------------------------------------------------
# Files and chunks


#: Chunks parsed at once. The native parser and Polars release the interpreter lock, but a
#: chunk's many small steps leave gaps; a third chunk in flight fills them on two cores (about
#: 5% faster on 1M rows, about 80 MB more memory). More would only hold more memory.
_IN_FLIGHT = 3


def _process(
    chunk: Chunk,
    chunk_index: int,
    stats: FileStats,
    path: Path,
    file_index: int,
    first: bool,
    layout: Layout,
    max_line: int,
) -> ChunkRows:
    """Parse a chunk and fold its rows, on a worker thread."""
    plan = np.zeros(chunk.line_count, dtype=np.int16)
    shape = _Shape(layout, stats, first, max_line)
    parsed, quarantine, blank = _fast_chunk(chunk, stats, path, shape, plan) or _slow_chunk(
        chunk, stats, path, shape, plan
    )
    if _DROPPED_REASONS:
        dropped = quarantine.filter(pl.col("reason").is_in(_DROPPED_REASONS))["source_line"]
        plan[(dropped - chunk.first_line).to_numpy()] = PLAN_DROP
    if b"\r" in chunk.data:
        parsed, quarantine = _set_aside_bare_cr(chunk, plan, parsed, quarantine, str(path))
    seq = _seq(file_index)
    parsed = parsed.with_columns(seq)
    return ChunkRows(
        chunk_index=chunk_index,
        counts=_as_parts(parsed),
        subjects=_people(parsed),
        quarantine=compact_strings(quarantine.with_columns(seq)),
        loaded=parsed.height,
        blank=blank,
        first_line=chunk.first_line,
        plan=plan,
    )


def _set_aside_bare_cr(
    chunk: Chunk, plan: np.ndarray, parsed: pl.DataFrame, quarantine: pl.DataFrame, source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with a carriage return inside an unquoted field, set aside and left out of
    results.csv.

    A CR outside quotes ends a line for many CSV readers (and for the DOJ's own older
    extracts), so the row cannot be copied into results.csv byte for byte without breaking
    the file for them, and reading the CR as part of a value (or as a space) would change a
    fact silently. A CR inside a quoted field is valid CSV and stays; a CR before a line feed
    is a line end (CRLF)."""
    rows = _bare_cr_rows(chunk, plan)
    if len(rows) == 0:
        return parsed, quarantine
    lines = rows + chunk.first_line
    loaded = parsed.filter(pl.col("source_line").is_in(lines)).select("source_line")
    if loaded.height:
        parsed = parsed.filter(~pl.col("source_line").is_in(lines))
        index = (loaded["source_line"] - chunk.first_line).to_numpy()
        found = pl.DataFrame(
            {
                "source_file": [source] * loaded.height,
                "source_line": loaded["source_line"],
                "reason": [schema.REASON_CR] * loaded.height,
                "raw": chunk.lines(index),
            },
            schema=schema.QUARANTINE_SCHEMA,
        )
        quarantine = pl.concat([quarantine, found], how="vertical").sort("source_line")
    return parsed, quarantine


def _bare_cr_rows(chunk: Chunk, plan: np.ndarray) -> np.ndarray:
    """The first lines (0-based in the chunk) of the rows holding a CR outside quotes; the
    lines of those rows get `PLAN_DROP`. Rare, so the few rows found are looked at one by
    one."""
    data = chunk.data
    buffer = np.frombuffer(data, dtype=np.uint8)
    crs = np.flatnonzero(buffer == 13)
    after = np.append(buffer, 10)[crs + 1]
    # A CR before a line feed, or ending the chunk, ends its line.
    crs = crs[(after != 10) & (crs + 1 < len(data))]
    if len(crs) == 0:
        return np.zeros(0, dtype=np.int64)
    starts, ends = chunk.bounds
    found: list[int] = []
    for line in np.unique(np.searchsorted(chunk.newlines, crs)).tolist():
        first = line
        while first > 0 and plan[first - 1] == PLAN_JOIN:
            first -= 1
        last = line
        while last < len(plan) - 1 and plan[last] == PLAN_JOIN:
            last += 1
        if found and found[-1] == first:
            continue
        begin, end = int(starts[first]), int(ends[last])
        mine = crs[(crs >= begin) & (crs < end)]
        # Inside quotes when an odd number of quotes precede it in its row.
        if any(data.count(b'"', begin, int(at)) % 2 == 0 for at in mine.tolist()):
            found.append(first)
            plan[first : last + 1] = PLAN_DROP
    return np.array(found, dtype=np.int64)


def _seq(file_index: int) -> pl.Expr:
    """Input order across files: (file, line) in one integer."""
    return (pl.lit(file_index, dtype=pl.Int64) * (1 << 40) + pl.col("source_line")).alias("_seq")


def start_file(stats: FileStats, header: bytes | None, path: Path) -> Layout:
    """The layout of a file from its header (see `layout.layout_of`), noted in its stats."""
    stats.header = header is not None
    layout = layout_of(header, path)
    if not layout.canonical:
        stats.columns = layout.names
    stats.extra_columns = layout.extras
    stats.trailing_comma = layout.trailing_comma
    return layout


def _file_plan(plans: list[tuple[int, np.ndarray]]) -> np.ndarray | None:
    """The plan of every line of a file from its chunks' (first line, plan), indexed by line
    number (line 1 at index 1: the header or the first row); None when every line is a row
    copied as it is."""
    if not any(plan.any() for _, plan in plans):
        return None
    last = max((first + len(plan) for first, plan in plans), default=1)
    whole = np.full(last, PLAN_DROP, dtype=np.int16)
    for first, plan in plans:
        whole[first : first + len(plan)] = plan
    return whole


_LATIN1_LOCK = threading.Lock()


def _latin1(stats: FileStats, latin1: int, utf8: int) -> None:
    """Count a chunk's lines read as Latin-1. The file's encoding is "latin-1" when some line
    was, "mixed" when a chunk held both Latin-1 lines and UTF-8 lines that are not ASCII."""
    if not latin1:
        return
    with _LATIN1_LOCK:
        stats.latin1_lines += latin1
        stats.encoding = "mixed" if utf8 or stats.encoding == "mixed" else "latin-1"


@dataclass
class _Shape:
    """What a row of a file looks like: its layout, and whether a trailing comma is the
    file's habit (decided on the first chunk, read by the others)."""

    layout: Layout
    stats: FileStats
    first: bool
    max_line: int

    @property
    def width(self) -> int:
        return self.layout.width

    @property
    def trailing_comma(self) -> bool:
        return self.stats.trailing_comma

    def settle_trailing_comma(self, fields: pl.Series, empty_last: pl.Series) -> None:
        """On the first chunk: rows end in a comma when most of them have one empty field
        more than the layout."""
        if not self.first or self.stats.trailing_comma:
            return
        n = self.width
        rows = fields.filter(fields.is_in([n, n + 1]))
        extra = ((fields == n + 1) & empty_last).sum()
        self.stats.trailing_comma = rows.len() > 0 and extra * 2 > rows.len()


def _shape_error(path: Path, fields: pl.Series, n: int) -> ReadError | None:
    """A file whose first rows are none of them rows of its layout is some other table."""
    sample = fields.head(200).drop_nulls()
    if sample.len() and not sample.is_in([n, n + 1]).any():
        found = sample.mode().sort()[0]
        return ReadError(
            f"{path}: not a DOJ bulk file: rows have {found} fields, the "
            f"{'header' if n != schema.DOJ_FIELD_COUNT else 'DOJ layout'} has {n}"
        )
    return None


# The fast path. Every line gets a sentinel field appended (`,\x02`) and the chunk goes whole to
# the native CSV parser with room for a few extra columns: the column the sentinel lands in is
# the number of fields the line had. A chunk parses to exactly one row per line unless a quote
# opened and never closed joins lines; then the chunk takes the slow path, line by line.
_SENTINEL = "\x02"


@functools.lru_cache(maxsize=64)
def _marked_columns(layout: Layout) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """(columns parsed, sentinel columns, projection) of the fast path for a layout."""
    width = layout.width + 4
    sentinels = tuple(range(layout.width - 1, width))
    return width, sentinels, tuple(sorted({0, 1, *layout.used, *sentinels}))


def _fast_chunk(
    chunk: Chunk, stats: FileStats, path: Path, shape: _Shape, plan: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame, int] | None:
    """Parse a chunk in one native pass; None when it needs the line-by-line path."""
    if not chunk.data:
        return _empty_rows(), schema.empty(schema.QUARANTINE_SCHEMA), 0
    data = chunk.data.replace(b"\r\n", b"\n") if b"\r" in chunk.data else chunk.data
    marked = data.replace(b"\n", b",\x02\n")
    if not marked.endswith(b"\n"):
        marked += b",\x02"
    layout = shape.layout
    try:
        frame = _read_marked(marked, layout)
    except pl.exceptions.ComputeError:
        if _is_utf8(data):
            # Valid UTF-8, so it is the quoting the parser refused: line by line finds the rows.
            return None
        # Not UTF-8: the DOJ's older extracts are Latin-1, which decodes any byte. Each line
        # is read as UTF-8 when it is, so a Latin-1 line does not garble its neighbours.
        converted, latin1, utf8 = as_utf8(marked)
        try:
            frame = _read_marked(converted, layout)
        except pl.exceptions.PolarsError:
            return None
        _latin1(stats, latin1, utf8)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != chunk.line_count:
        return None
    _, sentinels, _ = _marked_columns(layout)
    fields: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for k in reversed((1, *sentinels)):
        fields = pl.when(pl.col(f"f{k}") == _SENTINEL).then(pl.lit(k, pl.Int32)).otherwise(fields)
    n = layout.width
    frame = frame.with_columns(fields.alias("_fields")).with_row_index("_i")
    if shape.first and not frame["_fields"].head(200).is_in([n, n + 1]).any():
        # No row of the layout up front. The sentinel only sees 1 or n-1..n+3 fields, so the
        # line-by-line path counts them exactly and refuses the file if it is another table.
        return None
    if shape.first:
        shape.settle_trailing_comma(
            frame["_fields"], frame[f"f{n}"].fill_null("").eq("").fill_null(False)
        )
    blank = (pl.col("_fields") == 1) & (pl.col("f0").str.strip_chars() == "")
    trailing_ok = shape.trailing_comma
    ok = (pl.col("_fields") == n) | (
        (pl.col("_fields") == n + 1) & (pl.col(f"f{n}") == "") & pl.lit(trailing_ok)
    )
    frame = frame.with_columns(
        blank.fill_null(False).alias("_blank"), ok.fill_null(False).alias("_ok")
    )
    # A lone quoted empty field (`""`) parses like an empty line: only quote-free ones are blank.
    maybe_blank = frame.filter(pl.col("_blank"))["_i"].to_numpy()
    texts = chunk.lines(maybe_blank)
    quoted = [i for i, text in zip(maybe_blank, texts, strict=True) if '"' in text]
    if quoted:
        frame = frame.with_columns(pl.col("_blank") & ~pl.col("_i").is_in(quoted))
    # A NUL byte (or an over-long line's stand-in) is never part of a row.
    nul = _lines_with_nul(chunk)
    if len(nul):
        frame = frame.with_columns(pl.col("_ok") & ~pl.col("_i").is_in(nul))
    blank_count = int(frame["_blank"].sum())
    bad_index = frame.filter(~pl.col("_ok") & ~pl.col("_blank"))["_i"].to_numpy()
    bad = _bad_lines(chunk, bad_index, str(path), shape)
    plan[frame.filter(~pl.col("_ok"))["_i"].to_numpy()] = PLAN_DROP
    trailing = frame.filter(pl.col("_ok") & (pl.col("_fields") == n + 1))["_i"].to_numpy()
    if len(trailing):
        # The comma alone, or with an empty quoted field after it (`,""`).
        last = np.frombuffer(chunk.data, dtype=np.uint8)[chunk.bounds[1][trailing] - 1]
        plan[trailing] = np.where(last == ord('"'), 3, 1)
    good = frame.filter(pl.col("_ok")).select(
        (pl.col("_i").cast(pl.Int64) + chunk.first_line).alias("source_line"),
        *[pl.col(f"f{i}").alias(name) for i, name in zip(layout.used, USED_COLUMNS, strict=True)],
    )
    parsed, bad_values = _parse_fields(good, str(path), raw=lambda lines: _raw_of(chunk, lines))
    return parsed, pl.concat([bad, bad_values], how="vertical"), blank_count


def _lines_with_nul(chunk: Chunk) -> np.ndarray:
    """Indices (in the chunk) of the lines that hold a NUL byte."""
    if b"\x00" not in chunk.data:
        return np.zeros(0, dtype=np.int64)
    nuls = np.flatnonzero(np.frombuffer(chunk.data, dtype=np.uint8) == 0)
    return np.unique(np.searchsorted(chunk.newlines, nuls))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_marked(data: bytes, layout: Layout) -> pl.DataFrame:
    width, _, projection = _marked_columns(layout)
    return pl.read_csv(
        data,
        has_header=False,
        schema={f"f{i}": pl.String for i in range(width)},
        columns=list(projection),
        quote_char='"',
        empty_string_is_null=False,
        truncate_ragged_lines=True,
        missing_columns="insert",
    )


def _raw_of(chunk: Chunk, source_lines: pl.Series) -> pl.Series:
    """The raw text of some lines of the chunk, by file line number."""
    index = (source_lines - chunk.first_line).to_numpy()
    return pl.Series("raw", chunk.lines(index), dtype=pl.String)


def _bad_lines(chunk: Chunk, index: np.ndarray, source: str, shape: _Shape) -> pl.DataFrame:
    """Quarantine rows for lines that are not rows of the layout, with the reason."""
    if len(index) == 0:
        return schema.empty(schema.QUARANTINE_SCHEMA)
    lines = pl.DataFrame(
        {
            "source_line": (index.astype(np.int64) + chunk.first_line),
            "raw": chunk.lines(index),
        },
        schema={"source_line": pl.Int64, "raw": pl.String},
    )
    _, bad, _ = _classify(lines, source, shape)
    return bad


def _slow_chunk(
    chunk: Chunk, stats: FileStats, path: Path, shape: _Shape, plan: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Line by line: for a chunk whose quoting the native parser refuses or reads across lines
    (a quote that never closes, a quoted field holding a line break)."""
    try:
        text = chunk.data.decode("utf-8")
    except UnicodeDecodeError:
        converted, latin1, utf8 = as_utf8(chunk.data)
        _latin1(stats, latin1, utf8)
        text = converted.decode("utf-8")
    lines, joined = _join_quoted_breaks(_split_lines(text, chunk.first_line), shape)
    if shape.first:
        fields, _ = _field_counts(pl.col("raw"))
        counts = lines.filter(pl.col("raw").str.strip_chars() != "").select(
            fields.alias("n"), pl.col("raw").str.contains(r',(?:"")?\s*$').alias("comma")
        )
        if error := _shape_error(path, counts["n"], shape.width):
            raise error
        shape.settle_trailing_comma(counts["n"], counts["comma"])
    good, bad, blank = _classify(lines, str(path), shape)
    plan[:] = PLAN_DROP
    # A row read from several lines ends on its last line: its cut goes there, and the lines
    # before are joined to it.
    ends = good["source_line"].to_numpy().copy()
    if len(joined):
        last = np.searchsorted(joined[:, 0], ends)
        found = (last < len(joined)) & (joined[np.minimum(last, len(joined) - 1), 0] == ends)
        ends[found] = joined[last[found], 1]
        for first, end in joined.tolist():
            plan[first - chunk.first_line : end - chunk.first_line] = PLAN_JOIN
    plan[ends - chunk.first_line] = good["_trim"].to_numpy()
    good = good.drop("_trim")
    if good.height == 0:
        return _empty_rows(), bad, blank
    body = "\n".join(good["raw"].to_list()).encode("utf-8")
    used = shape.layout.used
    fields_frame = pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        columns=sorted(set(used)),
        infer_schema=False,
        quote_char='"',
    )
    # Projected columns come back in file order, named differently across Polars versions.
    fields_frame.columns = [f"f{i}" for i in sorted(set(used))]
    fields_frame = fields_frame.select(
        pl.col(f"f{i}").alias(name) for i, name in zip(used, USED_COLUMNS, strict=True)
    )
    frame = pl.concat([good.select("source_line"), fields_frame], how="horizontal")
    raw_by_line = dict(zip(good["source_line"].to_list(), good["raw"].to_list(), strict=True))
    parsed, bad_values = _parse_fields(
        frame,
        str(path),
        raw=lambda src: pl.Series("raw", [raw_by_line[i] for i in src.to_list()], dtype=pl.String),
    )
    return parsed, pl.concat([bad, bad_values], how="vertical"), blank


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


#: Physical lines one quoted field may span (a field with a few line breaks in it).
_MOST_JOINED = 8


def _join_quoted_breaks(lines: pl.DataFrame, shape: _Shape) -> tuple[pl.DataFrame, np.ndarray]:
    """Rows whose quoted field holds a line break, as one row: a line with an odd number of
    quotes is joined with the lines after it when together they make one well-quoted row of the
    layout. Returns the lines (a joined row under its first line's number) and the numbers of
    the (first, last) line numbers of each row read from several lines, in order. Anything
    else is left as it was, to be set aside."""
    quotes = lines["raw"].str.count_matches('"', literal=True)
    odd = np.flatnonzero((quotes % 2 == 1).to_numpy())
    if len(odd) == 0:
        return lines, np.zeros((0, 2), dtype=np.int64)
    raw = lines["raw"].to_list()
    numbers = lines["source_line"].to_numpy()
    n = shape.width
    gone: set[int] = set()
    joined: list[tuple[int, int]] = []
    for start in odd.tolist():
        if start in gone:
            continue
        text = raw[start]
        for end in range(start + 1, min(start + _MOST_JOINED, len(raw))):
            text = text + "\n" + raw[end]
            if raw[end].count('"') % 2 == 0:
                continue
            fields = re.sub(r'"[^"]*"', "", text).count(",") + 1
            well_quoted = re.fullmatch(_WELL_QUOTED, text) is not None
            trailing = (shape.trailing_comma or shape.layout.trailing_comma) and fields == n + 1
            if well_quoted and (fields == n or trailing):
                raw[start] = text
                gone.update(range(start + 1, end + 1))
                joined.append((int(numbers[start]), int(numbers[end])))
            break
    if not gone:
        return lines, np.zeros((0, 2), dtype=np.int64)
    # A joined row keeps its first line's number (the plan marks the lines it spans).
    keep = np.ones(len(raw), dtype=bool)
    keep[list(gone)] = False
    kept = pl.DataFrame(
        {"source_line": numbers[keep], "raw": [r for r, k in zip(raw, keep, strict=True) if k]}
    )
    return kept, np.array(joined, dtype=np.int64).reshape(-1, 2)


#: A line of RFC 4180 fields: bare (no quote, no comma) or wholly quoted with quotes doubled.
#: Anything else (`"DOE"JR`, `O"NEIL`, an unclosed quote) is read differently by every CSV
#: parser, and the native one refuses some of it outright. Spaces after the line's last field
#: are padding.
_WELL_QUOTED = r'^(?:[^",]*|"(?:[^"]|"")*")(?:,(?:[^",]*|"(?:[^"]|"")*"))*[ \t]*$'


def _field_counts(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(number of fields, quotes well formed) of a raw CSV line, quoted commas not counted."""
    unquoted = raw.str.replace_all(r'"[^"]*"', "")
    return (
        unquoted.str.count_matches(",", literal=True) + 1,
        raw.str.contains(_WELL_QUOTED),
    )


def _classify(
    lines: pl.DataFrame, source: str, shape: _Shape
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Split lines into rows of the layout and quarantined ones; count blank lines."""
    fields, balanced = _field_counts(pl.col("raw"))
    n = shape.width
    marked = lines.with_columns(
        fields.alias("_fields"),
        balanced.alias("_balanced"),
        (pl.col("raw").str.strip_chars() == "").alias("_blank"),
        pl.col("raw").str.contains("\x00", literal=True).alias("_nul"),
    )
    blank = int(marked["_blank"].sum())
    marked = marked.filter(~pl.col("_blank"))
    # A trailing comma: a last field that is empty, bare or quoted (`""`) as the parser sees
    # it, on a file whose rows end so; elsewhere it may be an inner empty field too many.
    comma = pl.col("raw").str.contains(r',(?:"")?[ \t]*$') & (pl.col("_fields") == n + 1)
    trailing = comma & pl.lit(shape.trailing_comma)
    ok = pl.col("_balanced") & ~pl.col("_nul") & ((pl.col("_fields") == n) | trailing)
    # Spaces after a closing quote of the last field are padding: cut from the row, like the
    # trailing comma (spaces after a bare field are part of it, and harmless).
    good = marked.filter(ok).select(
        "source_line",
        pl.when(trailing)
        .then(pl.col("raw").str.replace(_TRAILING_COMMA, ""))
        .otherwise(pl.col("raw").str.replace(_PADDING, '"'))
        .alias("raw"),
        # The bytes results.csv cuts from the end of the row.
        pl.when(trailing)
        .then(pl.col("raw").str.extract(_TRAILING_COMMA, 1).str.len_bytes())
        # The closing quote `_PADDING` matches stays in the row.
        .otherwise(pl.col("raw").str.extract(_PADDING, 1).str.len_bytes() - 1)
        .fill_null(0)
        .cast(pl.Int16)
        .alias("_trim"),
    )
    upper = pl.col("raw").str.to_uppercase()
    header = upper.str.contains(r'(?:^|,)"?\s*SUBJECT_ID\s*"?(?:,|$)') & upper.str.contains(
        r'(?:^|,)"?\s*CNT_ORDER\s*"?(?:,|$)'
    )
    bad = marked.filter(~ok).select(
        pl.lit(source).alias("source_file"),
        "source_line",
        pl.when(pl.col("raw").str.starts_with(TOO_LONG.decode("latin-1")))
        .then(pl.lit(schema.REASON_TOO_LONG))
        .when(pl.col("_nul"))
        .then(pl.lit(schema.REASON_NUL))
        .when(header)
        .then(pl.lit(schema.REASON_REPEATED_HEADER))
        .when(~pl.col("_balanced"))
        .then(pl.lit(schema.REASON_UNBALANCED_QUOTES))
        .when(comma)
        .then(
            pl.format(
                "{}: {} instead of {} (an empty field too many; the file's rows do not end "
                "in a comma)",
                pl.lit(schema.REASON_FIELD_COUNT),
                pl.col("_fields"),
                pl.lit(n),
            )
        )
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
    return good, _too_long_reasons(bad, shape.max_line), blank


_TRAILING_COMMA = r'(,(?:"")?[ \t]*)$'
_PADDING = r'("[ \t]+)$'


def _too_long_reasons(bad: pl.DataFrame, limit: int) -> pl.DataFrame:
    """An over-long line's quarantine row: the limit in the reason, the line's length after it,
    its first bytes as its text."""
    long = bad["reason"] == schema.REASON_TOO_LONG
    if not long.any():
        return bad
    reasons = bad["reason"].to_list()
    raws = bad["raw"].to_list()
    for i in long.arg_true().to_list():
        digits, _, start = raws[i][len(TOO_LONG) :].partition("\x01")
        length = f": {int(digits):,} bytes" if digits.isdigit() else ""
        reasons[i] = f"{schema.REASON_TOO_LONG} {limit} bytes{length}"
        raws[i] = start + "..."
    return bad.with_columns(
        pl.Series("reason", reasons, dtype=pl.String), pl.Series("raw", raws, dtype=pl.String)
    )


# --------------------------------------------------------------------------------------------
# Parsing well-formed lines


def _clean(name: str) -> pl.Expr:
    """A DOJ value with padding removed and placeholders (`  -  `, `NULL  `, blank) as null."""
    value = pl.col(name).str.strip_chars()
    return pl.when(value.is_in(_EMPTY_VALUES)).then(None).otherwise(value)


def _date(value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(parsed date or null, garbled): unknown markers are null and not garbled."""
    # Eight ASCII digits only: the parser alone also reads `2019011` or `2019 101` as a day.
    # Zeros mark the unknown parts (`YYYY0000`, `YYYYMM00`, and a year `0000`).
    unknown = (
        value.is_null()
        | value.str.contains(r"^[0-9]{4}(0000|(0[1-9]|1[0-2])00)$")
        | value.str.contains(r"^0+$|^0000[0-9]{4}$")
    )
    eight = value.str.contains(r"^[0-9]{8}$") & ~unknown
    parsed = pl.when(eight).then(value.str.to_date("%Y%m%d", strict=False))
    return parsed, parsed.is_null() & ~unknown


def _parse_fields(
    frame: pl.DataFrame, source: str, raw: Callable[[pl.Series], pl.Series]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical row columns from the DOJ fields of well-formed lines; set aside the rows that
    lack what they need. `raw` gives the text of lines by number, only for those set aside."""
    if frame.height == 0:
        return _empty_rows(), schema.empty(schema.QUARANTINE_SCHEMA)
    per_row = ("SUBJECT_ID", "CNT_ORDER", "CII_NUMBER", "PRI_NAME", "GENDER", "OFN",
               "FE_NUM_CRT_CASE")  # fmt: skip
    frame = frame.with_columns(*[_clean(c).alias(c) for c in per_row])
    for dates in _DATES:
        frame = dates.apply(frame)
    reason = (
        pl.when(
            (pl.col("SUBJECT_ID").str.to_uppercase() == "SUBJECT_ID")
            & (pl.col("CNT_ORDER").str.to_uppercase() == "CNT_ORDER")
        )
        .then(pl.lit(schema.REASON_REPEATED_HEADER))
        .when(pl.col("SUBJECT_ID").is_null())
        .then(pl.lit(schema.REASON_NO_SUBJECT))
        .when(pl.col("CNT_ORDER").is_null() | ~pl.col("CNT_ORDER").str.contains(r"^[0-9]{12}$"))
        .then(pl.lit(schema.REASON_BAD_CNT_ORDER))
        .when(pl.col("_event_garbled"))
        .then(pl.lit(schema.REASON_BAD_DATE))
        # A date of birth or a cycle date that is there but unreadable would become "unknown"
        # and change an age or the offense date: set aside, never guessed.
        .when(pl.col("_cycle_garbled"))
        .then(pl.lit(schema.REASON_BAD_CYCLE_DATE))
        .when(pl.col("_dob_garbled"))
        .then(pl.lit(schema.REASON_BAD_DOB))
        .otherwise(None)
    )
    frame = frame.with_columns(reason.alias("_reason"))
    frame = _mark_duplicates(frame, raw)
    bad = frame.filter(pl.col("_reason").is_not_null()).select(
        pl.lit(source).alias("source_file"), "source_line", pl.col("_reason").alias("reason")
    )
    bad = bad.with_columns(raw(bad["source_line"]).alias("raw"))
    kept = frame.filter(pl.col("_reason").is_null())
    return _canonical_rows(kept, source), bad


def _mark_duplicates(frame: pl.DataFrame, raw: Callable[[pl.Series], pl.Series]) -> pl.DataFrame:
    """A line that repeats an earlier line of its chunk byte for byte is set aside as a
    duplicate: read as another row, it would be summed as one more part of the sentence.
    Rows equal in every column read are the candidates; their texts settle it, each line
    against the first line of the same text (not merely the first of equal values)."""
    hashes = frame.select(pl.struct(USED_COLUMNS).hash()).to_series()
    shared = hashes.is_duplicated()
    if not shared.any():
        return frame
    members = pl.DataFrame({"_h": hashes, "source_line": frame["source_line"]}).filter(shared)
    members = members.with_columns(raw(members["source_line"]).alias("_raw"))
    firsts = members.group_by("_h", "_raw", maintain_order=True).agg(
        pl.col("source_line").first().alias("_first")
    )
    duplicates = members.join(firsts, on=["_h", "_raw"], how="left", maintain_order="left").filter(
        pl.col("source_line") != pl.col("_first")
    )
    if duplicates.height == 0:
        return frame
    reasons = duplicates.select(
        "source_line",
        pl.format("{} {}", pl.lit(schema.REASON_DUPLICATE), pl.col("_first")).alias("_dup"),
    )
    return (
        frame.join(reasons, on="source_line", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_reason", "_dup").alias("_reason"))
        .drop("_dup")
    )


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


def _offense_choice() -> dict[str, pl.Expr]:
    """The offense of conviction when recorded, else at disposition, else as charged, with the
    type of charge that goes with it; `_see_comment` when the charge is only in the comment."""
    conv, disp, charged = (_clean(c) for c in ("CONV_OFFENSE_DESCR", "DISP_OFFENSE_DESCR",
                                                "OFFENSE_DESCR"))  # fmt: skip
    chosen = pl.coalesce(conv, disp, charged)
    toc = (
        pl.when(conv.is_not_null())
        .then(_clean("CONV_OFFENSE_TOC"))
        .when(disp.is_not_null())
        .then(_clean("DISP_OFFENSE_TOC"))
        .otherwise(_clean("OFFENSE_TOC"))
    )
    return {
        "_chosen": chosen,
        "_see_comment": chosen.is_null() | chosen.str.to_uppercase().str.starts_with("SEE COMMENT"),
        "level": _level(_clean("CONV_STAT_DESCR"), toc).cast(schema.LEVEL),
    }


_OFFENSE_KEYS = ["CONV_OFFENSE_DESCR", "DISP_OFFENSE_DESCR", "OFFENSE_DESCR", "CONV_OFFENSE_TOC",
                 "DISP_OFFENSE_TOC", "OFFENSE_TOC", "CONV_STAT_DESCR"]  # fmt: skip
_SENTENCE_KEYS = ["SENT_LENGTH", "SENT_TIME_CODE", "SENT_TIME_DESCR", "SENT_LOC_DESCR"]

#: Kinds of sentence part (`_kind`): how a part runs beside the others of its count.
#: Probation, fines and the rest run together with the custody they go with; jail and prison
#: are custody; parole, PRCS and mandatory supervision follow the custody (prop64.md section 2).
PART_OTHER, PART_JAIL, PART_PRISON, PART_SUPERVISION = 0, 1, 2, 3

_SUPERVISION = r"PAROLE|PRCS|POST[- ]?RELEASE|COMMUNITY SUP|MAND(?:ATORY)?[ .]*SUP|^MS$|\bM/S\b"


def _sentence_parts() -> dict[str, pl.Expr]:
    """Years, months and days of one sentence part (units D/M/Y, padded or spelled out), and
    its kind (see `PART_OTHER`)."""
    unit = pl.coalesce(_clean("SENT_TIME_CODE"), _clean("SENT_TIME_DESCR")).str.to_uppercase()
    length = _clean("SENT_LENGTH").str.extract(r"^(\d{1,5})", 1).cast(pl.Int32, strict=False)
    where = _clean("SENT_LOC_DESCR").str.to_uppercase()
    kind = (
        pl.when(where.str.contains(_SUPERVISION))
        .then(PART_SUPERVISION)
        .when(where.str.contains("PRISON|CDC"))
        .then(PART_PRISON)
        .when(where.str.contains("JAIL"))
        .then(PART_JAIL)
        .otherwise(PART_OTHER)
    )
    return {
        "_years": pl.when(unit.str.starts_with("Y")).then(length).otherwise(0).fill_null(0),
        "_months": pl.when(unit.str.starts_with("M")).then(length).otherwise(0).fill_null(0),
        "_days": pl.when(unit.str.starts_with("D")).then(length).otherwise(0).fill_null(0),
        "_kind": kind.fill_null(PART_OTHER).cast(pl.Int8),
    }


def _canonical_rows(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Row-level canonical columns (before sentence parts are folded into counts)."""
    # Results are computed once per distinct value (see `_VALUES`), typed there (Enum,
    # Categorical), and spread back: the rows never hold these texts as strings.
    for cache in _VALUES:
        frame = cache.apply(frame)
    return frame.select(
        pl.col("SUBJECT_ID").alias("subject_id"),
        pl.col("CII_NUMBER").alias("cii_number"),
        pl.col("PRI_NAME").alias("name"),
        "dob",
        pl.col("GENDER").alias("sex"),
        pl.col("CNT_ORDER").alias("count_id"),
        pl.col("CNT_ORDER").str.slice(0, 3).cast(pl.Categorical).alias("cycle_id"),
        pl.col("CNT_ORDER").str.slice(0, 6).cast(pl.Categorical).alias("event_id"),
        "step_type",
        "event_date",
        "offense_date",
        "cycle_age",
        "county",
        pl.coalesce(pl.col("OFN"), pl.col("FE_NUM_CRT_CASE")).alias("court_case_number"),
        pl.when("_see_comment")
        .then(_clean("COMMENT_TEXT"))
        .otherwise(pl.col("_chosen"))
        .cast(pl.Categorical)
        .alias("offense_raw"),
        "disposition",
        "level",
        "_years",
        "_months",
        "_days",
        "_kind",
        pl.lit(source, dtype=pl.Categorical).alias("source_file"),
        "source_line",
    )


_ROW_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "cii_number": pl.String(),
    "name": pl.String(),
    "dob": pl.Date(),
    "sex": pl.String(),
    "count_id": pl.String(),
    "cycle_id": pl.Categorical(),
    "event_id": pl.Categorical(),
    "step_type": schema.STEP_TYPE,
    "event_date": pl.Date(),
    "offense_date": pl.Date(),
    "cycle_age": pl.Int32(),
    "county": pl.Categorical(),
    "court_case_number": pl.String(),
    "offense_raw": pl.Categorical(),
    "disposition": schema.DISPOSITION,
    "level": schema.LEVEL,
    "_years": pl.Int32(),
    "_months": pl.Int32(),
    "_days": pl.Int32(),
    "_kind": pl.Int8(),
    "source_file": pl.Categorical(),
    "source_line": pl.Int64(),
}


def _empty_rows() -> pl.DataFrame:
    return schema.empty(_ROW_SCHEMA)


# --------------------------------------------------------------------------------------------
# Folding rows into counts and people


_KEY = ["subject_id", "count_id"]
_LENGTH = ("_years", "_months", "_days")
#: A part's length and kind, kept on each row until parts are merged.
_SUMS = (*_LENGTH, "_kind")
_IDENTITY = ("name", "cii_number", "dob", "sex")


def _as_parts(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows as finished one-part counts, on the worker: sentence end, offense parsed, typed as
    the counts schema. They keep `_seq`, their own sentence lengths and the hash of their key
    (person, CNT_ORDER), which the end of the read needs to merge parts of one sentence.
    Doing the per-row work here keeps it parallel and leaves the end of the read to patch the
    few merged counts, without copying the whole table."""
    rows = rows.with_columns(
        pl.concat_list(pl.col("source_line").cast(pl.Int64)).alias("source_lines"),
        pl.lit(1, dtype=pl.Int32).alias("source_rows"),
    )
    rows = _with_sentence_end(rows).with_columns(
        pl.col("sentence_end").alias("sentence_end_consecutive"),
        pl.col("sentence_end").alias("sentence_end_added"),
    )
    # Offense texts repeat a lot: parse each distinct text once and spread it back.
    rows = _OFFENSES.apply(rows).unnest("_offense")
    return rows.select(
        "_seq",
        *[pl.col(c).cast(t) for c, t in schema.COUNTS_SCHEMA.items()],
        *_SUMS,
        pl.struct(_KEY).hash().alias("_key"),
    )


#: The columns of the repeated keys' rows that merging reads.
_GROUPED = [*_KEY, "source_file", "_seq", "source_line", "event_date", "sentence_end", *_SUMS]


def _merge_parts(
    parts: list[pl.DataFrame],
    across: list[int],
    dedupe: CrossChunkDuplicates | None = None,
    elsewhere: list[pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """One row per (person, CNT_ORDER): repeated rows are parts of one sentence, in one file or
    across files (see `_sentence_totals` for when the sentence ends); the other values are the
    first part's. Most counts have one part, so only the repeated keys are grouped. Returns the
    counts, in input order. `dedupe`, when given, takes out of the grouping the rows that
    repeat a line of an earlier chunk of their file byte for byte (see `CrossChunkDuplicates`);
    `elsewhere`, when given, receives the lines of counts merged across files that are not in
    the count's own file (`ELSEWHERE_SCHEMA`).

    A statewide file has millions of counts, so the whole table is never copied: each chunk's
    later parts are dropped and its merged counts patched with their totals, chunk by chunk,
    and each chunk table is released as its copy is made.
    """
    # A hash finds the repeated keys cheaply; a collision only sends a count to the grouping.
    keys = pl.concat([p["_key"] for p in parts], rechunk=True)
    repeated = _is_repeated(keys)
    if not repeated.any():
        return pl.concat([_finished(p) for p in parts], how="vertical", rechunk=False)
    # Which repeats are not the first part: asked of the repeated keys alone (a few percent).
    at = repeated.arg_true()
    later = pl.Series(np.zeros(len(keys), dtype=bool)).scatter(
        at, ~keys.gather(at).is_first_distinct()
    )
    del keys, at
    grouped: list[pl.DataFrame] = []
    offset = 0
    for index, part in enumerate(parts):
        mine = repeated.slice(offset, part.height)
        drop = later.slice(offset, part.height)
        offset += part.height
        if mine.any():
            chosen = part.filter(mine)
            if dedupe is None:
                grouped.append(chosen.select(_GROUPED))
            else:
                grouped.append(
                    chosen.select(
                        *_GROUPED, pl.lit(index, pl.Int32).alias("_part"), _value_hash(chosen)
                    )
                )
        if drop.any():
            parts[index] = part.filter(~drop)
    del part
    rows = pl.concat(grouped, how="vertical")
    if dedupe is not None:
        rows = dedupe.take_out(rows).select(_GROUPED)
    if elsewhere is not None:
        elsewhere.append(_lines_elsewhere(rows))
    totals = _sentence_totals(rows)
    del rows
    across.append(int((totals["_files"] > 1).sum()))
    del grouped
    # Parts are in input order, so `_seq` ascends across them: each part's totals are a slice.
    seqs = totals["_seq"].to_numpy()
    for index, part in enumerate(parts):
        if part.height:
            low, high = np.searchsorted(seqs, [part["_seq"][0], part["_seq"][-1] + 1])
            if high > low:
                part = _with_totals(part, totals.slice(int(low), int(high - low)))
        parts[index] = _finished(part)
    return pl.concat(parts, how="vertical", rechunk=False)


def _lines_elsewhere(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows (of repeated keys) in another file than their count's first part, with the
    count's file and line (`ELSEWHERE_SCHEMA`)."""
    first = rows.sort("_seq").with_columns(
        pl.col("source_file").first().over(_KEY).alias("count_file"),
        pl.col("source_line").first().over(_KEY).alias("count_line"),
    )
    return first.filter(pl.col("source_file") != pl.col("count_file")).select(
        pl.col(c).cast(t) for c, t in ELSEWHERE_SCHEMA.items()
    )


def _value_hash(rows: pl.DataFrame) -> pl.Expr:
    """A hash of everything a row's line said (its canonical values), its line number aside:
    two lines that are byte for byte the same have the same hash."""
    skip = {"source_line", "source_lines", "_seq", "_key"}
    # Texts are hashed as texts, whatever their dictionary encoding in each chunk.
    values = [
        pl.col(c).cast(pl.String) if rows.schema[c] == pl.Categorical() else pl.col(c)
        for c in rows.columns
        if c not in skip
    ]
    return pl.struct(values).hash().alias("_vh")


@dataclass
class CrossChunkDuplicates:
    """Lines that repeat a line of an earlier chunk of their file byte for byte.

    Within a chunk its lines' texts are at hand (`_mark_duplicates`); across chunks they are
    gone, and holding every line's text to the end of a read would double its memory. But a
    line that repeats another has the same person and CNT_ORDER, so it is among the rows of
    repeated keys that merging groups anyway (a few percent), and it has every value of that
    line: hashes of the values find the candidates, and only their lines are read again from
    the file to compare their bytes. A duplicate is set aside ("exact duplicate of line N"),
    not summed as one more sentence part; results.csv still carries it, as it does every
    quarantined row of the layout's shape.
    """

    files: list[FileStats]
    #: The quarantine rows of the duplicates found (with `_seq`), one frame per call.
    found: list[pl.DataFrame] = field(default_factory=list)

    def take_out(self, rows: pl.DataFrame) -> pl.DataFrame:
        """`rows` (grouped rows with `_part` and `_vh`) without the duplicates found."""
        # Equal hashes are rare among the rows of repeated keys (parts differ): only those
        # rows are asked whether they come from more than one chunk of a file.
        same = rows["_vh"].is_duplicated()
        if not same.any():
            return rows
        shared = pl.col("_part").n_unique().over("source_file", "_vh") > 1
        candidates = rows.filter(same).filter(shared)
        if candidates.height == 0:
            return rows
        gone: list[pl.DataFrame] = []
        for source, group in candidates.partition_by("source_file", as_dict=True).items():
            stats = self._stats(str(source[0]))
            lines = group["source_line"].unique().sort().to_numpy()
            texts = _line_texts(Path(stats.path), lines, stats.plan, stats.max_line_bytes)
            found = _repeats(group, texts)
            if found.height:
                stats.rows_loaded -= found.height
                stats.rows_quarantined += found.height
                gone.append(found)
        if not gone:
            return rows
        duplicates = pl.concat(gone, how="vertical")
        self.found.append(duplicates.select(*schema.QUARANTINE_SCHEMA, "_seq"))
        return rows.join(duplicates.select("_seq"), on="_seq", how="anti", maintain_order="left")

    def _stats(self, path: str) -> FileStats:
        return next(f for f in self.files if f.path == path)


def _repeats(group: pl.DataFrame, texts: dict[int, bytes]) -> pl.DataFrame:
    """Quarantine rows (with `_seq`) for the lines of `group` (one file) whose bytes repeat an
    earlier line of the same values: each is a duplicate of the first line of its text."""
    found = [texts.get(n, b"") for n in group["source_line"].to_list()]
    lines = group.select("source_file", "source_line", "_seq", "_vh").with_columns(
        pl.Series("_text", found, dtype=pl.Binary)
    )
    firsts = pl.col("source_line").min().over("_vh", "_text")
    repeats = lines.with_columns(firsts.alias("_first")).filter(
        pl.col("source_line") != pl.col("_first")
    )
    return repeats.select(
        pl.col("source_file").cast(pl.String),
        "source_line",
        pl.format("{} {}", pl.lit(schema.REASON_DUPLICATE), pl.col("_first")).alias("reason"),
        pl.Series([as_text(t) for t in repeats["_text"].to_list()], dtype=pl.String).alias("raw"),
        "_seq",
    )


def _line_texts(
    path: Path, wanted: np.ndarray, plan: np.ndarray | None, max_line: int
) -> dict[int, bytes]:
    """The bytes of some rows of a file, read again (a row's line break is left out; a row
    whose quoted field holds line breaks runs to its last line)."""
    texts: dict[int, bytes] = {}
    if len(wanted) == 0:
        return texts
    for chunk, _ in iter_chunks(path, max_line=max_line):
        low, high = np.searchsorted(wanted, [chunk.first_line, chunk.first_line + chunk.line_count])
        if high == low:
            if chunk.first_line > wanted[-1]:
                break
            continue
        starts, ends = chunk.bounds
        for number in wanted[low:high].tolist():
            last = number
            while plan is not None and last < len(plan) and plan[last] == PLAN_JOIN:
                last += 1
            last = min(last, chunk.first_line + chunk.line_count - 1)
            begin = int(starts[number - chunk.first_line])
            texts[number] = chunk.data[begin : int(ends[last - chunk.first_line])]
    return texts


def _is_repeated(keys: pl.Series) -> pl.Series:
    """Whether each key occurs more than once. Sorted, equal keys are neighbours: on ten million
    keys this takes a third of the time of a hash table of them all."""
    order = keys.arg_sort()
    ranked = keys.gather(order)
    same = (ranked == ranked.shift(1)).fill_null(False)
    repeated = same | same.shift(-1, fill_value=False)
    return pl.Series(np.zeros(len(keys), dtype=bool)).scatter(order, repeated)


def _finished(part: pl.DataFrame) -> pl.DataFrame:
    """A chunk's counts without the columns only merging needed."""
    return part.drop("_seq", "_key", *_SUMS)


def _with_totals(part: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    """A chunk's merged counts get their summed lengths, sentence end and lines; the totals are
    those whose first part is in this chunk, in `_seq` order like the chunk's rows."""
    rows = np.searchsorted(part["_seq"].to_numpy(), totals["_seq"].to_numpy())
    merged = totals.select(pl.col(c).cast(part.schema[c]) for c in (*_PATCHED, "source_lines"))
    # Lists cannot be scattered: each row takes its merged list by position, if it has one.
    at = pl.Series(np.full(part.height, -1, dtype=np.int64)).scatter(rows, np.arange(len(rows)))
    lines = pl.select(
        pl.when(at >= 0)
        .then(merged["source_lines"].gather(at.clip(0)))
        .otherwise(part["source_lines"])
    ).to_series()
    return part.with_columns(
        *[part[c].rechunk().scatter(rows, merged[c]) for c in _PATCHED],
        lines.alias("source_lines"),
    )


#: The columns a merged count changes on its first part, besides its list of lines.
_PATCHED = (
    "sentence_end",
    "sentence_end_consecutive",
    "sentence_end_added",
    "sentence_days",
    "source_rows",
)


def _sentence_totals(parts: pl.DataFrame) -> pl.DataFrame:
    """When each merged count's sentence ends, from its parts (prop64.md section 2).

    Parts run together: the sentence ends when its longest-running part ends (probation with
    jail as its condition ends with the probation; it is not the two added up). Parole, PRCS
    and mandatory supervision follow the custody they go with: they end after the longest
    custody part plus their own length. `sentence_end_consecutive` is the end when prison
    terms are served one after the other (added up; a policy switch reads it), and
    `sentence_end_added` the end with every part added up, as the pilot counties' tools read
    it (their flows reproduce them). The same part
    given again in a later file is the same part (a file delivered twice), kept once; lines
    are listed for the count's own file (the first to give it)."""
    files = (
        parts.sort("_seq")
        .with_columns(
            pl.col("source_file").first().over(_KEY).alias("_file"),
            pl.col("source_file").n_unique().over(_KEY).alias("_in_files"),
        )
        .filter(
            (pl.col("source_file") == pl.col("_file"))
            | (pl.col("source_file").first().over([*_KEY, *_SUMS]) == pl.col("source_file"))
        )
    )
    custody = pl.col("_kind").is_in([PART_JAIL, PART_PRISON])
    supervision = pl.col("_kind") == PART_SUPERVISION
    prison = pl.col("_kind") == PART_PRISON
    span = pl.col("_years") * 372 + pl.col("_months") * 31 + pl.col("_days")
    grouped = files.group_by(_KEY).agg(
        pl.col("_seq").min(),
        pl.col("event_date").first(),
        pl.col("sentence_end").filter(~supervision).max().alias("_together"),
        *[
            pl.col(c)
            .filter(custody)
            .sort_by(pl.col("sentence_end").filter(custody))
            .last()
            .alias(f"_custody{c}")
            for c in _LENGTH
        ],
        *[
            pl.col(c)
            .filter(supervision)
            .sort_by(span.filter(supervision))
            .last()
            .alias(f"_after{c}")
            for c in _LENGTH
        ],
        *[pl.col(c).filter(prison).sum().alias(f"_prison{c}") for c in _LENGTH],
        *[pl.col(c).sum().alias(f"_all{c}") for c in _LENGTH],
        pl.col("source_line")
        .filter(pl.col("source_file") == pl.col("_file"))
        .sort()
        .alias("source_lines"),
        pl.len().cast(pl.Int32).alias("source_rows"),
        pl.col("_in_files").first().alias("_files"),
    )

    def end(*lengths: str) -> pl.Expr:
        parts_ = [
            pl.sum_horizontal(pl.col(f"{prefix}{c}").fill_null(0) for prefix in lengths)
            for c in _LENGTH
        ]
        return pl.col("event_date").dt.offset_by(pl.format("{}y{}mo{}d", *parts_))

    has_after = pl.col("_after_years").is_not_null()
    has_prison = (pl.col("_prison_years") + pl.col("_prison_months") + pl.col("_prison_days")) > 0
    ended = grouped.with_columns(
        pl.max_horizontal(
            "_together",
            pl.when(has_after).then(end("_custody", "_after")),
            "event_date",
        ).alias("sentence_end")
    ).with_columns(
        pl.max_horizontal(
            "sentence_end",
            pl.when(has_prison).then(end("_prison")),
            pl.when(has_prison & has_after).then(end("_prison", "_after")),
        ).alias("sentence_end_consecutive"),
        (pl.col("sentence_end") - pl.col("event_date")).dt.total_days().alias("sentence_days"),
        end("_all").alias("sentence_end_added"),
    )
    return ended.select(*_PATCHED, "source_lines", "_seq", "_files").sort("_seq")


def _finish_counts(
    parts: list[pl.DataFrame],
    files: int,
    dedupe: CrossChunkDuplicates | None = None,
    elsewhere: list[pl.DataFrame] | None = None,
) -> tuple[pl.DataFrame, int]:
    """The counts of all chunks: parts straddling chunks or files merged (without the lines
    `dedupe` finds to repeat a line of an earlier chunk; the lines of counts merged across
    files kept in `elsewhere`, see `_merge_parts`); returns how many counts more than one file
    gave."""
    if not parts:
        return schema.empty(schema.COUNTS_SCHEMA), 0
    across: list[int] = []
    counts = _merge_parts(parts, across, dedupe, elsewhere if files > 1 else None)
    parts.clear()
    return counts, sum(across)


def _with_sentence_end(rows: pl.DataFrame) -> pl.DataFrame:
    """The step date plus the sentence parts on the calendar, and its length in days; only rows
    with a sentence pay for the calendar arithmetic (most rows have none)."""
    sums = rows.select("_years", "_months", "_days", "event_date")
    has = (sums["_years"] + sums["_months"] + sums["_days"]) > 0
    index = has.arg_true()
    sentenced = sums.filter(has).select(
        pl.col("event_date").dt.offset_by(
            pl.format("{}y{}mo{}d", pl.col("_years"), pl.col("_months"), pl.col("_days"))
        )
    )
    end = sums["event_date"].scatter(index, sentenced.to_series()).alias("sentence_end")
    return rows.with_columns(end).with_columns(
        (pl.col("sentence_end") - pl.col("event_date")).dt.total_days().alias("sentence_days")
    )


def _parsed_offense() -> pl.Expr:
    """The offense columns of the distinct texts, as one struct (see `parse_offenses`)."""
    typed = {name: schema.COUNTS_SCHEMA[name] for name in OFFENSE_SCHEMA}
    return pl.col("offense_raw").map_batches(
        lambda texts: (
            parse_offenses(texts.cast(pl.String))
            .select(pl.col(name).cast(dtype) for name, dtype in typed.items())
            .to_struct()
        ),
        return_dtype=pl.Struct(typed),
    )


#: The values a DOJ file repeats in every chunk, each evaluated once per process.
_DATES = (
    ValueCache(
        ["STP_EVENT_DATE"],
        **dict(zip(("event_date", "_event_garbled"), _date(_clean("STP_EVENT_DATE")), strict=True)),
    ),
    ValueCache(
        ["CYC_DATE"],
        **dict(zip(("offense_date", "_cycle_garbled"), _date(_clean("CYC_DATE")), strict=True)),
    ),
    ValueCache(
        ["PRI_DOB"], **dict(zip(("dob", "_dob_garbled"), _date(_clean("PRI_DOB")), strict=True))
    ),
)
_VALUES = (
    ValueCache(
        ["STP_TYPE_DESCR"], step_type=_step_type(_clean("STP_TYPE_DESCR")).cast(schema.STEP_TYPE)
    ),
    ValueCache(
        ["DISP_DESCR"], disposition=_disposition(_clean("DISP_DESCR")).cast(schema.DISPOSITION)
    ),
    ValueCache(
        ["STP_ORI_CNTY_NAME"],
        county=_clean("STP_ORI_CNTY_NAME")
        .str.to_uppercase()
        .str.replace_all(r"\s+", " ")
        .cast(pl.Categorical),
    ),
    ValueCache(
        ["CYC_AGE"],
        cycle_age=_clean("CYC_AGE").str.extract(r"^(\d{1,3})$", 1).cast(pl.Int32, strict=False),
    ),
    ValueCache(_SENTENCE_KEYS, **_sentence_parts()),
    ValueCache(_OFFENSE_KEYS, **_offense_choice()),
)
_OFFENSES = ValueCache(["offense_raw"], _offense=_parsed_offense())


def _people(rows: pl.DataFrame) -> pl.DataFrame:
    """The people a chunk names, with the first non-empty identity values it has (copied out of
    the chunk's buffers, which would otherwise be kept to the end of the read)."""
    people = rows.group_by("subject_id").agg(
        pl.col("_seq").min(),
        *[pl.col(c).sort_by("_seq").drop_nulls().first() for c in _IDENTITY],
    )
    return compact_strings(people)


def _subjects(parts: list[pl.DataFrame], counts: pl.DataFrame) -> pl.DataFrame:
    """One row per person, in input order: the first non-empty identity values seen in any
    file, and the status flags from their record."""
    if not parts:
        return schema.empty(schema.SUBJECTS_SCHEMA)
    people = (
        pl.concat(parts, how="vertical")
        .group_by("subject_id")
        .agg(
            pl.col("_seq").min(),
            *[pl.col(c).sort_by("_seq").drop_nulls().first() for c in _IDENTITY],
        )
        .sort("_seq")
    )
    deceased = pl.col("step_type") == "deceased"
    registered = (pl.col("step_type") == "registration") & (pl.col("section") == "290")
    # Few counts raise a flag: only those are grouped, not every count of every person.
    flags = (
        counts.select("subject_id", deceased.alias("deceased"), registered.alias("pc290"))
        .filter(pl.col("deceased") | pl.col("pc290"))
        .group_by("subject_id")
        .agg(pl.col("deceased").any(), pl.col("pc290").any().alias("pc290_registrant"))
    )
    joined = people.join(flags, on="subject_id", how="left", maintain_order="left")
    return joined.select(
        [
            pl.col(c).cast(t).fill_null(False) if t == pl.Boolean() else pl.col(c).cast(t)
            for c, t in schema.SUBJECTS_SCHEMA.items()
        ]
    )
