"""A run decided in parts of people, and put back together into the files of one run.

Each part (a bucket of people on disk, a Spark partition) is decided with the same engine as a
whole run, under the run's policy and under each what-if policy; what the outputs need of the
part is kept (`Piece`): the determinations, the what-ifs' figures, and the people decided with
their record before any decision. The pieces are then put together in the order of a whole run
(determinations by person and count) and written by the run's own writer (`write_run`), so
the files are the bytes the whole run writes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from clearance.engine import Decided, EngineError, counties, decide, has_county, normalize_county
from clearance.outputs.person_index import RECORD_ROW_GROUP
from clearance.outputs.run import RECORD_DIR, RunFiles, write_run
from clearance.outputs.summary import what_if_policies
from clearance.outputs.tables import SLICE_ROWS, conviction_base
from clearance.policy.schema import Policy
from clearance.records.doj import FileStats, Records
from clearance.records.federal import empty_federal, federal_entries, overview_of

#: What the summary reads of a what-if's determinations (`outputs.summary.impact`): only these
#: are kept of them until the run is written.
WHAT_IF_COLUMNS = ("subject_id", "decision", "new_level", "level", "conviction_date")


@dataclass
class Piece:
    """What one part of the people contributes to a run."""

    #: The run's determinations (explained), empty when the part has no conviction to decide.
    decided: pl.DataFrame | None
    #: Each what-if policy's determinations (figures only), by the keys of `what_if_policies`.
    what_ifs: dict[str, pl.DataFrame]
    #: The people decided under any of the policies: their record before any decision
    #: (`conviction_base`) and their identity.
    base: pl.DataFrame
    subjects: pl.DataFrame
    #: Their counts (for `record/`), and the counts read from several lines (results.csv).
    counts: pl.DataFrame
    #: What the part held: people and counts, and the counties of its court events.
    people_total: int
    counts_total: int
    merged_duplicates: int
    counties: list[str] = field(default_factory=list)
    #: The part's federal entries (`records.federal`), for the summary's overview.
    federal: pl.DataFrame | None = None
    #: Lines of counts merged across files, in another file than the count's first
    #: (`Records.lines_elsewhere`): results.csv marks them with the count's decision.
    lines_elsewhere: pl.DataFrame | None = None
    #: Whether the part had a conviction of the county in scope (`decided` can hold only
    #: related charges when not): a county without one in any part has no run.
    in_scope: bool = True


def decide_piece(
    records: Records, policy: Policy, as_of: date, county: str, with_what_ifs: bool
) -> Piece:
    """Decide one part's records as a whole run decides them."""
    wanted = normalize_county(county)
    present = counties(records)
    cache: dict[tuple[str, date, str], pl.DataFrame] = {}
    decided: pl.DataFrame | None = None
    what_ifs: dict[str, pl.DataFrame] = {}
    in_scope = False
    if wanted in present or has_county(records, wanted):
        # A part without a conviction of the county in scope still has its related charges
        # there (a county's flow decides every one) and the what-ifs' convictions (the
        # set-asides that a county's flow leaves out): both are kept.
        run = decide(records, policy, as_of, wanted, cache, empty_ok=True)
        decided, in_scope = run.table, bool(run.counties)
        if with_what_ifs:
            for key, other in what_if_policies().items():
                what_ifs[key] = decide(
                    records, other, as_of, wanted, cache, explained=False, empty_ok=True
                ).table
    tables = [t for t in (decided, *what_ifs.values()) if t is not None]
    people = (
        pl.concat([t.select("subject_id") for t in tables]).unique()
        if tables
        else pl.DataFrame(schema={"subject_id": pl.String})
    )
    wanted_people = people["subject_id"].implode()
    mine = pl.col("subject_id").is_in(wanted_people)
    return Piece(
        decided=decided,
        what_ifs=what_ifs,
        base=conviction_base(records, as_of).filter(mine),
        subjects=records.subjects.filter(mine),
        counts=records.counts.filter(mine),
        people_total=records.subjects.height,
        counts_total=records.counts.height,
        merged_duplicates=records.merged_duplicate_counts,
        counties=present,
        federal=federal_entries(records),
        in_scope=in_scope,
        lines_elsewhere=records.lines_elsewhere,
    )


