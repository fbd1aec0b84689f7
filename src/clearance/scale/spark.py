"""`clearance run ... --engine spark`: the run on Apache Spark, with the same Polars engine.

Spark does the moving; Polars does the law. The steps:

1. **Read.** One Spark task per input file reads it with the project's DOJ reader
   (`records.doj`, chunk by chunk), and emits each chunk's rows split into buckets of people by
   a hash of SUBJECT_ID: Arrow batches of (bucket, file, chunk, kind, Arrow IPC bytes), through
   `mapInArrow`. A path can be any URI that PyArrow's file systems open (HDFS, S3, GCS) or a
   path that every worker sees; its quarantine and its row accounting go to the driver.
2. **Repartition by SUBJECT_ID** (the bucket), so that every row of a person is in one group.
3. **Decide.** Each group (`applyInArrow`) puts its rows back in input order, finishes the
   record as the reader does, keeps only the people the run can decide (the step DOJ takes
   over its whole repository: `people.decidable`), and decides them with `engine.decide`
   under the run's policy and the what-if policies (`scale.pieces.decide_piece`).
4. **Write.** The driver gathers the pieces and writes the run's files with the run's own
   writer: the same bytes as `--engine local`; and the convictions again as a Parquet dataset
   partitioned by county (`convictions-by-county/county=<name>/`, `scale.partitioned`).

There is no second implementation of any rule: the workers run the same functions.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from clearance.outputs.run import RunFiles
from clearance.policy.schema import Policy
from clearance.records.doj import FileStats, Records, finish_records, quarantine_of
from clearance.scale.partitioned import write_by_county
from clearance.scale.people import decidable, narrow
from clearance.scale.pieces import Piece, PieceWriter, decide_piece, from_bytes, to_bytes

#: The rows that cross between the steps: one table (Arrow IPC) each.
_PAYLOAD = pa.schema(
    [
        ("bucket", pa.int32()),
        ("file_index", pa.int32()),
        ("chunk_index", pa.int32()),
        ("kind", pa.string()),
        ("payload", pa.binary()),
    ]
)
_PAYLOAD_DDL = "bucket int, file_index int, chunk_index int, kind string, payload binary"


class SparkError(Exception):
    """Spark could not be started or run (no Java, PySpark missing); one line to show."""


@dataclass(frozen=True)
class SparkRun:
    """A run made on Spark: its files, the input's accounting, and the county files written."""

    written: RunFiles
    files: list[FileStats]
    buckets: int
    county_files: dict[str, Path]
    #: Seconds of each step: starting Spark, reading, deciding (with the shuffle), writing.
    seconds: dict[str, float]


