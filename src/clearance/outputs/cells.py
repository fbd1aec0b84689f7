"""Cells a spreadsheet would run as a formula, made harmless in the files people open.

A name like `=HYPERLINK("http://…","click")` in the data becomes a live formula when a CSV is
opened in Excel or LibreOffice, and `+`, `-`, `@`, tab and carriage return start formulas too
(CSV injection). The data is untrusted, so every file meant to be opened in a spreadsheet
writes such text cells with a leading apostrophe, which spreadsheets show as text:

- for people (escaped): convictions.csv, people.csv and quarantine.csv of a run and of its
  reviewed copy, and the filings' review lists, needs-case-number and not-filed lists (their
  key columns subject_id, count_id and court_case_number excepted: they are read back);
  review.xlsx writes every text cell as a text cell with Excel's quote prefix, never a formula;
- for programs (exact, never escaped): results.csv (the DOJ bulk file with the decisions
  appended, byte-exact to its input), the court update file (imported by the court's case
  system, which must receive the names as they are) and every Parquet and JSON file. Open
  these in a spreadsheet only through an import that reads every column as text.

Only text columns are touched, vectorised (no per-row Python). The store reads people.csv back
with `unescape_text`, so a run loaded into the database keeps the names exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What is put in front of such a cell.
QUOTE = "'"
#: Identifier columns of a run's CSVs kept exact (programs match rows on them).
KEYS = ("subject_id", "count_id")


def starts_like_formula(column: str) -> pl.Expr:
    """True where the text column starts like a formula (null stays False)."""
    return pl.any_horizontal(
        [pl.col(column).str.starts_with(start) for start in FORMULA_STARTS]
    ).fill_null(False)


def spreadsheet_safe(frame: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """The frame with every text cell that starts like a formula prefixed by an apostrophe;
    `keep` columns are left exact (keys a program reads back)."""
    kept = set(keep)
    columns = [c for c, t in frame.schema.items() if t == pl.String and c not in kept]
    if not columns:
        return frame
    return frame.with_columns(
        pl.when(starts_like_formula(c))
        .then(pl.lit(QUOTE) + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in columns
    )


def unescape_text(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """Undo `spreadsheet_safe` on the named text columns (a file read back into the store)."""
    present = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
    exprs = []
    for c in present:
        escaped = pl.col(c).str.starts_with(QUOTE) & pl.any_horizontal(
            [pl.col(c).str.slice(1).str.starts_with(s) for s in FORMULA_STARTS]
        )
        exprs.append(
            pl.when(escaped.fill_null(False))
            .then(pl.col(c).str.slice(1))
            .otherwise(pl.col(c))
            .alias(c)
        )
    return frame.with_columns(exprs) if exprs else frame


def write_people_csv(frame: pl.DataFrame, path: Path, keep: Iterable[str] = ()) -> None:
    """Write a CSV meant to be opened by people, formula-like cells neutralised."""
    spreadsheet_safe(frame, keep).write_csv(path)
