"""`--county all` on an input larger than the memory limit: the statewide mode in buckets of
people on disk.

The input is read once into buckets of people (`reading.write_buckets`, as a single-county run
above the limit does). Each bucket is decided for every county at once (`decide_every_county`)
and split by county; each county's part goes to that county's `PieceWriter`, which writes the
folder with the run's own writer once every bucket is in: the bytes of the in-memory statewide
run, which are those of the county's own run. What is about the whole input (results.csv,
quarantine.csv, the statewide summary) is written from what every bucket contributes.

Every county's determinations and the decided people's identity and record figures (what its
folder is made of) wait on disk until its folder is written, one county at a time: memory holds
one bucket's records, or one county's outputs, and what the input-wide files need of everyone
(the decisions on each line, without their explanations).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance import heap
from clearance.engine import Decided, EngineError, counties
from clearance.outputs.cells import write_people_csv
from clearance.outputs.tables import conviction_base, write_results_csv
from clearance.policy.schema import Policy
from clearance.records.doj import FileStats, Records
from clearance.records.federal import federal_entries
from clearance.scale.pieces import Piece, PieceWriter
from clearance.scale.reading import write_buckets
from clearance.scale.statewide import (
    ALL,
    COUNTIES_DIR,
    RESULT_COLUMNS,
    StatewideFiles,
    by_county,
    county_folder,
    decide_every_county,
    statewide_files,
    statewide_totals,
    summary_row,
    with_a_run,
    write_statewide,
)


@dataclass(frozen=True)
class StatewideBuckets:
    """A statewide run made in buckets: its files, and the input's accounting."""

    state: StatewideFiles
    files: list[FileStats]
    buckets: int
    disk_bytes: int


class _Everyone:
    """What the input-wide files need of every bucket: the decisions on each line, and the
    people decided with their identity and record figures (the statewide totals)."""

    def __init__(self) -> None:
        self.decided: list[pl.DataFrame] = []
        self.subjects: list[pl.DataFrame] = []
        self.base: list[pl.DataFrame] = []
        self.folded: list[pl.DataFrame] = []

    def add(self, table: pl.DataFrame, records: Records, base: pl.DataFrame) -> None:
        self.decided.append(table.select("county", *RESULT_COLUMNS))
        people = pl.col("subject_id").is_in(table["subject_id"].unique().implode())
        self.subjects.append(
            records.subjects.filter(people).select("subject_id", "name", "dob", "cii_number")
        )
        self.base.append(base.filter(people))
        self.folded.append(
            records.counts.filter(pl.col("source_rows") > 1).select(
                "subject_id", "source_file", "source_line", "source_lines", "source_rows"
            )
        )

    def records(self, files: list[FileStats], quarantine: pl.DataFrame) -> Records:
        return Records(
            subjects=pl.concat(self.subjects, how="vertical"),
            counts=pl.concat(self.folded, how="vertical"),
            quarantine=quarantine,
            files=files,
        )


