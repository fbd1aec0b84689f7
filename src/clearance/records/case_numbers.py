"""Court case numbers carried across the counts of one court event.

In the DOJ bulk layout the court case number (OFN) of a court event is often printed on its
first count only; the event's other counts arrive with it empty. A count without a case number
cannot be docketed, so before anything reads the counts, the number is carried to every count
of the same court step: the same subject, the same arrest cycle and the same step (`event_id`,
the first six digits of CNT_ORDER). Only where the step holds exactly one distinct number: a
step with two different numbers is left as recorded, never guessed.

Only the court counts without a number are touched (a small share of a large file), so the
cost is a filter and a join on them, not a window over every count.
"""

from __future__ import annotations

import polars as pl

_STEP = ["subject_id", "event_id"]


def carry_case_numbers(counts: pl.DataFrame) -> pl.DataFrame:
    """`counts` with the court case number filled in on the counts of a court step that
    carries exactly one number on its other counts; every other value unchanged."""
    number = counts["court_case_number"]
    if number.null_count() in (0, counts.height):
        return counts
    # Court steps only: an arrest event carries no court case number to share.
    missing = number.is_null() & (counts["step_type"] == "court")
    if not missing.any():
        return counts
    index = missing.arg_true()
    blank = counts.select(_STEP)[index]
    steps = blank.unique()
    known = (
        counts.select(*_STEP, "court_case_number")
        .filter(pl.col("court_case_number").is_not_null())
        .join(steps, on=_STEP, how="semi")
        .group_by(_STEP)
        .agg(
            pl.col("court_case_number").n_unique().alias("_numbers"),
            pl.col("court_case_number").first().alias("_number"),
        )
        .filter(pl.col("_numbers") == 1)
        .drop("_numbers")
    )
    if known.height == 0:
        return counts
    found = blank.join(known, on=_STEP, how="left", maintain_order="left")["_number"]
    return counts.with_columns(number.scatter(index, found))
