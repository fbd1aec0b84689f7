"""The person page reads the person's rows through the run's person index, not the county.

A finished run of the workspace has its index; the page is then shown whole while every row
group of the record that does not hold the person is unreadable (overwritten), which a scan of
the table could not survive."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pyarrow.parquet as pq
import pytest
from web_site import DoneRun, login

from clearance.outputs.person_index import INDEX_FILE, TABLES, person_rows, write_person_index
from clearance.outputs.run import RECORD_DIR


def shuffled(table: pl.DataFrame) -> pl.DataFrame:
    """The people in an order of their own (a hash of the SUBJECT_ID, as a run in buckets of
    people writes them), each person's rows together and in order: every row group then spans
    nearly every SUBJECT_ID, so their statistics cannot tell where a person is."""
    return table.sort(pl.col("subject_id").hash(7), maintain_order=True)


SMALL_GROUPS = 500


def record_of(done: DoneRun) -> Path:
    return done.site.data_dir / "runs" / str(done.run_id) / RECORD_DIR


def test_a_finished_run_has_its_person_index(done_run: DoneRun) -> None:
    record = record_of(done_run)
    assert (record / INDEX_FILE).is_file()
    subject_id = str(pl.read_parquet(record / "determinations.parquet")["subject_id"][0])
    found = person_rows(record, subject_id)
    assert found is not None
    assert found.tables["subjects"]["subject_id"].to_list() == [subject_id]


def overwrite_row_groups(path: Path, keep: set[int]) -> None:
    """Fill the data of every row group of a Parquet file not in `keep` with 0xFF bytes,
    leaving its size, footer and time of change as they were."""
    metadata = pq.ParquetFile(path).metadata
    status = path.stat()
    with path.open("r+b") as handle:
        for group in range(metadata.num_row_groups):
            if group in keep:
                continue
            for c in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(c)
                start = chunk.data_page_offset
                if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                    start = min(start, chunk.dictionary_page_offset)
                handle.seek(start)
                handle.write(b"\xff" * chunk.total_compressed_size)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


@pytest.fixture
def broken_record(done_run: DoneRun) -> tuple[str, int]:
    """The run's record in small row groups, indexed; then every row group of each table
    that does not hold one person's rows overwritten. Restored afterwards."""
    record = record_of(done_run)
    saved = record.with_name("record-saved")
    shutil.copytree(record, saved)
    try:
        for name in TABLES:
            path = record / f"{name}.parquet"
            shuffled(pl.read_parquet(path)).write_parquet(path, row_group_size=SMALL_GROUPS)
        write_person_index(record)
        decided = pl.read_parquet(record / "determinations.parquet")
        subject_id = str(decided["subject_id"][decided.height // 2])
        counts = pl.read_parquet(record / "counts.parquet").with_row_index()
        mine = counts.filter(pl.col("subject_id") == subject_id)
        found = person_rows(record, subject_id)
        assert found is not None and found.groups_read["counts"] >= 1
        assert found.groups_total["counts"] > found.groups_read["counts"] + 1
        for name in TABLES:
            path = record / f"{name}.parquet"
            ids = pl.read_parquet(path, columns=["subject_id"]).with_row_index()
            rows = ids.filter(pl.col("subject_id") == subject_id)["index"]
            overwrite_row_groups(path, {int(r) // SMALL_GROUPS for r in rows})
        yield subject_id, mine.height
    finally:
        shutil.rmtree(record)
        saved.rename(record)


def test_the_person_page_reads_only_the_row_groups_of_the_person(
    done_run: DoneRun, broken_record: tuple[str, int]
) -> None:
    subject_id, rows = broken_record
    record = record_of(done_run)
    # A scan of the table, as the page did before its index, fails on the overwritten groups.
    with pytest.raises(pl.exceptions.ComputeError):
        pl.scan_parquet(record / "counts.parquet").filter(
            pl.col("subject_id") == subject_id
        ).collect()
    with done_run.site.client() as client:
        login(client, "viewer")
        page = client.get(f"/runs/{done_run.run_id}/people/{quote(subject_id, safe='')}")
    assert page.status_code == 200, page.text
    assert page.text.count('class="small source"') == rows
    assert subject_id in page.text
