"""The records of some people only: a partition of the record by person.

Every table of the canonical record is keyed by `subject_id`, and a person's decisions read
only their own rows, so deciding the records of a set of people gives, for them, what deciding
the whole record gives.
"""

from __future__ import annotations

import polars as pl

from clearance.records.doj import Records


def narrow(records: Records, people: pl.Series) -> Records:
    """`records` restricted to `people` (subject ids), in the same order. The quarantine and
    the file accounting are about the input, not about people: they are kept whole."""
    wanted = people.unique().implode()
    return Records(
        subjects=records.subjects.filter(pl.col("subject_id").is_in(wanted)),
        counts=records.counts.filter(pl.col("subject_id").is_in(wanted)),
        quarantine=records.quarantine,
        files=records.files,
        merged_duplicate_counts=records.merged_duplicate_counts,
        lines_elsewhere=records.lines_elsewhere,
    )


def people_in_county(records: Records, county: str) -> pl.Series:
    """Everyone with any count in `county`: whoever a county's run can decide, under any
    policy (the engine's scope and the related charges are the county's counts)."""
    counts = records.counts
    return counts["subject_id"].filter(counts["county"] == county).unique()


def concerned_convictions(records: Records) -> pl.DataFrame:
    """(subject_id, county) of every court conviction the engine's scope could concern, in any
    county: a cannabis section, PC 182 / 4573.6 / 32 (conspiracy, prison, accessory) or a
    former cannabis section. The people named are everyone a run in any county can decide
    (related charges follow a cannabis conviction of the same person), so narrowing a whole
    repository to them changes no decision."""
    from clearance.law.lists import FORMER_CANNABIS_SECTIONS
    from clearance.records.offenses import is_cannabis

    former, _ = FORMER_CANNABIS_SECTIONS.match(
        pl.col("code"), pl.col("section"), pl.col("subsection")
    )
    concerned = (
        is_cannabis(pl.col("code"), pl.col("section"))
        | ((pl.col("code") == "PC") & pl.col("section").is_in(["182", "4573.6", "32"]))
        | former
    )
    # A conviction set aside under PC 1203.4 is decided too (the engine's scope).
    convicted = pl.col("disposition").is_in(["convicted", "set_aside"]) & (
        pl.col("step_type") == "court"
    )
    return (
        records.counts.select(
            "subject_id", "county", "code", "section", "subsection", "disposition", "step_type"
        )
        .filter((convicted & concerned).fill_null(False))
        .select("subject_id", pl.col("county").cast(pl.String))
        .unique()
        .sort("subject_id", "county", nulls_last=True)
    )
