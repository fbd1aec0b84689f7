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
    )


def people_in_county(records: Records, county: str) -> pl.Series:
    """Everyone with any count in `county`: whoever a county's run can decide, under any
    policy (the engine's scope and the related charges are the county's counts)."""
    counts = records.counts
    return counts["subject_id"].filter(counts["county"] == county).unique()
