"""The federal screen of a state run's folder: the federal entries its inputs held.

A run decides California convictions; the federal entries of its RAP sheets and DOJ rows are
kept in its canonical record (county `FEDERAL`). This module screens them under the pardons
from the run folder alone (record/ and events.csv), for the workspace's federal tab, and writes
the same outputs as `clearance federal` into the run's `federal/` folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from clearance.law.federal import FederalPolicy, decide_federal
from clearance.outputs.federal import write_federal_tables
from clearance.outputs.federal_packets import with_packet_column, write_packets
from clearance.outputs.run import RECORD_DIR
from clearance.records.doj import FileStats
from clearance.records.federal import FederalRead, federal_entries_of

#: The run folder's subfolder for the federal outputs.
FEDERAL_DIR = "federal"


def screen_run(run_dir: Path, policy: FederalPolicy | None = None) -> pl.DataFrame:
    """The decided federal counts of a run folder (empty when it holds none, or no record)."""
    record = run_dir / RECORD_DIR
    counts_path, subjects_path = record / "counts.parquet", record / "subjects.parquet"
    if not (counts_path.is_file() and subjects_path.is_file()):
        return decide_federal(federal_entries_of(pl.DataFrame(), pl.DataFrame()), policy)
    events_path = run_dir / "events.csv"
    events = (
        pl.read_csv(
            events_path,
            infer_schema=False,
            columns=["source_file", "subject_id", "event_id", "agency"],
        )
        if events_path.is_file()
        else None
    )
    found = federal_entries_of(pl.read_parquet(counts_path), pl.read_parquet(subjects_path), events)
    return decide_federal(found, policy)


def _input_files(run_dir: Path) -> list[FileStats]:
    """The run's input accounting, from its summary.json."""
    path = run_dir / "summary.json"
    if not path.is_file():
        return []
    files = json.loads(path.read_text(encoding="utf-8")).get("input", {}).get("files", [])
    return [
        FileStats(
            path=str(f.get("name", "")),
            bytes=int(f.get("bytes", 0)),
            rows_read=int(f.get("rows_read", 0)),
            rows_loaded=int(f.get("rows_loaded", 0)),
            rows_quarantined=int(f.get("rows_quarantined", 0)),
        )
        for f in files
    ]


def write_run_federal(run_dir: Path, policy: FederalPolicy | None = None) -> dict[str, Any]:
    """federal.csv, federal-summary.json and the packets of a run, in its `federal/` folder.

    The folder is written aside and put in place whole (`outputs.folder`, as `clearance
    federal` writes its folder): a failure leaves the previous federal outputs as they were, and
    a second writer of the same folder is refused (`CommandError`) rather than mixed in.
    """
    from clearance.outputs.folder import commit, stage

    policy = policy or FederalPolicy()
    decided = screen_run(run_dir, policy)
    read = FederalRead(decided.select(list(decided.columns)), files=_input_files(run_dir))
    with stage(run_dir / FEDERAL_DIR) as staging:
        packets = write_packets(staging.path, decided)
        summary = write_federal_tables(
            staging.path, with_packet_column(decided), read, policy, packets
        )
        commit(staging, "federal")
    return summary
