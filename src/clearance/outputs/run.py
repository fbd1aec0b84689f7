"""Write a run's folder: the result tables, the summary, the quarantine and the record.

Every file is written from the same determinations, sorted, with keys sorted, so the same
inputs, policy and as-of date give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.engine import Decided, keep_for_figures
from clearance.outputs.cells import KEYS, write_people_csv
from clearance.outputs.summary import build_summary
from clearance.outputs.tables import (
    conviction_base,
    convictions_table,
    people_table,
    write_results_csv,
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
) -> RunFiles:
    """Write every output of a run to `out_dir` and return the summary.

    results.csv streams the inputs again (mostly disk and memory copies); it is written on a
    second thread while this one computes the summary and its what-ifs.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # The facts kept for the what-ifs need no more than their figures.
    keep_for_figures(decided.cache)
    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.submit(write_results_csv, out_dir / "results.csv", decided, records, inputs)
        convictions = convictions_table(decided, records)
        write_people_csv(convictions, out_dir / "convictions.csv", keep=KEYS)
        convictions.write_parquet(out_dir / "convictions.parquet")
        # Tables are released as soon as they are written: a statewide run holds millions of
        # counts, and each copy held longer than needed adds to the peak.
        del convictions
        # The people's record before any decision, shared by people.csv and every what-if.
        base = conviction_base(records, decided.as_of)
        people = people_table(decided, records, base)
        write_people_csv(people, out_dir / "people.csv", keep=KEYS)
        del people
        write_people_csv(records.quarantine, out_dir / "quarantine.csv")
        summary = build_summary(decided, records, with_what_ifs=with_what_ifs, base=base)
        del base
        # The facts were kept for the what-ifs, which are done.
        decided.cache.clear()
        _write_record(out_dir, decided, records, policy_text)
        results.result()
    (out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    files = (
        "convictions.csv",
        "convictions.parquet",
        "results.csv",
        "people.csv",
        "summary.json",
        "quarantine.csv",
    )
    return RunFiles(out_dir=out_dir, files=files, summary=summary)


def _write_record(out_dir: Path, decided: Decided, records: Records, policy_text: str) -> None:
    """The canonical record and determinations, read back by `explain`, the store and filings.
    LZ4 keeps them fast to write; they are working files, not the office's deliverables."""
    record = out_dir / RECORD_DIR
    record.mkdir(exist_ok=True)
    records.counts.write_parquet(record / "counts.parquet", compression="lz4")
    records.subjects.write_parquet(record / "subjects.parquet", compression="lz4")
    decided.table.write_parquet(record / "determinations.parquet", compression="lz4")
    (record / "policy.yaml").write_text(policy_text, encoding="utf-8")
