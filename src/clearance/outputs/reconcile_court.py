"""A court's response file, reconciled like a newer DOJ file.

Courts report what they did with a bulk order as a list of case numbers and the action taken.
The file is a CSV (UTF-8 or Latin-1, header row) with these columns, names matched without
regard to case, spaces or underscores:

- `court_case_number` (also `case_number`, `case`): required;
- `action` (also `action_taken`, `disposition`): required, in words (below);
- `count` (also `count_id`): optional; the count number in the case (`2`) or the DOJ CNT_ORDER
  (12 digits). Without it the action applies to every relieved count of the case;
- `action_date` (also `date`): optional, kept in the note.

Actions understood (first that matches, case-insensitive): `denied` / `deny` (relief refused:
contradicting); `1203.4` / `set aside` (a dismissal on petition); `infraction`; `misdemeanor`
(a reduction or redesignation to that level); `dismiss` / `seal` (dismissed, and sealed);
`pending`, `continued`, `no action`, `not processed` (nothing yet: pending). Anything else is
set aside in `unmatched.csv` with its line and reason, as are rows with no case number and rows
whose case has no relieved conviction in the run: rows read = matched + unmatched, always.
A relieved conviction the response does not mention is pending ("no action reported").
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from clearance.outputs.named_csv import read_named_csv
from clearance.outputs.reconcile import NewerState, ReconcileError

_ALIASES = {
    "court_case_number": ("courtcasenumber", "casenumber", "case", "caseno", "casenum"),
    "action": ("action", "actiontaken", "disposition"),
    "count": ("count", "countid", "countnumber", "cntorder"),
    "action_date": ("actiondate", "date"),
}
UNMATCHED_COLUMNS = ("source_file", "source_line", "reason", "court_case_number", "action")


def normalise_case(expr: pl.Expr) -> pl.Expr:
    """Case numbers compared without case, spaces or leading/trailing punctuation."""
    return expr.cast(pl.String).str.to_uppercase().str.replace_all(r"\s+", "").str.strip_chars("-")


def _action_state() -> tuple[pl.Expr, pl.Expr]:
    """(disposition, level) in the reconciliation's words from the action text."""
    a = pl.col("action").fill_null("").str.to_lowercase().str.strip_chars()
    disposition = (
        pl.when(a.str.contains(r"\bden(y|ied|ial)\b"))
        .then(pl.lit("denied"))
        .when(a.str.contains("1203.4", literal=True) | a.str.contains("set aside"))
        .then(pl.lit("set_aside"))
        .when(a.str.contains("infraction") | a.str.contains("misdemeanor"))
        .then(pl.lit("convicted"))
        .when(a.str.contains("dismiss") | a.str.contains("seal"))
        .then(pl.lit("dismissed"))
        .when(
            a.str.contains(r"^(pending|continued|no action|not processed|none)?$")
            | a.str.contains("pending")
        )
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    level = (
        pl.when(a.str.contains("infraction"))
        .then(pl.lit("infraction"))
        .when(a.str.contains("misdemeanor"))
        .then(pl.lit("misdemeanor"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return disposition, level


def _read(path: Path) -> pl.DataFrame:
    frame = read_named_csv(path, _ALIASES, ReconcileError)
    missing = [c for c in ("court_case_number", "action") if c not in frame.columns]
    if missing:
        raise ReconcileError(
            f"{path.name}: no {' or '.join(missing)} column (see docs/reconcile.md for the columns)"
        )
    for optional in ("count", "action_date"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    # Physical line of each row: the header is line 1 (quoted newlines inside a field are rare
    # in such files and would shift the numbers; they are not expected here).
    return frame.with_row_index("source_line", offset=2).with_columns(
        pl.col("source_line").cast(pl.Int64)
    )


def read_court_response(relieved: pl.DataFrame, path: Path) -> NewerState:
    """Each relieved conviction's state in a court's response file."""
    frame = _read(path)
    disposition, level = _action_state()
    frame = frame.with_columns(
        normalise_case(pl.col("court_case_number")).alias("_case"),
        disposition.alias("now_disposition"),
        level.alias("now_level"),
        pl.col("count").str.strip_chars().alias("_count"),
    )
    reason = (
        pl.when(pl.col("_case").fill_null("") == "")
        .then(pl.lit("no court case number"))
        .when(pl.col("now_disposition").is_null())
        .then(pl.lit("action not understood"))
        .when(
            pl.col("_count").is_not_null() & ~pl.col("_count").str.contains(r"^(\d{1,3}|\d{12})$")
        )
        .then(pl.lit("count is neither a count number nor a 12-digit CNT_ORDER"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    frame = frame.with_columns(reason.alias("reason"))
    keys = relieved.select(
        "subject_id",
        "count_id",
        normalise_case(pl.col("court_case_number")).alias("_case"),
        pl.col("count_id").str.slice(6, 3).cast(pl.Int64).alias("_count_no"),
    ).filter(pl.col("_case").is_not_null())
    good = frame.filter(pl.col("reason").is_null()).with_columns(
        pl.when(pl.col("_count").str.len_chars() == 12).then(pl.col("_count")).alias("_count_id"),
        pl.when(pl.col("_count").str.len_chars() <= 3)
        .then(pl.col("_count").cast(pl.Int64, strict=False))
        .alias("_count_n"),
    )
    matched = good.join(keys, on="_case", how="inner").filter(
        pl.col("_count").is_null()
        | (pl.col("_count_id") == pl.col("count_id"))
        | (pl.col("_count_n") == pl.col("_count_no"))
    )
    # A count-level row speaks for its count over a case-level row; then the last line wins.
    best = (
        matched.with_columns(pl.col("_count").is_not_null().alias("_specific"))
        .sort(["_specific", "source_line"])
        .group_by(["subject_id", "count_id"])
        .last()
    )
    states = best.select(
        "subject_id",
        "count_id",
        pl.lit(None, dtype=pl.String).alias("now_count_id"),
        "now_disposition",
        "now_level",
        (pl.lit(f"{path.name}:") + pl.col("source_line").cast(pl.String)).alias("now_source"),
        pl.lit(True).alias("present"),
    )
    used = matched.select("source_line").unique()
    no_match = good.join(used, on="source_line", how="anti").with_columns(
        pl.lit("no relieved conviction of the run has this case (and count)").alias("reason")
    )
    unmatched = (
        pl.concat([frame.filter(pl.col("reason").is_not_null()), no_match], how="diagonal_relaxed")
        .with_columns(pl.lit(path.name).alias("source_file"))
        .sort("source_line")
        .select(UNMATCHED_COLUMNS)
    )
    description = {
        "kind": "court",
        "files": [path.name],
        "rows_read": frame.height,
        "rows_matched": frame.height - unmatched.height,
        "rows_unmatched": unmatched.height,
    }
    return NewerState(frame=states, kind="court", description=description, unmatched=unmatched)
