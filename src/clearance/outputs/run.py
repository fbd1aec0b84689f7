"""Write a run's folder: the result tables, the summary, the quarantine and the record.

Every file is written from the same determinations, sorted, with keys sorted, so the same
inputs, policy and as-of date give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from clearance.engine import Decided, keep_for_figures
from clearance.outputs.cells import KEYS, write_people_csv
from clearance.outputs.person_index import RECORD_ROW_GROUP
from clearance.outputs.summary import build_summary
from clearance.outputs.tables import (
    conviction_base,
    people_table,
    write_convictions,
    write_results_csv,
    write_sorted_parquet,
)
from clearance.records.doj import Records

#: The folder of a run that `clearance explain` and later steps read back.
RECORD_DIR = "record"


@dataclass(frozen=True)
class RunFiles:
    """Where a run's outputs are."""

    out_dir: Path
    files: tuple[str, ...]
    summary: dict[str, Any]


def write_run(
    out_dir: Path,
    decided: Decided,
    records: Records,
    inputs: Sequence[Path],
    policy_text: str,
    with_what_ifs: bool = True,
    *,
    base: pl.DataFrame | None = None,
    whole_input: bool = True,
    what_ifs: Mapping[str, Decided] | None = None,
    input_totals: Mapping[str, int] | None = None,
    record_tables: bool = True,
    federal: Mapping[str, object] | None = None,
) -> RunFiles:
    """Write every output of a run to `out_dir` and return the summary.

    results.csv streams the inputs again (mostly disk and memory copies); it is written on a
    second thread while this one computes the summary and its what-ifs.

    `base` is the people's record before any decision (`conviction_base`), when the caller has
    it already (a statewide run computes it once for every county). `whole_input=False` leaves
    out what is about the whole input rather than the county (results.csv, quarantine.csv),
    and keeps in `record/` only the people decided: a statewide run writes those once.
    A run decided in parts (`clearance.scale`) passes `what_ifs`, `input_totals` and
    `federal` (see `build_summary`), and `record_tables=False` when it writes the record's
    counts and subjects itself, part by part.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # The facts kept for the what-ifs need no more than their figures.
    keep_for_figures(decided.cache)
    with ThreadPoolExecutor(max_workers=1) as pool:
        results = (
            pool.submit(write_results_csv, out_dir / "results.csv", decided, records, inputs)
            if whole_input
            else None
        )
        # A slice at a time: a statewide run holds millions of convictions, and each copy of
        # them held longer than needed adds to the peak.
        write_convictions(
            decided, records, out_dir / "convictions.csv", out_dir / "convictions.parquet"
        )
        # The people's record before any decision, shared by people.csv and every what-if.
        if base is None:
            base = conviction_base(records, decided.as_of)
        people = people_table(decided, records, base)
        write_people_csv(people, out_dir / "people.csv", keep=KEYS)
        del people
        if whole_input:
            write_people_csv(records.quarantine, out_dir / "quarantine.csv")
        summary = build_summary(
            decided,
            records,
            with_what_ifs=with_what_ifs,
            base=base,
            what_ifs=what_ifs,
            input_totals=input_totals,
            federal=federal,
        )
        del base
        # The facts were kept for the what-ifs, which are done.
        decided.cache.clear()
        kept = records if whole_input else _decided_people(decided, records)
        _write_record(out_dir, decided, kept if record_tables else None, policy_text)
        if results is not None:
            results.result()
    (out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    files = (
        "convictions.csv",
        "convictions.parquet",
        *(("results.csv",) if whole_input else ()),
        "people.csv",
        "summary.json",
        *(("quarantine.csv",) if whole_input else ()),
    )
    return RunFiles(out_dir=out_dir, files=files, summary=summary)


def _decided_people(decided: Decided, records: Records) -> Records:
    """The records of the people with a determination (what `explain` reads back)."""
    people = decided.table["subject_id"].unique().implode()
    return Records(
        subjects=records.subjects.filter(pl.col("subject_id").is_in(people)),
        counts=records.counts.filter(pl.col("subject_id").is_in(people)),
        quarantine=records.quarantine.clear(),
        files=records.files,
    )


def _write_record(
    out_dir: Path, decided: Decided, records: Records | None, policy_text: str
) -> None:
    """The canonical record and determinations, read back by `explain`, the store and filings.
    LZ4 keeps them fast to write; they are working files, not the office's deliverables.
    Small row groups let one person be read without the rest (`person_index`)."""
    record = out_dir / RECORD_DIR
    record.mkdir(exist_ok=True)
    options: dict[str, Any] = {"compression": "lz4", "row_group_size": RECORD_ROW_GROUP}
    if records is not None:
        records.counts.write_parquet(record / "counts.parquet", **options)
        records.subjects.write_parquet(record / "subjects.parquet", **options)
    # In (subject_id, count_id) order, a slice at a time (see `sorted_slices`).
    write_sorted_parquet(decided.table, record / "determinations.parquet", "lz4", RECORD_ROW_GROUP)
    (record / "policy.yaml").write_text(policy_text, encoding="utf-8")