def run_statewide_in_buckets(
    paths: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    as_of: date,
    policy_text: str,
    buckets: int,
    with_what_ifs: bool = True,
    on_bucket: Callable[[int, int], None] | None = None,
) -> StatewideBuckets:
    """Read `paths` into `buckets` buckets, decide every county of each, write the statewide
    run to `out_dir` (see the module's docstring)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".clearance-buckets-", dir=out_dir.parent))
    try:
        bucketed = write_buckets(paths, work, buckets)
        disk = sum(p.stat().st_size for p in work.iterdir())
        writers: dict[str, PieceWriter] = {}
        # What each bucket holds (people, counts, counties, federal entries): every county's
        # summary speaks of the whole input.
        totals: list[Piece] = []
        everyone = _Everyone()
        decided_counties: set[str] = set()
        # Pieces of a county that no bucket so far has a cannabis conviction of (only related
        # charges to review): kept until it is known whether the county has a run.
        waiting: list[tuple[str, Piece]] = []
        filled = sorted(bucketed.filled)
        for done, bucket in enumerate(filled, 1):
            records = bucketed.records(bucket)
            totals.append(_totals_of(records))
            decided, what_ifs = decide_every_county(records, policy, as_of, with_what_ifs)
            decided_counties.update(decided.counties)
            base = conviction_base(records, as_of)
            everyone.add(decided.table, records, base)
            for county, piece in _pieces(decided, what_ifs, records, base):
                if county in decided_counties:
                    if county not in writers:
                        folder = out_dir / COUNTIES_DIR / county_folder(county)
                        spill = work / "kept" / county_folder(county)
                        writers[county] = PieceWriter(folder, spill=spill)
                    writers[county].add(piece)
                else:
                    waiting.append((county, piece))
            del decided, what_ifs, base, records
            heap.release()
            if on_bucket is not None:
                on_bucket(done, len(filled))
        present = sorted(set().union(*(t.counties for t in totals)))
        if not present:
            raise EngineError("no court event with a county in the input")
        if not writers:
            raise EngineError("no cannabis conviction in any county of the input")
        for county, piece in waiting:
            if county in writers:
                writers[county].add(piece)
        del waiting
        inputs = list(dict.fromkeys(paths))
        view = everyone.records(bucketed.files, bucketed.quarantine)
        every = Decided(
            table=with_a_run(pl.concat(everyone.decided, how="vertical"), writers).drop("county"),
            policy=policy,
            as_of=as_of,
            county=ALL,
            rules=(),
        )
        rows: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            results = pool.submit(write_results_csv, out_dir / "results.csv", every, view, inputs)
            for county in sorted(writers):
                writer = writers.pop(county)
                for piece in totals:
                    writer.add(piece)
                written = writer.finish(
                    policy, as_of, county, bucketed.files, bucketed.quarantine, inputs,
                    policy_text, with_what_ifs, whole_input=False,
                )  # fmt: skip
                del writer
                rows.append(summary_row(county, written.summary))
            results.result()
        write_people_csv(bucketed.quarantine, out_dir / "quarantine.csv")
        figures = statewide_totals(every, view, pl.concat(everyone.base, how="vertical"), rows)
        skipped = [c for c in present if c not in decided_counties]
        write_statewide(out_dir, rows, figures, skipped, policy, as_of)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    state = statewide_files(out_dir, rows, figures, skipped)
    return StatewideBuckets(state=state, files=bucketed.files, buckets=buckets, disk_bytes=disk)


def _totals_of(records: Records) -> Piece:
    """A bucket's share of the input's figures, as a piece that decides nothing."""
    return Piece(
        decided=None,
        what_ifs={},
        base=pl.DataFrame(),
        subjects=pl.DataFrame(),
        counts=pl.DataFrame(),
        people_total=records.subjects.height,
        counts_total=records.counts.height,
        merged_duplicates=records.merged_duplicate_counts,
        counties=counties(records),
        federal=federal_entries(records),
    )


#: The column naming the county a person's rows are copied for.
_PART = "_piece_county"


def _pieces(
    decided: Decided,
    what_ifs: dict[str, pl.DataFrame],
    records: Records,
    base: pl.DataFrame,
) -> list[tuple[str, Piece]]:
    """A bucket's decisions as one piece per county: the county's determinations and
    what-ifs, and the people they decide (in any of them) with their record. A person with
    convictions in several counties is in each of those counties' pieces."""
    parts = by_county(decided.table)
    what_if_parts = {key: by_county(table) for key, table in what_ifs.items()}
    # A county can have determinations under a what-if policy only (the set-asides that a
    # county's flow leaves out): its piece holds them.
    named = sorted(set(parts).union(*what_if_parts.values()))
    # (county, person) of every decision, the what-ifs' included: one join per table then
    # gives every county its people's rows, in the record's order.
    pairs = (
        pl.concat(
            [t.select(pl.col("county").alias(_PART), "subject_id")
             for t in (decided.table, *what_ifs.values())],
            how="vertical",
        )
        .unique()
    )  # fmt: skip

    def split(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
        joined = frame.join(pairs, on="subject_id", how="inner", maintain_order="left")
        return {
            str(key[0]): part.drop(_PART)
            for key, part in joined.partition_by(_PART, as_dict=True, maintain_order=True).items()
        }

    base_of = split(base)
    subjects_of = split(records.subjects)
    counts_of = split(records.counts)
    pieces = []
    for county in named:
        pieces.append(
            (
                county,
                Piece(
                    decided=parts.get(county, decided.table.clear()),
                    what_ifs={
                        key: tables.get(county, what_ifs[key].clear())
                        for key, tables in what_if_parts.items()
                    },
                    base=base_of[county],
                    subjects=subjects_of[county],
                    counts=counts_of[county],
                    people_total=0,
                    counts_total=0,
                    merged_duplicates=0,
                    counties=[county],
                ),
            )
        )
    return pieces
