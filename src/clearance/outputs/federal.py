"""The federal screen's tables: `federal.csv` (one row per federal count) and
`federal-summary.json` (people and counts by decision and reason, and the not-covered
population by statute and sentence length, for a clinic weighing commutation petitions).

The summary never promises relief for the not-covered counts: it lists them so that someone can
consider them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from clearance.law.federal import (
    CUTOFF_2022,
    CUTOFF_2023,
    DECISIONS,
    FEDERAL_RULES,
    NOT_COVERED_LABELS,
    FederalPolicy,
)
from clearance.records.federal import FederalRead

#: federal.csv, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "person_id", "name", "dob", "citizenship", "court", "docket", "count", "statute",
    "statute_raw", "offense_date", "disposition", "disposition_date", "sentence", "decision",
    "form", "reasons", "conditions", "explanation", "packet", "origin", "source_file",
    "source_line",
)  # fmt: skip

#: Sentence-length bands of the not-covered population, in order.
SENTENCE_BANDS = (
    "life",
    "20 years or more",
    "10 to 20 years",
    "5 to 10 years",
    "1 to 5 years",
    "under 1 year",
    "no custody",
    "not recorded",
)


def sentence_band() -> pl.Expr:
    """The band of a count's custody sentence (months), for the summary."""
    m = pl.col("sentence_months")
    return (
        pl.when(pl.col("sentence_life"))
        .then(pl.lit("life"))
        .when(m.is_null())
        .then(pl.lit("not recorded"))
        .when(m >= 240)
        .then(pl.lit("20 years or more"))
        .when(m >= 120)
        .then(pl.lit("10 to 20 years"))
        .when(m >= 60)
        .then(pl.lit("5 to 10 years"))
        .when(m >= 12)
        .then(pl.lit("1 to 5 years"))
        .when(m > 0)
        .then(pl.lit("under 1 year"))
        .otherwise(pl.lit("no custody"))
    )


def csv_frame(decided: pl.DataFrame) -> pl.DataFrame:
    """The rows of federal.csv: input order, reasons joined with `; `, and the packet file of
    each covered count (empty when packets are not written)."""
    if "packet" not in decided.columns:
        decided = decided.with_columns(pl.lit("").alias("packet"))
    return decided.select(
        pl.col(c).list.join("; ").alias(c) if c == "reasons" else pl.col(c) for c in CSV_COLUMNS
    )


def _counter(frame: pl.DataFrame, column: str, order: tuple[str, ...] = ()) -> dict[str, int]:
    counted = frame.group_by(column).len()
    found = {str(k): int(v) for k, v in zip(counted[column], counted["len"], strict=True)}
    ordered = {k: found.get(k, 0) for k in order}
    rest = sorted(
        ((k, v) for k, v in found.items() if k not in ordered), key=lambda kv: (-kv[1], kv[0])
    )
    return {**ordered, **dict(rest)}


def summary(
    decided: pl.DataFrame, read: FederalRead, policy: FederalPolicy, packets: int
) -> dict[str, Any]:
    """The figures of a federal screen."""
    by_decision = {
        d: {
            "counts": int(decided.filter(pl.col("decision") == d).height),
            "people": int(decided.filter(pl.col("decision") == d)["person_id"].n_unique()),
        }
        for d in DECISIONS
    }
    reasons = decided.select(pl.col("reasons").explode().alias("reason")).drop_nulls()
    by_reason = _counter(reasons, "reason", tuple(r.id for r in FEDERAL_RULES))
    by_reason = {k: v for k, v in by_reason.items() if v}
    people = decided.group_by("person_id").agg(
        pl.col("decision").is_in(["covered_2022", "covered_2023"]).any().alias("covered"),
        (pl.col("decision") == "review").any().alias("review"),
        (pl.col("decision") == "not_covered").all().alias("none"),
    )
    not_covered = decided.filter(pl.col("decision") == "not_covered")
    nc_reasons = (
        not_covered.select(pl.col("reasons").explode().alias("reason"))
        .filter(pl.col("reason").is_in(list(NOT_COVERED_LABELS)))
        .with_columns(pl.col("reason").replace_strict(NOT_COVERED_LABELS))
    )
    conditions = decided.filter(pl.col("conditions") != "")
    return {
        "input": {
            "rows_read": read.rows_read,
            "loaded": read.rows_loaded,
            "quarantined": read.rows_quarantined,
            "files": [
                {
                    "file": Path(f.path).name,
                    "kind": read.kinds.get(f.path, ""),
                    "rows_read": f.rows_read,
                    "loaded": f.rows_loaded,
                    "quarantined": f.rows_quarantined,
                }
                for f in read.files
            ],
        },
        "policy": asdict(policy),
        "cutoffs": {"proclamation_10467": str(CUTOFF_2022), "proclamation_10688": str(CUTOFF_2023)},
        "counts": decided.height,
        "people": int(decided["person_id"].n_unique()),
        "by_decision": by_decision,
        "by_reason": by_reason,
        "by_origin": _counter(decided, "origin"),
        "people_summary": {
            "with_a_covered_count": int(people["covered"].sum()),
            "with_a_count_to_review": int(people["review"].sum()),
            "with_nothing_covered": int(people["none"].sum()),
        },
        "conditions": {
            "counts_covered_on_condition_of_citizenship": conditions.height,
            "people": int(conditions["person_id"].n_unique()),
        },
        "packets": packets,
        "not_covered": {
            "counts": not_covered.height,
            "people": int(not_covered["person_id"].n_unique()),
            "by_reason": _counter(nc_reasons, "reason"),
            "by_statute": _counter(
                not_covered.with_columns(
                    pl.coalesce("statute", "statute_raw").fill_null("no statute").alias("s")
                ),
                "s",
            ),
            "by_sentence": _counter(
                not_covered.with_columns(sentence_band().alias("band")), "band", SENTENCE_BANDS
            ),
            "note": "Not covered by either proclamation. Listed so that a clinic can consider "
            "other relief (such as a commutation petition); the screen promises none.",
        },
    }


def write_federal_tables(
    out_dir: Path, decided: pl.DataFrame, read: FederalRead, policy: FederalPolicy, packets: int
) -> dict[str, Any]:
    """federal.csv, federal-summary.json and federal-quarantine.csv; returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_frame(decided).write_csv(out_dir / "federal.csv", date_format="%Y-%m-%d")
    read.quarantine.write_csv(out_dir / "federal-quarantine.csv")
    figures = summary(decided, read, policy, packets)
    (out_dir / "federal-summary.json").write_text(
        json.dumps(figures, indent=2) + "\n", encoding="utf-8"
    )
    return figures
