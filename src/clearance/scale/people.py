"""The records of some people only: a partition of the record by person.

Every table of the canonical record is keyed by `subject_id`, and a person's decisions read
only their own rows, so deciding the records of a set of people gives, for them, what deciding
the whole record gives. Narrowing a record before deciding (DOJ's step over its whole
repository) therefore changes no decision only when the set holds everyone the run can decide,
with all of their rows: `decidable` names them, for the policies that reach beyond the
cannabis convictions too.
"""

from __future__ import annotations

import polars as pl

from clearance.policy.schema import Policy
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
    county, under any policy: a cannabis section, PC 182 / 4573.6 / 32 (conspiracy, prison,
    accessory) or a former cannabis section. Not everyone a run can decide: a policy's related
    charges and the county flows reach further (`decidable`, what a repository is narrowed
    to)."""
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


def decidable(records: Records, policy: Policy) -> pl.DataFrame:
    """(subject_id, county, in_scope) of everyone a run of `policy` (or of a summary's
    what-ifs) in `county` can give a row: the people a whole repository is narrowed to before
    deciding (`narrow` keeps all their rows), and each one's counties (the files DOJ sends each
    District Attorney). `in_scope`: the person has a conviction there in the scope of the
    policy's run (`engine.convictions_in_scope`); a county where nobody has one has no run.

    A run decides more than the convictions in the engine's scope (`concerned_convictions`):

    - a policy's related charges to review (`related_charges.review`, any section a policy
      lists) and San Francisco's possible plea bargains are convictions in an arrest cycle
      with a HS 11357-11360 charge of *any* disposition (a dismissed one too), whose person
      may have no cannabis conviction at all: every conviction, of any offense and at any
      step, in a cycle with such a charge is named, in its own county;
    - San Joaquin's and Contra Costa's flows decide every conviction whose offense text their
      related-charge pattern matches (`county_flows.RELATED`, letter case as written), with or
      without a cannabis charge anywhere in the record: under those flows every such
      conviction is named, in its own county.

    Which people a flow then decides, and how it reads their whole record (patterns anywhere
    in the text, any conviction of any offense in any county), needs nothing more: every row
    of each person named is kept. Narrowing to fewer people would drop decisions the local
    engine makes on the same input."""
    from clearance.county_flows import RELATED, RELATED_BY_TEXT, SECTION
    from clearance.engine import convictions_in_scope
    from clearance.frames import by_value
    from clearance.records.offenses import is_cannabis

    counts = records.counts
    convicted = (counts["disposition"] == "convicted").fill_null(False)
    named = [
        concerned_convictions(records).with_columns(pl.lit(False).alias("in_scope")),
        convictions_in_scope(records, policy).with_columns(pl.lit(True).alias("in_scope")),
    ]
    cannabis = counts.select(is_cannabis(pl.col("code"), pl.col("section"))).to_series()
    cycle = pl.col("cycle_id").cast(pl.String)
    cycles = counts.select("subject_id", cycle).filter(cannabis).unique()
    named.append(
        counts.select("subject_id", cycle, "county")
        .filter(convicted)
        .join(cycles, on=["subject_id", "cycle_id"], how="semi")
        .select("subject_id", pl.col("county").cast(pl.String), pl.lit(False).alias("in_scope"))
    )
    if policy.flow in RELATED_BY_TEXT:
        found = by_value(
            counts.select("subject_id", "county", "offense_raw").filter(convicted),
            ["offense_raw"],
            _related=SECTION.str.contains(RELATED),
        )
        named.append(
            found.filter("_related").select(
                "subject_id", pl.col("county").cast(pl.String), pl.lit(False).alias("in_scope")
            )
        )
    return (
        pl.concat(named, how="vertical")
        .group_by("subject_id", "county")
        .agg(pl.col("in_scope").any())
        .sort("subject_id", "county", nulls_last=True)
    )
