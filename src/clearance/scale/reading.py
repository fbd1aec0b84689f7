"""Reading DOJ files into buckets of people on disk, so that no step holds the whole record.

The reader (`records.doj`) yields each file's chunks as canonical rows (`read_chunks`) and
finishes a record from any set of people's rows (`finish_records`): sentence parts that
straddle chunks, a count found in two files. Every merge is within one person, so here each
chunk's rows go straight to a bucket chosen by a hash of SUBJECT_ID (one Arrow IPC stream per
bucket and kind, a record batch per chunk: written once, read once, so never encoded), and
each bucket is finished on its own: the reader's own steps, on the rows of some people. The
quarantine and the row accounting are about lines, not people: they are kept whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from clearance import heap
from clearance.records.doj import FileStats, Records, finish_records, quarantine_of, read_chunks

#: The seed of the bucket hash (any fixed number: buckets live only for one run).
_SEED = 20161109


def bucket_of(subject_id: pl.Expr, buckets: int) -> pl.Expr:
    """The bucket of each person: a hash of SUBJECT_ID, the same for all of their rows."""
    return (subject_id.hash(seed=_SEED) % buckets).cast(pl.Int32)


@dataclass
class ChunkParts:
    """One chunk of one file read: its rows and people by bucket, its quarantine."""

    file_index: int
    chunk_index: int
    counts: dict[int, pl.DataFrame]
    people: dict[int, pl.DataFrame]
    quarantine: pl.DataFrame


def read_chunk_parts(
    path: Path, file_index: int, buckets: int, stats: FileStats
) -> Iterator[ChunkParts]:
    """Each chunk of `path` read (`records.doj.read_chunks`) and split by bucket; `stats` is
    filled in as the reader fills it (its line plan once the last chunk is read)."""
    for rows in read_chunks(path, file_index, stats):
        parts = ChunkParts(
            file_index=file_index,
            chunk_index=rows.chunk_index,
            counts=_split(rows.counts, buckets),
            people=_split(rows.subjects, buckets),
            quarantine=rows.quarantine,
        )
        chunk_index = rows.chunk_index
        del rows
        yield parts
        del parts
        if chunk_index % 8 == 7:
            heap.release()


def _split(frame: pl.DataFrame, buckets: int) -> dict[int, pl.DataFrame]:
    if frame.height == 0:
        return {}
    keyed = frame.with_columns(bucket_of(pl.col("subject_id"), buckets).alias("_bucket"))
    return {
        int(key[0]): part.drop("_bucket")  # type: ignore[call-overload]
        for key, part in keyed.partition_by("_bucket", as_dict=True, maintain_order=True).items()
    }


@dataclass
class Buckets:
    """An input read into bucket files: what each bucket holds, and the input's accounting."""

    folder: Path
    count: int
    files: list[FileStats]
    quarantine: pl.DataFrame
    #: Buckets that received rows.
    filled: set[int] = field(default_factory=set)

    def path(self, bucket: int, kind: str) -> Path:
        return self.folder / f"{kind}-{bucket:05d}.arrow"

    def records(self, bucket: int) -> Records:
        """The records of one bucket's people; its files are removed once read (the disk a
        run needs then shrinks as it goes)."""
        counts = pl.read_ipc_stream(self.path(bucket, "counts"))
        people = pl.read_ipc_stream(self.path(bucket, "people"))
        for kind in ("counts", "people"):
            self.path(bucket, kind).unlink(missing_ok=True)
        return finish_records([counts], [people], self.files)


def write_buckets(paths: Sequence[Path], folder: Path, count: int) -> Buckets:
    """Read the DOJ files `paths` into `count` buckets of people in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[tuple[int, str], tuple[ipc.RecordBatchStreamWriter, pa.Schema]] = {}
    stats: list[FileStats] = []
    quarantined: list[pl.DataFrame] = []
    buckets = Buckets(folder=folder, count=count, files=stats, quarantine=pl.DataFrame())
    try:
        for index, path in enumerate(dict.fromkeys(Path(p) for p in paths)):
            file_stats = FileStats(path=str(path), bytes=path.stat().st_size)
            stats.append(file_stats)
            for parts in read_chunk_parts(path, index, count, file_stats):
                for kind, by_bucket in (("counts", parts.counts), ("people", parts.people)):
                    for bucket, frame in by_bucket.items():
                        _append(writers, buckets.path(bucket, kind), (bucket, kind), frame)
                        buckets.filled.add(bucket)
                if parts.quarantine.height:
                    quarantined.append(parts.quarantine)
    finally:
        for writer, _ in writers.values():
            writer.close()
    buckets.quarantine = quarantine_of(quarantined)
    return buckets


def _append(
    writers: dict[tuple[int, str], tuple[ipc.RecordBatchStreamWriter, pa.Schema]],
    path: Path,
    key: tuple[int, str],
    frame: pl.DataFrame,
) -> None:
    """One chunk's rows as record batches of the bucket's file, in Polars' own layout (no
    conversion on the way out or back in)."""
    table: pa.Table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    if key not in writers:
        writers[key] = (ipc.new_stream(path, table.schema), table.schema)
    writer, schema = writers[key]
    if not table.schema.equals(schema):
        table = table.cast(schema)
    writer.write_table(table)