class PieceWriter:
    """Gathers pieces and writes the run's files once all are in.

    The counts and subjects of the people decided go to `record/` as each piece comes (they
    are most of a county's record). The rest is kept until the end: in memory, or, given a
    `spill` folder, in files there (a statewide run keeps every county's determinations with
    their explanations until its last bucket: together they would not fit), read back one
    writer at a time by `finish`."""

    def __init__(self, out_dir: Path, spill: Path | None = None) -> None:
        self.out_dir = out_dir
        self.spill = spill
        self.decided = Kept(spill, "decided")
        self.what_ifs: dict[str, Kept] = {}
        self.base = Kept(spill, "base")
        self.subjects = Kept(spill, "subjects")
        self.folded = Kept(spill, "folded")
        self.people_total = 0
        self.counts_total = 0
        self.merged_duplicates = 0
        self.counties: set[str] = set()
        self.federal: list[pl.DataFrame] = []
        self.elsewhere: list[pl.DataFrame] = []
        self.in_scope = False
        self._writers: dict[str, pq.ParquetWriter] = {}
        (out_dir / RECORD_DIR).mkdir(parents=True, exist_ok=True)

    def add(self, piece: Piece) -> None:
        self.people_total += piece.people_total
        self.counts_total += piece.counts_total
        self.merged_duplicates += piece.merged_duplicates
        self.counties.update(piece.counties)
        if piece.federal is not None and piece.federal.height:
            self.federal.append(piece.federal)
        if piece.lines_elsewhere is not None and piece.lines_elsewhere.height:
            self.elsewhere.append(piece.lines_elsewhere)
        if piece.decided is None:
            return
        self.in_scope = self.in_scope or piece.in_scope
        self.decided.append(piece.decided)
        for key, table in piece.what_ifs.items():
            kept = self.what_ifs.setdefault(key, Kept(self.spill, f"what-if-{key}"))
            kept.append(table.select(WHAT_IF_COLUMNS))
        self.base.append(piece.base)
        self.subjects.append(piece.subjects.select("subject_id", "name", "dob", "cii_number"))
        self.folded.append(
            piece.counts.filter(pl.col("source_rows") > 1).select(
                "subject_id", "source_file", "source_line", "source_lines", "source_rows"
            )
        )
        self._record("counts", piece.counts)
        self._record("subjects", piece.subjects)

    def _record(self, name: str, frame: pl.DataFrame) -> None:
        """The piece's rows appended to `record/<name>.parquet`, a slice at a time: each
        slice's Arrow copy is made only while it is written (`SLICE_ROWS` is a multiple of
        the row group, so the row groups are those of the whole piece)."""
        for start in range(0, frame.height, SLICE_ROWS):
            table = frame.slice(start, SLICE_ROWS).to_arrow()
            writer = self._writers.get(name)
            if writer is None:
                path = self.out_dir / RECORD_DIR / f"{name}.parquet"
                writer = pq.ParquetWriter(path, table.schema, compression="lz4")
                self._writers[name] = writer
            elif not table.schema.equals(writer.schema):
                table = table.cast(writer.schema)
            writer.write_table(table, row_group_size=RECORD_ROW_GROUP)

    def finish(
        self,
        policy: Policy,
        as_of: date,
        county: str,
        files: list[FileStats],
        quarantine: pl.DataFrame,
        inputs: Sequence[Path],
        policy_text: str,
        with_what_ifs: bool,
        whole_input: bool = True,
    ) -> RunFiles:
        """Write the run's files from every piece (see the module's docstring).
        `whole_input=False`: one county's folder of a statewide run (see `write_run`)."""
        for writer in self._writers.values():
            writer.close()
        wanted = normalize_county(county)
        present = sorted(self.counties)
        if wanted not in present:
            listed = ", ".join(present[:12]) + (" ..." if len(present) > 12 else "")
            raise EngineError(
                f"county {county!r} does not appear in the input; counties present: "
                f"{listed or 'none'}"
            )
        if not self.in_scope:
            raise EngineError(f"no cannabis conviction in {wanted.title()} County in the input")
        # Each list is emptied as its table is made: the pieces then live only in that table
        # (not copied: `_take`), and the files are written from it in order a slice at a time
        # (`outputs.tables.sorted_slices`): the determinations are held once, never sorted.
        table = self.decided.take()
        decided = Decided(table=table, policy=policy, as_of=as_of, county=wanted, rules=())
        del table
        what_ifs = (
            {
                key: Decided(
                    table=parts.take(), policy=policy, as_of=as_of, county=wanted, rules=()
                )
                for key, parts in self.what_ifs.items()
            }
            if with_what_ifs
            else None
        )
        self.what_ifs.clear()
        folded = self.folded.take()
        people = self.subjects.take()
        view = Records(
            subjects=people,
            counts=folded,
            quarantine=quarantine,
            files=files,
            merged_duplicate_counts=self.merged_duplicates,
            lines_elsewhere=_take(self.elsewhere) if self.elsewhere else None,
        )
        if not (self.out_dir / RECORD_DIR / "counts.parquet").exists():
            _empty_record(self.out_dir)
        return write_run(
            self.out_dir,
            decided,
            view,
            inputs,
            policy_text,
            with_what_ifs=with_what_ifs,
            base=self.base.take(),
            what_ifs=what_ifs,
            input_totals={"people": self.people_total, "counts": self.counts_total},
            whole_input=whole_input,
            record_tables=False,
            federal=overview_of(_concat(self.federal) if self.federal else empty_federal()),
        )


class Kept:
    """Tables of one kind kept from the pieces until the run is written: in memory, or as
    Arrow IPC files in `folder` when given (written once, read once, in the order given)."""

    def __init__(self, folder: Path | None, name: str) -> None:
        self.folder = folder
        self.name = name
        self.frames: list[pl.DataFrame] = []
        self.paths: list[Path] = []

    def __len__(self) -> int:
        return len(self.frames) + len(self.paths)

    def append(self, frame: pl.DataFrame) -> None:
        if self.folder is None:
            self.frames.append(frame)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.name}-{len(self.paths):05d}.arrow"
        frame.write_ipc(path, compression="lz4")
        self.paths.append(path)

    def take(self) -> pl.DataFrame:
        """The tables as one (see `_take`), and none kept any more (their files removed)."""
        if self.folder is None:
            return _take(self.frames)
        frames = [pl.read_ipc(path) for path in self.paths]
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()
        return _take(frames)


def _concat(frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(list(frames), how="vertical")


def _take(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The frames as one table, sharing their memory (no copy: a run in buckets holds the
    determinations of millions of convictions), and the list emptied."""
    table = pl.concat(frames, how="vertical", rechunk=False)
    frames.clear()
    return table


def _empty_record(out_dir: Path) -> None:
    """Never reached with a decision made; kept so `record/` always has its four files."""
    from clearance.records import schema

    for name, shape in (("counts", schema.COUNTS_SCHEMA), ("subjects", schema.SUBJECTS_SCHEMA)):
        schema.empty(shape).write_parquet(out_dir / RECORD_DIR / f"{name}.parquet")


def to_bytes(frame: pl.DataFrame) -> bytes:
    """A table as Arrow IPC bytes (how a piece crosses between Spark's workers and the
    driver)."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def from_bytes(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))