def session(master: str | None = None) -> Any:
    """The Spark session: the one running (spark-submit, a test's), else a new one on
    `master` (local[*] when not given). The workers run this interpreter's Python."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkError("--engine spark needs PySpark: pip install 'pyspark>=4,<5'") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("clearance")
    # Under spark-submit the master is the one it was given (its JVM is already running).
    if master is not None or not os.environ.get("PYSPARK_GATEWAY_PORT"):
        builder = builder.master(master or "local[*]")
    try:
        return builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    except Exception as exc:
        raise SparkError(f"Spark did not start: {str(exc).splitlines()[0][:200]}") from None


def run_on_spark(
    files: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    as_of: date,
    county: str,
    policy_text: str,
    with_what_ifs: bool = True,
    master: str | None = None,
    county_files: Path | None = None,
    buckets: int | None = None,
) -> SparkRun:
    """Run on Spark (see the module's docstring) and write the outputs to `out_dir`."""
    clock = _Clock()
    spark = session(master)
    clock.lap("spark_start")
    paths = [str(p) for p in dict.fromkeys(files)]
    count = buckets or max(4, 2 * int(spark.sparkContext.defaultParallelism))
    listing = spark.createDataFrame(
        [(i, p) for i, p in enumerate(paths)], "file_index int, path string"
    ).repartition(len(paths))
    read = listing.mapInArrow(_reader(count), _PAYLOAD_DDL).persist()
    try:
        accounting = read.filter("bucket < 0").collect()
        stats, quarantine = _accounting(accounting, len(paths))
        clock.lap("spark_read")
        decided = (
            read.filter("bucket >= 0")
            .repartition(count, "bucket")
            .groupBy("bucket")
            .applyInArrow(
                _decider(
                    policy, as_of, county, with_what_ifs, len(paths), county_files is not None
                ),
                _PAYLOAD_DDL,
            )
        )
        writer = PieceWriter(out_dir)
        pieces: dict[int, list[Any]] = {}
        for row in decided.toLocalIterator():
            pieces.setdefault(row["bucket"], []).append(row)
        lines: list[pl.DataFrame] = []
        for bucket in sorted(pieces):
            rows = pieces.pop(bucket)
            writer.add(_piece(rows))
            if county_files is not None:
                lines += [from_bytes(r["payload"]) for r in rows if r["kind"] == "lines"]
        clock.lap("spark_decide")
        written = writer.finish(
            policy, as_of, county, stats, quarantine, [Path(p) for p in paths], policy_text,
            with_what_ifs,
        )  # fmt: skip
        written = replace(written, files=(*written.files, write_by_county(out_dir) + "/"))
        clock.lap("write")
        by_county: dict[str, Path] = {}
        if county_files is not None:
            by_county = write_county_files(paths, _with_a_run(pl.concat(lines)), county_files)
            clock.lap("county_files")
    finally:
        read.unpersist()
    return SparkRun(
        written=written, files=stats, buckets=count, county_files=by_county, seconds=clock.seconds
    )


class _Clock:
    """Seconds between laps, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def _reader(buckets: int) -> Any:
    """The read step's function (run on the workers)."""

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from clearance.scale.reading import read_chunk_parts

        for batch in batches:
            for file_index, path in zip(
                batch.column("file_index").to_pylist(), batch.column("path").to_pylist(),
                strict=True,
            ):  # fmt: skip
                with _local(path) as local:
                    stats = FileStats(path=path, bytes=local.stat().st_size)
                    for parts in read_chunk_parts(local, file_index, buckets, stats):
                        rows = [
                            (bucket, kind, frame)
                            for kind, by_bucket in (
                                ("counts", parts.counts),
                                ("people", parts.people),
                            )
                            for bucket, frame in by_bucket.items()
                        ]
                        if parts.quarantine.height:
                            rows.append((-1, "quarantine", parts.quarantine))
                        yield _batch(
                            [
                                (
                                    b,
                                    file_index,
                                    parts.chunk_index,
                                    k,
                                    _payload(f, path, local),
                                )
                                for b, k, f in rows
                            ]
                        )
                    plan = b"" if stats.plan is None else stats.plan.astype(np.int16).tobytes()
                    yield _batch(
                        [
                            (-1, file_index, -1, "stats", json.dumps(_figures(stats)).encode()),
                            (-1, file_index, -1, "plan", plan),
                        ]
                    )

    return read


def _figures(stats: FileStats) -> dict[str, Any]:
    """A file's accounting as JSON values (its line plan travels as bytes)."""
    return {
        f.name: getattr(stats, f.name) for f in fields(stats) if f.name not in ("plan", "planned")
    }


def _payload(frame: pl.DataFrame, path: str, local: Path) -> bytes:
    """A table's bytes; rows read from a local copy point to the file as given."""
    if str(local) != path and "source_file" in frame.columns:
        dtype = frame.schema["source_file"]
        frame = frame.with_columns(pl.lit(path).cast(dtype).alias("source_file"))
    return to_bytes(frame)


class _local:
    """A local path for an input: itself, or a copy of a URI (hdfs://, s3://) made with
    PyArrow's file systems and removed afterwards."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.copy: Path | None = None

    def __enter__(self) -> Path:
        if "://" not in self.path or self.path.startswith("file://"):
            return Path(self.path.removeprefix("file://"))
        from pyarrow import fs

        system, inner = fs.FileSystem.from_uri(self.path)
        folder = Path(tempfile.mkdtemp(prefix="clearance-input-"))
        self.copy = folder / Path(inner).name
        with system.open_input_stream(inner) as source, self.copy.open("wb") as target:
            shutil.copyfileobj(source, target, 16 * 1024 * 1024)
        return self.copy

    def __exit__(self, *args: object) -> None:
        if self.copy is not None:
            shutil.rmtree(self.copy.parent, ignore_errors=True)


def _batch(rows: list[tuple[int, int, int, str, bytes]]) -> pa.RecordBatch:
    columns: list[tuple[Any, ...]] = (
        list(zip(*rows, strict=True)) if rows else [() for _ in _PAYLOAD]
    )
    return pa.RecordBatch.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, _PAYLOAD, strict=True)],
        schema=_PAYLOAD,
    )


def _accounting(rows: list[Any], files: int) -> tuple[list[FileStats], pl.DataFrame]:
    """Each file's accounting and the quarantine, in input order, from the read step."""
    stats: list[FileStats | None] = [None] * files
    quarantined: list[tuple[int, int, pl.DataFrame]] = []
    plans: dict[int, bytes] = {}
    for row in rows:
        if row["kind"] == "stats":
            stats[row["file_index"]] = FileStats(**json.loads(bytes(row["payload"])))
        elif row["kind"] == "plan":
            plans[row["file_index"]] = bytes(row["payload"])
        else:
            quarantined.append(
                (row["file_index"], row["chunk_index"], from_bytes(bytes(row["payload"])))
            )
    quarantined.sort(key=lambda q: (q[0], q[1]))
    quarantine = quarantine_of([q[2] for q in quarantined])
    for index, plan in plans.items():
        read = stats[index]
        if read is not None:
            read.plan = np.frombuffer(plan, dtype=np.int16).copy() if plan else None
            read.planned = True
    return [s for s in stats if s is not None], quarantine


def _decider(
    policy: Policy, as_of: date, county: str, with_what_ifs: bool, files: int, lines: bool
) -> Any:
    """The decide step's function (run on the workers, once per bucket). With `lines`, each
    bucket also sends the input lines of its people by county (`write_county_files`)."""

    def decide_bucket(table: pa.Table) -> pa.Table:
        rows = table.to_pylist()
        if not rows:
            return _PAYLOAD.empty_table()
        bucket = rows[0]["bucket"]
        rows.sort(key=lambda r: (r["file_index"], r["chunk_index"]))
        parts = {
            kind: [from_bytes(r["payload"]) for r in rows if r["kind"] == kind]
            for kind in ("counts", "people")
        }
        stats = [FileStats(path="", bytes=0) for _ in range(files)]
        records = cannabis_people(finish_records(parts["counts"], parts["people"], stats), policy)
        piece = decide_piece(records.narrowed, policy, as_of, county, with_what_ifs)
        piece.people_total = records.people
        piece.counts_total = records.counts
        out = _piece_rows(bucket, piece)
        if lines:
            out.append((bucket, 0, 0, "lines", to_bytes(_county_lines(records))))
        return pa.Table.from_batches([_batch(out)])

    return decide_bucket


@dataclass(frozen=True)
class _Narrowed:
    narrowed: Records
    people: int
    counts: int
    county_people: pl.DataFrame


def cannabis_people(records: Records, policy: Policy) -> _Narrowed:
    """The records of the people a run of `policy` can decide in any county: those with a
    cannabis conviction, and those a policy's related charges or a county's flow reach
    (DOJ's first step over its whole repository; `people.decidable`), with what the whole part
    held, and each such person's counties (for the per-county files)."""
    county_people = decidable(records, policy)
    return _Narrowed(
        narrowed=narrow(records, county_people["subject_id"]),
        people=records.subjects.height,
        counts=records.counts.height,
        county_people=county_people,
    )


def _county_lines(narrowed: _Narrowed) -> pl.DataFrame:
    """(county, source_file, source_line, in_scope) of every line of the people the run can
    decide in the county; `in_scope` when the person has a conviction there in the run's
    scope."""
    counts = narrowed.narrowed.counts.select(
        "subject_id", pl.col("source_file").cast(pl.String), "source_lines"
    ).explode("source_lines")
    return (
        narrowed.county_people.drop_nulls("county")
        .join(counts, on="subject_id")
        .select("county", "source_file", pl.col("source_lines").alias("source_line"), "in_scope")
        .unique()
    )


def _with_a_run(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines of the counties where someone has a conviction in the run's scope: a county
    with only related charges (which a policy or a county's flow decides) has no run, and no
    file."""
    counties = lines.filter("in_scope")["county"].unique().implode()
    return lines.filter(pl.col("county").is_in(counties)).drop("in_scope")


def _piece_rows(bucket: int, piece: Piece) -> list[tuple[int, int, int, str, bytes]]:
    meta = {
        "people_total": piece.people_total,
        "counts_total": piece.counts_total,
        "merged_duplicates": piece.merged_duplicates,
        "counties": piece.counties,
        "decided": piece.decided is not None,
        "in_scope": piece.in_scope,
    }
    rows = [(bucket, 0, 0, "meta", json.dumps(meta).encode())]
    tables = {
        "base": piece.base,
        "subjects": piece.subjects,
        "counts": piece.counts,
    }
    if piece.federal is not None and piece.federal.height:
        tables["federal"] = piece.federal
    if piece.lines_elsewhere is not None and piece.lines_elsewhere.height:
        tables["elsewhere"] = piece.lines_elsewhere
    if piece.decided is not None:
        tables["decided"] = piece.decided
    for key, table in piece.what_ifs.items():
        tables[f"what_if:{key}"] = table
    rows += [(bucket, 0, 0, kind, to_bytes(table)) for kind, table in tables.items()]
    return rows


def _piece(rows: list[Any]) -> Piece:
    """A piece back on the driver."""
    tables = {r["kind"]: bytes(r["payload"]) for r in rows}
    meta = json.loads(tables.pop("meta"))
    return Piece(
        decided=from_bytes(tables.pop("decided")) if meta["decided"] else None,
        what_ifs={
            kind.removeprefix("what_if:"): from_bytes(data)
            for kind, data in tables.items()
            if kind.startswith("what_if:")
        },
        base=from_bytes(tables["base"]),
        subjects=from_bytes(tables["subjects"]),
        counts=from_bytes(tables["counts"]),
        people_total=meta["people_total"],
        counts_total=meta["counts_total"],
        merged_duplicates=meta["merged_duplicates"],
        counties=meta["counties"],
        federal=from_bytes(tables["federal"]) if "federal" in tables else None,
        lines_elsewhere=from_bytes(tables["elsewhere"]) if "elsewhere" in tables else None,
        in_scope=meta["in_scope"],
    )


def write_county_files(paths: list[str], wanted: pl.DataFrame, folder: Path) -> dict[str, Path]:
    """Per county, the DOJ-layout file DOJ sends its District Attorney: every input line of
    each person the run's policy can decide there (`people.decidable`: a cannabis conviction,
    or a conviction its related charges or its county flow reach; all their history, any
    county), in input order, bytes as read, under the DOJ header. `wanted` holds (county,
    source_file, source_line). Each file is a valid input of a single-county run."""
    from clearance.records.chunks import iter_chunks
    from clearance.records.schema import DOJ_COLUMNS
    from clearance.scale.statewide import county_folder

    folder.mkdir(parents=True, exist_ok=True)
    header = (",".join(DOJ_COLUMNS) + "\n").encode("ascii")
    targets = {c: folder / f"{county_folder(c)}.dat" for c in wanted["county"].unique().sort()}
    sinks = {c: p.open("wb") for c, p in targets.items()}
    try:
        for sink in sinks.values():
            sink.write(header)
        for path in paths:
            mine = wanted.filter(pl.col("source_file") == path).sort("source_line")
            if mine.height == 0:
                continue
            lines = mine["source_line"].to_numpy()
            with _local(path) as local:
                for chunk, _ in iter_chunks(local):
                    if not chunk.data:
                        continue
                    low, high = lines.searchsorted(
                        [chunk.first_line, chunk.first_line + chunk.line_count]
                    )
                    if high <= low:
                        continue
                    starts, ends = chunk.bounds
                    here = mine.slice(int(low), int(high - low))
                    for county, line in here.select("county", "source_line").iter_rows():
                        i = line - chunk.first_line
                        sinks[county].write(chunk.data[starts[i] : ends[i]] + b"\n")
    finally:
        for sink in sinks.values():
            sink.close()
    return targets
