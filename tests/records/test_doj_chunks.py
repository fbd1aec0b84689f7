"""The reader's public steps (`read_chunks`, `finish_records`, `quarantine_of`): what the
readers that never hold a whole record (buckets of people on disk, Spark) are built on.

Finishing the rows of any split of the people apart must give the record `read_doj` gives,
since every merge (sentence parts across chunks and files, identity, case numbers) is within
one person."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from clearance.records.doj import (
    ChunkRows,
    FileStats,
    finish_records,
    quarantine_of,
    read_chunks,
    read_doj,
)
from clearance.synth import write_synthetic


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two files over several 16 MB chunks, with damaged rows, a Latin-1 file and the same
    people in both (their sentence parts merge across files)."""
    folder = tmp_path_factory.mktemp("chunks")
    first, second = folder / "a.dat", folder / "b.dat.gz"
    write_synthetic(first, rows=45_000, seed=5, malformed_share=0.01, encoding="latin-1")
    write_synthetic(second, rows=8_000, seed=5, malformed_share=0.01, header=False)
    return [first, second]


def _chunks(paths: list[Path]) -> tuple[list[FileStats], list[ChunkRows]]:
    stats: list[FileStats] = []
    rows: list[ChunkRows] = []
    for index, path in enumerate(paths):
        file_stats = FileStats(path=str(path), bytes=path.stat().st_size)
        stats.append(file_stats)
        rows += list(read_chunks(path, index, file_stats))
    return stats, rows


def test_chunks_account_for_every_line_as_read_doj(two_files: list[Path]) -> None:
    whole = read_doj(two_files)
    stats, chunks = _chunks(two_files)
    first_file = [c for c in chunks if c.counts["_seq"].max() < (1 << 40)]
    assert len(first_file) >= 2, "the first file spans several chunks"
    assert [c.chunk_index for c in first_file] == list(range(len(first_file)))
    starts = [c.first_line for c in first_file]
    assert starts == sorted(starts) and starts[0] == 2  # line 1 is the header
    for mine, theirs in zip(stats, whole.files, strict=True):
        assert mine.planned and theirs.planned
        for name in ("rows_read", "rows_loaded", "rows_quarantined", "blank_lines",
                     "results_rows", "encoding", "latin1_lines", "header"):  # fmt: skip
            assert getattr(mine, name) == getattr(theirs, name), name
        assert (mine.plan is None) == (theirs.plan is None)
        if mine.plan is not None and theirs.plan is not None:
            assert np.array_equal(mine.plan, theirs.plan)
    assert sum(c.loaded for c in chunks) == whole.rows_loaded
    # The quarantine in input order, whatever order the chunks come in.
    assert quarantine_of([c.quarantine for c in reversed(chunks)]).equals(whole.quarantine)
    assert whole.quarantine.height > 0


def test_people_finished_apart_give_the_whole_record(two_files: list[Path]) -> None:
    """Split every chunk's rows into two groups of people; each group finished alone, the two
    put together are the whole record, row for row."""
    whole = read_doj(two_files)
    stats, chunks = _chunks(two_files)
    halves = []
    for half in (0, 1):
        mine = (pl.col("subject_id").hash(seed=3) % 2) == half
        halves.append(
            finish_records(
                [c.counts.filter(mine) for c in chunks],
                [c.subjects.filter(mine) for c in chunks],
                stats,
            )
        )
    assert all(h.counts.height and h.quarantine.height == 0 for h in halves)
    key = ["subject_id", "count_id"]
    counts = pl.concat([h.counts for h in halves]).sort(key)
    assert counts.equals(whole.counts.sort(key))
    subjects = pl.concat([h.subjects for h in halves]).sort("subject_id")
    assert subjects.equals(whole.subjects.sort("subject_id"))
    assert sum(h.merged_duplicate_counts for h in halves) == whole.merged_duplicate_counts
    assert whole.merged_duplicate_counts > 0


def test_a_reader_stopped_early_leaves_the_file_unplanned(two_files: list[Path]) -> None:
    stats = FileStats(path=str(two_files[0]), bytes=two_files[0].stat().st_size)
    reader = read_chunks(two_files[0], 0, stats)
    first = next(reader)
    reader.close()
    assert first.chunk_index == 0 and first.loaded > 0
    assert not stats.planned and stats.rows_loaded == first.loaded
