"""The files written from the determinations a slice at a time (`sorted_slices`) are the same
bytes whether the table comes in order (a run's own) or in any order (a run put together from
buckets of people), and whatever the size of a slice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from clearance.engine import Decided, decide
from clearance.outputs import tables
from clearance.outputs.person_index import RECORD_ROW_GROUP
from clearance.outputs.tables import write_convictions, write_sorted_parquet
from clearance.policy.loader import DEFAULT_PRESET, load_policy
from clearance.records.doj import Records, read_doj

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-generated-sacramento-20k.dat.gz"
AS_OF = date(2026, 11, 21)


@pytest.fixture(scope="module")
def decided() -> tuple[Decided, Records]:
    records = read_doj([SAMPLE])
    return decide(records, load_policy(DEFAULT_PRESET), AS_OF, "SACRAMENTO"), records


def _files(run: Decided, records: Records, folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    write_convictions(run, records, folder / "c.csv", folder / "c.parquet")
    write_sorted_parquet(run.table, folder / "d.parquet", "lz4", RECORD_ROW_GROUP)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_shuffled_determinations_give_the_same_bytes_slice_by_slice(
    decided: tuple[Decided, Records], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, records = decided
    assert run.table.height > 300
    whole = _files(run, records, tmp_path / "whole")
    shuffled = Decided(
        table=run.table.sample(fraction=1.0, shuffle=True, seed=7),
        policy=run.policy,
        as_of=run.as_of,
        county=run.county,
        rules=run.rules,
    )
    assert not shuffled.table["subject_id"].is_sorted()
    # Slices of a few rows: many row groups, each gathered through the order.
    monkeypatch.setattr(tables, "SLICE_ROWS", 128)
    in_slices = _files(shuffled, records, tmp_path / "slices")
    monkeypatch.setattr(tables, "SLICE_ROWS", 1 << 17)
    assert in_slices["c.csv"] == whole["c.csv"]
    # The CSV: one header, then every conviction in (subject_id, count_id) order.
    lines = whole["c.csv"].decode("utf-8").splitlines()
    assert lines[0].startswith("subject_id,name,dob")
    read = pl.read_parquet(tmp_path / "slices" / "c.parquet")
    assert read.height == run.table.height
    assert read.equals(pl.read_parquet(tmp_path / "whole" / "c.parquet"))
    assert read.select("subject_id", "count_id").equals(
        read.select("subject_id", "count_id").sort("subject_id", "count_id")
    )
    determinations = pl.read_parquet(tmp_path / "slices" / "d.parquet")
    assert determinations.equals(run.table.sort("subject_id", "count_id"))
    groups = pq.ParquetFile(tmp_path / "slices" / "d.parquet").metadata
    assert max(groups.row_group(g).num_rows for g in range(groups.num_row_groups)) <= 128
    # The same slice size gives the same bytes, in order or not.
    monkeypatch.setattr(tables, "SLICE_ROWS", 128)
    again = _files(run, records, tmp_path / "again")
    assert again == in_slices


def test_slices_are_a_multiple_of_the_record_row_groups() -> None:
    """Row groups of the record break where a slice does: only whole groups, except the
    last, so that a person is read from few of them (`person_index`)."""
    assert tables.SLICE_ROWS % RECORD_ROW_GROUP == 0
