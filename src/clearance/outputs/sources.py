"""What a run read from sources other than the DOJ file, written beside its outputs.

A run that reads RAP sheets or court exports (alone or with the DOJ file) adds to its folder:

- `sources.csv`: every input with its kind;
- `matches.csv`: every person of a later source and how they were matched to the first
  (merged by CII, merged by name and date of birth, doubtful and kept apart for review, new);
- `shared-convictions.csv`: convictions found in two sources, decided once, with the other
  source's file and line (convictions.csv then cites both in its `source` column);
- `reading-notes.csv`: values read with a correction or left unknown (RAP sheets);
- `events.csv`: every event of the RAP sheets, parsed, federal or unrecognised.

and to summary.json a `sources` block: people matched, doubtful matches, convictions in two
sources, and the convictions **found only in the court's records** (or only in RAP sheets) by
decision, the figure Los Angeles reported for its 2021 wave.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from clearance.engine import DECISIONS, Decided
from clearance.records.canonical import SourceRecords
from clearance.records.sources import FORMAT_NAMES, SourcesRead


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def sources_summary(sources: SourcesRead, decided: Decided) -> dict[str, Any]:
    """The `sources` block of summary.json."""
    table = decided.table.with_columns(pl.col("source_file").cast(pl.String))
    block: dict[str, Any] = {
        "files": {
            kind: sorted(_name(p) for p in sources.files_of(kind))
            for kind in FORMAT_NAMES
            if sources.files_of(kind)
        }
    }
    matches = sources.matches
    if matches.height:
        by_rule = matches.group_by("rule").len().sort("rule")
        block["people"] = {str(rule): int(n) for rule, n in by_rule.iter_rows()}
        block["doubtful_matches"] = int(matches.filter(pl.col("rule") == "doubtful").height)
    block["convictions_in_two_sources"] = int(
        sources.shared.join(
            table.select("subject_id", "count_id"), on=["subject_id", "count_id"], how="semi"
        ).height
    )
    if sources.files_of("doj"):
        for kind, key in (
            ("court", "found_only_in_court_records"),
            ("rapsheet", "found_only_in_rap_sheets"),
        ):
            files = sources.files_of(kind)
            if not files:
                continue
            only = table.filter(pl.col("source_file").is_in(files))
            by_decision = dict.fromkeys(DECISIONS, 0) | {
                str(d): int(n) for d, n in only.group_by("decision").len().iter_rows()
            }
            block[key] = {
                "convictions": only.height,
                "cases": int(
                    only.select(pl.struct("subject_id", "court_case_number").n_unique()).item()
                )
                if only.height
                else 0,
                "people": int(only["subject_id"].n_unique()),
                "by_decision": by_decision,
            }
    records = sources.records
    if isinstance(records, SourceRecords) and sources.files_of("rapsheet"):
        events = records.events.filter(pl.col("source_file").is_in(sources.files_of("rapsheet")))
        block["rap_sheets"] = {
            "sheets": len(sources.files_of("rapsheet")),
            "events": events.height,
            "unrecognised_events": int(events.filter(pl.col("kind") == "unrecognised").height),
            "federal_entries": int(events.filter(pl.col("federal")).height),
            "reading_notes": records.notes.height,
        }
    return block


def write_source_outputs(run_dir: Path, sources: SourcesRead, decided: Decided | None) -> list[str]:
    """Write the files of the module docstring into a run folder already written by
    `write_run`, and add the `sources` block to its summary.json. Returns the files written.
    A run of DOJ files alone gets nothing."""
    if set(sources.kinds.values()) == {"doj"}:
        return []
    written = ["sources.csv"]
    pl.DataFrame(
        {"file": [_name(p) for p in sources.kinds], "kind": list(sources.kinds.values())}
    ).write_csv(run_dir / "sources.csv")
    if sources.matches.height:
        sources.matches.write_csv(run_dir / "matches.csv")
        written.append("matches.csv")
    if sources.shared.height:
        sources.shared.with_columns(
            pl.col("also_source_file").map_elements(_name, return_dtype=pl.String)
        ).write_csv(run_dir / "shared-convictions.csv")
        written.append("shared-convictions.csv")
        _cite_both(run_dir, sources.shared)
    records = sources.records
    if isinstance(records, SourceRecords):
        if records.notes.height:
            records.notes.with_columns(
                pl.col("source_file").map_elements(_name, return_dtype=pl.String)
            ).write_csv(run_dir / "reading-notes.csv")
            written.append("reading-notes.csv")
        if records.events.height:
            records.events.with_columns(
                pl.col("source_file").map_elements(_name, return_dtype=pl.String)
            ).write_csv(run_dir / "events.csv")
            written.append("events.csv")
    summary_path = run_dir / "summary.json"
    if summary_path.is_file() and decided is not None:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        summary["sources"] = sources_summary(sources, decided)
        summary_path.write_text(
            json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    return written


def _cite_both(run_dir: Path, shared: pl.DataFrame) -> None:
    """convictions.csv and .parquet: a conviction found in two sources cites both."""
    also = shared.group_by("subject_id", "count_id").agg(
        pl.format(
            "{}:{}",
            pl.col("also_source_file").map_elements(_name, return_dtype=pl.String),
            pl.col("also_source_line"),
        )
        .str.join("; ")
        .alias("_also")
    )
    for name in ("convictions.csv", "convictions.parquet"):
        path = run_dir / name
        if not path.is_file():
            continue
        table = (
            pl.read_csv(path, infer_schema=False)
            if name.endswith(".csv")
            else (pl.read_parquet(path))
        )
        if "source" not in table.columns:
            continue
        cited = (
            table.join(also, on=["subject_id", "count_id"], how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("_also").is_not_null())
                .then(pl.format("{}; {}", pl.col("source"), pl.col("_also")))
                .otherwise(pl.col("source"))
                .alias("source")
            )
            .drop("_also")
        )
        if name.endswith(".csv"):
            cited.write_csv(path)
        else:
            cited.write_parquet(path)
