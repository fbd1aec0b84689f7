"""Where each person's rows are in a run's record, so one person is read without the county.

The record's tables (`record/counts.parquet`, `subjects.parquet`, `determinations.parquet`)
are written in row groups of at most `RECORD_ROW_GROUP` rows. The index,
`record/people.index.parquet`, lists for every SUBJECT_ID the row groups of each table that
hold its rows. It is sorted by SUBJECT_ID and written in small row groups whose min/max
statistics bound their SUBJECT_IDs, so finding a person reads the footers, one row group of the
index and only the record's row groups that hold the person: a few thousand rows whatever the
size of the run, where a filtered scan reads every row group of a table whose people are in
input order.

The review workspace writes the index when a run finishes (its person page is opened again
and again). A command-line run folder is left as it is: its files are listed byte for byte in
`run.json`, and a record written in buckets of people is laid out differently from one written
in memory (same rows, other row groups), so an index would make the two folders differ.
Without the index, or when a table no longer matches it (rewritten since), `person_rows`
answers None and the caller scans.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

#: The record's tables, in the order of the index's `table` codes.
TABLES = ("counts", "subjects", "determinations")
#: Rows per row group of the record's tables: small enough that one group costs milliseconds.
RECORD_ROW_GROUP = 4_096
#: Rows per row group of the index: one group holds the entries of about a thousand people.
INDEX_ROW_GROUP = 4_096
INDEX_FILE = "people.index.parquet"
#: Footers kept parsed (four files per run: the runs a server shows at once).
_CACHED_FOOTERS = 64
#: Key of the index's Parquet metadata that describes the tables it was built from.
_META_KEY = b"clearance.person_index"


@dataclass(frozen=True)
class PersonRows:
    """One person's rows of each record table, and how much of each table was read for them."""

    tables: dict[str, pl.DataFrame]
    #: Row groups read per table (the index's own included under "index").
    groups_read: dict[str, int]
    #: Row groups each table has.
    groups_total: dict[str, int]


def _layout(path: Path, file: pq.ParquetFile) -> dict[str, int]:
    """What ties an index to a table as it was: its size, time of change and row groups."""
    status = path.stat()
    return {
        "bytes": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "row_groups": file.metadata.num_row_groups,
    }


@functools.lru_cache(maxsize=_CACHED_FOOTERS)
def _footer(path: str, size: int, mtime_ns: int) -> pq.FileMetaData:
    """A Parquet file's footer, parsed once per version of the file: a statewide record has
    thousands of row groups, and its footer would otherwise be parsed for every person."""
    return pq.read_metadata(path)


def _open(path: Path) -> pq.ParquetFile:
    """A Parquet file opened with its footer from the cache."""
    status = path.stat()
    return pq.ParquetFile(path, metadata=_footer(str(path), status.st_size, status.st_mtime_ns))


@functools.lru_cache(maxsize=_CACHED_FOOTERS)
def _bounds(path: str, size: int, mtime_ns: int) -> tuple[tuple[str | None, str | None], ...]:
    """(lowest, highest) SUBJECT_ID of each row group of an index, (None, None) when a group
    has no statistics."""
    metadata = _footer(path, size, mtime_ns)
    column = metadata.schema.to_arrow_schema().get_field_index("subject_id")
    bounds: list[tuple[str | None, str | None]] = []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(column).statistics
        if statistics is None or not statistics.has_min_max:
            bounds.append((None, None))
            continue
        low, high = statistics.min, statistics.max
        if isinstance(low, bytes):
            low, high = low.decode("utf-8", "replace"), high.decode("utf-8", "replace")
        bounds.append((str(low), str(high)))
    return tuple(bounds)


def write_person_index(record_dir: Path) -> Path:
    """Write `people.index.parquet` next to the record's tables and return its path.

    Only the SUBJECT_ID column of each table is read; each row's row group comes from the
    table's footer (the cumulative row counts), matched to the rows by a sorted search."""
    parts = []
    layouts: dict[str, dict[str, int]] = {}
    for code, name in enumerate(TABLES):
        path = record_dir / f"{name}.parquet"
        file = pq.ParquetFile(path)
        layouts[name] = _layout(path, file)
        sizes = [file.metadata.row_group(g).num_rows for g in range(file.metadata.num_row_groups)]
        starts = pl.Series("start", [0, *sizes[:-1]], dtype=pl.Int64).cum_sum()
        ids = pl.read_parquet(path, columns=["subject_id"])
        rows = pl.int_range(0, ids.height, dtype=pl.Int64, eager=True)
        group = starts.search_sorted(rows, side="right") - 1
        parts.append(
            ids.with_columns(
                pl.lit(code, dtype=pl.UInt8).alias("table"),
                group.cast(pl.UInt32).alias("row_group"),
            ).unique()
        )
    index = pl.concat(parts).sort(["subject_id", "table", "row_group"])
    table = index.to_arrow().replace_schema_metadata({_META_KEY: json.dumps(layouts).encode()})
    target = record_dir / INDEX_FILE
    temporary = target.with_name(target.name + ".tmp")
    pq.write_table(table, temporary, row_group_size=INDEX_ROW_GROUP, compression="lz4")
    temporary.replace(target)
    return target


def _empty(file: pq.ParquetFile) -> pl.DataFrame:
    """A table's columns without rows (built from the schema: `Schema.empty_table` would
    import pandas, a second's pause in a server's first request)."""
    frame = pl.from_arrow(pa.Table.from_batches([], schema=file.schema_arrow))
    assert isinstance(frame, pl.DataFrame)
    return frame


def person_rows(
    record_dir: Path, subject_id: str, tables: Sequence[str] = TABLES
) -> PersonRows | None:
    """One person's rows of the record's `tables` (all three by default; the others empty),
    read through the index; None when the run has no index or a table is not the one the
    index was built from (the caller scans)."""
    index_path = record_dir / INDEX_FILE
    if not index_path.is_file():
        return None
    try:
        index = _open(index_path)
        layouts = json.loads(index.schema_arrow.metadata[_META_KEY])
        files = {name: _open(record_dir / f"{name}.parquet") for name in tables}
        status = index_path.stat()
        bounds = _bounds(str(index_path), status.st_size, status.st_mtime_ns)
    except (OSError, KeyError, TypeError, ValueError, pa.ArrowException):
        return None
    for name, file in files.items():
        if layouts.get(name) != _layout(record_dir / f"{name}.parquet", file):
            return None
    candidates = [
        g
        for g, (low, high) in enumerate(bounds)
        if low is None or high is None or low <= subject_id <= high
    ]
    entries = pl.from_arrow(index.read_row_groups(candidates))
    assert isinstance(entries, pl.DataFrame)
    entries = entries.filter(pl.col("subject_id") == subject_id)
    found: dict[str, pl.DataFrame] = {}
    read = {"index": len(candidates)}
    for name, file in files.items():
        code = TABLES.index(name)
        groups = sorted(entries.filter(pl.col("table") == code)["row_group"].to_list())
        frame = pl.from_arrow(file.read_row_groups(groups)) if groups else _empty(file)
        assert isinstance(frame, pl.DataFrame)
        found[name] = frame.filter(pl.col("subject_id") == subject_id)
        read[name] = len(groups)
    for name in TABLES:
        if name not in found:
            # Not asked for: empty, with the table's columns (from the cached footer).
            found[name] = _empty(_open(record_dir / f"{name}.parquet"))
            read[name] = 0
    total = {"index": index.metadata.num_row_groups}
    total.update({name: file.metadata.num_row_groups for name, file in files.items()})
    return PersonRows(tables=found, groups_read=read, groups_total=total)
