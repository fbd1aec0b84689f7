"""The court update file: one CSV row per count the bulk orders relieve, for the court's case
management system (and from there the Department of Justice).

Courts that processed tens of thousands of convictions did not retype exhibits: they loaded a
data file. This is that file. It lists exactly the rows of the orders' exhibits (same words,
same order), so what the clerk loads is what the judge signed.

Columns (UTF-8, comma-separated, header row, RFC 4180 quoting; dates YYYY-MM-DD; empty = not
known):

============================ ==================================================================
court                        the court's name, as in the caption of the order
county                       county of the conviction, upper case (DOJ spelling)
order_file                   the order that grants the row: e.g. order-sacramento-dismiss-seal
relief_group                 dismiss-seal, redesignate or recall-resentence
court_case_number            court case number in the DOJ record (empty when it has none)
count_id                     DOJ count number (CNT_ORDER, 12 digits: cycle, step, count, 000)
cii_number                   the person's state identification (CII) number
subject_id                   the person's DOJ SUBJECT_ID
name                         LAST,FIRST M as in the DOJ record
dob                          date of birth
conviction_date              date of the conviction (court disposition)
code_section                 the section of conviction, e.g. HS 11359(b), PC 664/HS 11359
old_level                    felony, misdemeanor, infraction or unknown before the order
relief                       the relief granted, as worded in the exhibit ("(office policy)"
                             ends a dismissal the statute alone would not give)
new_level_or_disposition     DISMISSED_AND_SEALED, DISMISSED (a related charge), MISDEMEANOR or
                             INFRACTION
statute                      HS 11361.8(f) (sentence completed) or HS 11361.8(b) (still
                             serving), plus "; PC 1385 (county policy)" for a policy dismissal;
                             PC 1385 for a related charge dismissed under county policy
hs11590_relief               yes: the order relieves HS 11590 registration arising from the count
order_date                   the date the judge signed the order (`--order-date`; empty until
                             then, for the clerk to fill)
source                       the DOJ file and line the count was read from
============================ ==================================================================

Counts the People challenge and counts still under review are not in the file: no order
changes them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from clearance.outputs.filings.exhibit import (
    GROUPS,
    level_after,
    relief_group,
    relief_text,
    sort_for_filing,
    statute_of_relief,
)

COURT_UPDATE_COLUMNS = (
    "court", "county", "order_file", "relief_group", "court_case_number", "count_id",
    "cii_number", "subject_id", "name", "dob", "conviction_date", "code_section", "old_level",
    "relief", "new_level_or_disposition", "statute", "hs11590_relief", "order_date", "source",
)  # fmt: skip


def _disposition() -> pl.Expr:
    related = (pl.col("kind") == "related").fill_null(False)
    return (
        pl.when((pl.col("decision") == "dismiss") & related)
        .then(pl.lit("DISMISSED"))
        .when(pl.col("decision") == "dismiss")
        .then(pl.lit("DISMISSED_AND_SEALED"))
        .otherwise(level_after().str.to_uppercase())
    )


def court_update_frame(
    convictions: pl.DataFrame,
    court: str,
    court_name: str,
    order_files: dict[str, str],
    order_date: date | None,
) -> pl.DataFrame:
    """The rows of the court update file for one court, in the exhibits' order.

    `order_files` maps a relief group key to the stem of its order file.
    """
    parts = []
    for group in GROUPS:
        rows = convictions.filter((relief_group() == group.key) & (pl.col("county") == court))
        parts.append(sort_for_filing(rows).with_columns(pl.lit(group.key).alias("relief_group")))
    frame = pl.concat(parts, how="vertical")
    return frame.select(
        pl.lit(court_name).alias("court"),
        pl.col("county"),
        pl.col("relief_group").replace_strict(order_files, default=None).alias("order_file"),
        pl.col("relief_group"),
        "court_case_number",
        "count_id",
        "cii_number",
        "subject_id",
        "name",
        pl.col("dob").dt.to_string("%Y-%m-%d").alias("dob"),
        pl.col("conviction_date").dt.to_string("%Y-%m-%d").alias("conviction_date"),
        "code_section",
        pl.col("offense_level").fill_null("unknown").alias("old_level"),
        relief_text().alias("relief"),
        _disposition().alias("new_level_or_disposition"),
        statute_of_relief().alias("statute"),
        pl.lit("yes").alias("hs11590_relief"),
        pl.lit(order_date.isoformat() if order_date else None, dtype=pl.String).alias("order_date"),
        "source",
    )


def write_court_update(frame: pl.DataFrame, path: Path) -> int:
    """Write the file; returns the rows written."""
    frame.select(COURT_UPDATE_COLUMNS).write_csv(path)
    return frame.height
