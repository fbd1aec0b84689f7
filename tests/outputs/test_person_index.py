"""The person index: one person's rows read from the row groups that hold them, and the same
rows as a scan of the whole record; a record changed since the index is scanned instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from clearance.outputs.explain import person_record
from clearance.outputs.person_index import (
    INDEX_FILE,
    RECORD_ROW_GROUP,
    TABLES,
    person_rows,
    write_person_index,
)
from clearance.outputs.run import RECORD_DIR


#: Rows per row group of the rewritten record: many groups from the sample's few thousand rows.
def shuffled(table: pl.DataFrame) -> pl.DataFrame:
    """The people in an order of their own (a hash of the SUBJECT_ID, as a run in buckets of
    people writes them), each person's rows together and in order: every row group then spans
    nearly every SUBJECT_ID, so their statistics cannot tell where a person is."""
    return table.sort(pl.col("subject_id").hash(7), maintain_order=True)


SMALL_GROUPS = 200


@pytest.fixture
def small_groups(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the sample run whose record tables have many small row groups, indexed."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("filings*"))
    for name in TABLES:
        path = copy / RECORD_DIR / f"{name}.parquet"
        shuffled(pl.read_parquet(path)).write_parquet(path, row_group_size=SMALL_GROUPS)
    write_person_index(copy / RECORD_DIR)
    return copy


def groups_holding(path: Path, subject_id: str) -> set[int]:
    """The row groups of a table that hold a person's rows, found from the rows themselves."""
    file = pq.ParquetFile(path)
    found = set()
    for group in range(file.metadata.num_row_groups):
        ids = file.read_row_group(group, columns=["subject_id"]).column(0).to_pylist()
        if subject_id in ids:
            found.add(group)
    return found


def people(run: Path, every: int = 13) -> list[str]:
    subjects = pl.read_parquet(run / RECORD_DIR / "subjects.parquet")["subject_id"]
    return subjects.gather_every(every).to_list()


def test_a_run_writes_its_record_in_small_row_groups(run_dir: Path) -> None:
    for name in TABLES:
        file = pq.ParquetFile(run_dir / RECORD_DIR / f"{name}.parquet")
        sizes = [file.metadata.row_group(g).num_rows for g in range(file.metadata.num_row_groups)]
        assert max(sizes) <= RECORD_ROW_GROUP, name


def test_a_person_is_read_from_their_row_groups_only(small_groups: Path) -> None:
    """Each table is read in exactly the row groups that hold the person's rows, and the
    rows are those a scan of the whole table finds, with the same columns and types."""
    record = small_groups / RECORD_DIR
    chosen = people(small_groups)
    assert len(chosen) >= 10
    read_total = 0
    for subject_id in chosen:
        found = person_rows(record, subject_id)
        assert found is not None
        for name in TABLES:
            path = record / f"{name}.parquet"
            scanned = pl.read_parquet(path).filter(pl.col("subject_id") == subject_id)
            assert found.tables[name].equals(scanned), (subject_id, name)
            assert found.groups_read[name] == len(groups_holding(path, subject_id))
        assert found.tables["subjects"].height == 1
        assert found.groups_read["index"] <= 2
        read_total += found.groups_read["counts"]
    total = pq.ParquetFile(record / "counts.parquet").metadata.num_row_groups
    assert total >= 10
    # About one group of the counts per person: never the whole table.
    assert read_total <= 2 * len(chosen) < total * len(chosen)


def test_someone_not_in_the_run_reads_no_row_group_of_the_record(small_groups: Path) -> None:
    found = person_rows(small_groups / RECORD_DIR, "not-a-subject")
    assert found is not None
    assert all(found.tables[name].height == 0 for name in TABLES)
    assert all(found.groups_read[name] == 0 for name in TABLES)


def test_explain_gives_the_same_person_with_and_without_the_index(small_groups: Path) -> None:
    for subject_id in people(small_groups, every=47):
        indexed = person_record(small_groups, subject_id)
        (small_groups / RECORD_DIR / INDEX_FILE).rename(small_groups / "aside")
        try:
            scanned = person_record(small_groups, subject_id)
        finally:
            (small_groups / "aside").rename(small_groups / RECORD_DIR / INDEX_FILE)
        assert indexed[0].equals(scanned[0]) and indexed[1].equals(scanned[1])
        assert indexed[2] == scanned[2]


def test_a_table_rewritten_after_the_index_is_scanned(small_groups: Path) -> None:
    """The index describes the tables it was built from; a table written again (here in
    other row groups) no longer matches it, so the person is found by a scan, rightly."""
    record = small_groups / RECORD_DIR
    subject_id = people(small_groups)[3]
    counts = record / "counts.parquet"
    pl.read_parquet(counts).sort("subject_id", descending=True).write_parquet(
        counts, row_group_size=SMALL_GROUPS // 2
    )
    assert person_rows(record, subject_id) is None
    timeline, _, who = person_record(small_groups, subject_id)
    assert who["subject_id"] == subject_id
    assert (
        timeline.height == pl.read_parquet(counts).filter(pl.col("subject_id") == subject_id).height
    )
    # Indexed again, it is used again.
    write_person_index(record)
    assert person_rows(record, subject_id) is not None
