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
relief_group                 dismiss-seal, redesignate, recall-resentence, policy-dismiss-pc1385
                             or related-dismiss-pc1385
exhibit_row                  the row's number in the order's Exhibit A (and Exhibit B)
court_case_number            court case number (never empty: a count without one is in no order)
count_id                     DOJ count number (CNT_ORDER, 12 digits: cycle, step, count, 000)
cii_number                   the person's state identification (CII) number
subject_id                   the person's DOJ SUBJECT_ID
name                         LAST,FIRST M as in the DOJ record
dob                          date of birth
conviction_date              date of the conviction (court disposition)
code_section                 the section of conviction, e.g. HS 11359(b), PC 664/HS 11359
old_level                    felony, misdemeanor, infraction or unknown before the order
relief                       the relief granted, as worded in Exhibit A
new_level_or_disposition     DISMISSED_AND_SEALED, DISMISSED (a sentence dismissed as legally
                             invalid, or a dismissal under PC 1385), MISDEMEANOR or INFRACTION
authority                    the authority of the order: HS 11361.8(e)-(f) | HS 11361.8(e)-(f),
                             (h) | HS 11361.8(a)-(d) | PC 1385; HS 11361.8(a)-(b) | PC 1385
sealed                       yes when the order seals the conviction (dismiss-seal only)
order_date                   the date the judge signed the order (`--order-date`; empty until
                             then, for the clerk to fill)
source                       the DOJ file and line the count was read from
============================ ==================================================================

The file identifies people: it is data for the court's system, not a public filing. Counts the
People challenge, counts still under review, counts held for a court case number and the
notices of non-opposition (the court acts on each person's petition) are not in it: no order
changes them. HS 11590 registration was repealed in 2020; the file carries no column for it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from clearance.outputs.filings.exhibit import group_rows, relief_text
from clearance.outputs.filings.groups import GROUP_BY_KEY, ORDER_GROUPS

COURT_UPDATE_COLUMNS = (
    "court", "county", "order_file", "relief_group", "exhibit_row", "court_case_number",
    "count_id", "cii_number", "subject_id", "name", "dob", "conviction_date", "code_section",
    "old_level", "relief", "new_level_or_disposition", "authority", "sealed", "order_date",
    "source",
)  # fmt: skip


def _disposition() -> pl.Expr:
    group = pl.col("relief_group")
    level = pl.col("statute_level")
    return (
        pl.when(group == "dismiss-seal")
        .then(pl.lit("DISMISSED_AND_SEALED"))
        .when(group.str.ends_with("pc1385") | (level == "dismiss"))
        .then(pl.lit("DISMISSED"))
        .otherwise(level.fill_null("misdemeanor").str.to_uppercase())
    )


def court_update_frame(
    classified: pl.DataFrame,
    court: str,
    court_name: str,
    order_files: dict[str, str],
    order_date: date | None,
) -> pl.DataFrame:
    """The rows of the court update file for one court, in the exhibits' order.

    `order_files` maps a relief group key to the stem of its order file."""
    parts = [
        group_rows(classified, group.key, court).with_columns(
            pl.lit(group.key).alias("relief_group")
        )
        for group in ORDER_GROUPS
    ]
    frame = pl.concat(parts, how="vertical")
    authority = {key: group.authority for key, group in GROUP_BY_KEY.items()}
    return frame.select(
        pl.lit(court_name).alias("court"),
        pl.col("county"),
        pl.col("relief_group").replace_strict(order_files, default=None).alias("order_file"),
        pl.col("relief_group"),
        pl.col("row").alias("exhibit_row"),
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
        pl.col("relief_group").replace_strict(authority, default=None).alias("authority"),
        pl.when(pl.col("relief_group") == "dismiss-seal")
        .then(pl.lit("yes"))
        .otherwise(pl.lit("no"))
        .alias("sealed"),
        pl.lit(order_date.isoformat() if order_date else None, dtype=pl.String).alias("order_date"),
        "source",
    )


def write_court_update(frame: pl.DataFrame, path: Path) -> int:
    """Write the file; returns the rows written."""
    frame.select(COURT_UPDATE_COLUMNS).write_csv(path)
    return frame.height
