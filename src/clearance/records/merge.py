"""One person across sources: the DOJ file, court exports and RAP sheets, merged conservatively.

Los Angeles found tens of thousands of eligible convictions in the court's own records that the
state's file did not carry, and a legal-aid client's RAP sheet may hold cases the county's file
lacks. Reading several sources is only useful if the same person and the same conviction are
recognised across them, and a wrong merge is worse than none: it hangs one person's priors on
another. So the rule is written down and strict:

1. **Same CII number** (the state's identifier): the same person, whatever the names say.
2. **No CII on one side:** the same person only when the date of birth is equal and the name is
   equal once normalised (upper case, punctuation and extra spaces removed, `LAST, FIRST`
   compared on last name and first name; a middle name or initial may be missing on one side
   but may not differ).
3. Anything weaker (same name and a different or missing date of birth; same date of birth and
   a last name that matches with a different first name; two CIIs that differ for names that
   match) is **doubtful**: listed for review in `matches` with the reason, never merged.

A conviction found in two sources (same person, same court case number, same section, same
conviction date; a case number missing on one side: same section and date) is one
conviction: it is decided once, on the first source's row, and `shared` lists the other copy.
Counts only one source has are kept, marked with their source, so the summary can count the
cases found only in the court's records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from clearance.records import schema
from clearance.records.canonical import EVENTS_SCHEMA, NOTES_SCHEMA, SourceRecords
from clearance.records.doj import Records

#: How a person of a later source was matched to one of the first: the columns of `matches`.
MATCH_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "matched_subject_id": pl.String(),
    "source": pl.String(),
    "rule": pl.String(),
    "merged": pl.Boolean(),
    "reason": pl.String(),
}


def combine(parts: Sequence[SourceRecords]) -> SourceRecords:
    """Tables of one source kind read from several files, put together (no matching: each file
    is its own people, and a person read twice keeps the first reading)."""
    if not parts:
        return SourceRecords(
            subjects=schema.empty(schema.SUBJECTS_SCHEMA),
            counts=schema.empty(schema.COUNTS_SCHEMA),
            quarantine=schema.empty(schema.QUARANTINE_SCHEMA),
            files=[],
        )
    if len(parts) == 1:
        return parts[0]
    subjects = pl.concat([p.subjects for p in parts]).unique(
        "subject_id", keep="first", maintain_order=True
    )
    counts = pl.concat([p.counts for p in parts])
    merged = counts.unique(["subject_id", "count_id"], keep="first", maintain_order=True)
    return SourceRecords(
        subjects=subjects,
        counts=merged,
        quarantine=pl.concat([p.quarantine for p in parts]),
        files=[f for p in parts for f in p.files],
        events=pl.concat([p.events for p in parts]),
        notes=pl.concat([p.notes for p in parts]),
        source_format=parts[0].source_format,
    )


def normal_name(name: str | None) -> tuple[str, str, str] | None:
    """(last, first, rest) of a `LAST, FIRST M` name, upper case without punctuation."""
    if not name or not name.strip():
        return None
    text = re.sub(r"[^A-Z, ]", "", name.upper().replace("-", " "))
    if "," in text:
        last, _, given = text.partition(",")
    else:
        words = text.split()
        last, given = (words[-1], " ".join(words[:-1])) if len(words) > 1 else (text, "")
    given_words = given.split()
    return (
        " ".join(last.split()),
        given_words[0] if given_words else "",
        " ".join(given_words[1:]),
    )


@dataclass(frozen=True)
class MatchResult:
    """The merged records and how each later-source person was matched."""

    records: Records
    matches: pl.DataFrame


def _names_agree(a: tuple[str, str, str] | None, b: tuple[str, str, str] | None) -> bool:
    if a is None or b is None:
        return False
    if a[0] != b[0] or a[1] != b[1]:
        return False
    # A middle name or initial missing on one side is no disagreement; two that differ are.
    return not (a[2] and b[2] and a[2][0] != b[2][0])


def _cii(value: str | None) -> str | None:
    text = re.sub(r"[^0-9A-Z]", "", (value or "").upper())
    return text or None


def _case(value: str | None) -> str | None:
    text = re.sub(r"[^0-9A-Z]", "", (value or "").upper())
    return text or None


def match_people(base: pl.DataFrame, other: pl.DataFrame, source: str) -> pl.DataFrame:
    """How each person of `other` relates to the people of `base` (see the module docstring):
    one row per person of `other` (`MATCH_SCHEMA`). `matched_subject_id` is set for merges and
    for doubtful matches (the person it was not merged with, for review)."""
    by_cii: dict[str, list[str]] = {}
    by_dob: dict[object, list[tuple[str, tuple[str, str, str] | None, str | None]]] = {}
    by_name: dict[tuple[str, str], list[str]] = {}
    for row in base.iter_rows(named=True):
        cii = _cii(row["cii_number"])
        name = normal_name(row["name"])
        if cii:
            by_cii.setdefault(cii, []).append(row["subject_id"])
        if row["dob"] is not None:
            by_dob.setdefault(row["dob"], []).append((row["subject_id"], name, cii))
        if name:
            by_name.setdefault(name[:2], []).append(row["subject_id"])
    out: list[dict[str, object]] = []
    for row in other.iter_rows(named=True):
        cii = _cii(row["cii_number"])
        name = normal_name(row["name"])

        def result(
            matched: str | None,
            rule: str,
            merged: bool,
            reason: str,
            row: dict[str, object] = row,
        ) -> dict[str, object]:
            return {
                "subject_id": row["subject_id"],
                "matched_subject_id": matched,
                "source": source,
                "rule": rule,
                "merged": merged,
                "reason": reason,
            }

        if cii and len(by_cii.get(cii, [])) == 1:
            out.append(result(by_cii[cii][0], "cii", True, "same CII number"))
            continue
        if cii and len(by_cii.get(cii, [])) > 1:
            out.append(
                result(by_cii[cii][0], "doubtful", False, "CII number held by several people")
            )
            continue
        same = [
            (subject, their_cii)
            for subject, their_name, their_cii in by_dob.get(row["dob"], [])
            if row["dob"] is not None and _names_agree(name, their_name)
        ]
        clean = [s for s, their_cii in same if not (cii and their_cii and their_cii != cii)]
        if len(clean) == 1 and len(same) == 1:
            out.append(result(clean[0], "name_dob", True, "same name and date of birth"))
        elif same:
            reason = (
                "same name and date of birth, different CII numbers"
                if len(clean) < len(same)
                else "several people with this name and date of birth"
            )
            out.append(result(same[0][0], "doubtful", False, reason))
        elif name and by_name.get(name[:2]):
            out.append(
                result(
                    by_name[name[:2]][0],
                    "doubtful",
                    False,
                    "same name, different or missing date of birth",
                )
            )
        else:
            out.append(result(None, "new", False, "no one with this CII or name and birth date"))
    return pl.DataFrame(out, schema=MATCH_SCHEMA)


def merge_sources(
    base: Records, others: Sequence[tuple[str, Records]]
) -> tuple[Records, pl.DataFrame, pl.DataFrame]:
    """The records of `base` (the DOJ file, or the first source) with each other source's
    people merged in by `match_people`, and their counts added.

    Returns (records, matches, shared): `matches` lists every person of the other sources and
    how they were matched; `shared` lists the convictions found in two sources (same person,
    same case number, section and conviction date), kept once on `base`'s row, with the other
    source's file and line. Counts added from another source get their own cycle numbers after
    the person's own, so count ids never collide.
    """
    subjects = base.subjects
    counts = base.counts
    quarantine = [base.quarantine]
    files = list(base.files)
    events = [getattr(base, "events", pl.DataFrame(schema=EVENTS_SCHEMA))]
    notes = [getattr(base, "notes", pl.DataFrame(schema=NOTES_SCHEMA))]
    all_matches = [pl.DataFrame(schema=MATCH_SCHEMA)]
    shared: list[pl.DataFrame] = []
    for kind, other in others:
        matches = match_people(subjects, other.subjects, kind)
        all_matches.append(matches)
        to = dict(
            zip(
                matches.filter("merged")["subject_id"].to_list(),
                matches.filter("merged")["matched_subject_id"].to_list(),
                strict=True,
            )
        )
        added = other.counts.with_columns(
            pl.col("subject_id").replace(to).alias("subject_id"),
            pl.col("subject_id").is_in(list(to)).alias("_merged"),
        )
        added, duplicates = _drop_shared(counts, added)
        shared.append(duplicates)
        added = _renumber(counts, added)
        new_people = other.subjects.filter(~pl.col("subject_id").is_in(list(to)))
        subjects = pl.concat([subjects, new_people], how="vertical")
        counts = pl.concat([counts, added.drop("_merged")], how="vertical")
        quarantine.append(other.quarantine)
        files.extend(other.files)
        events.append(
            getattr(other, "events", pl.DataFrame(schema=EVENTS_SCHEMA)).with_columns(
                pl.col("subject_id").replace(to)
            )
        )
        notes.append(getattr(other, "notes", pl.DataFrame(schema=NOTES_SCHEMA)))
    merged = SourceRecords(
        subjects=subjects,
        counts=counts,
        quarantine=pl.concat(quarantine, how="vertical"),
        files=files,
        events=pl.concat(events, how="vertical"),
        notes=pl.concat(notes, how="vertical"),
        source_format="merged",
    )
    merged.merged_duplicate_counts = base.merged_duplicate_counts
    # What the DOJ files' reading found stays with the records: results.csv and the warnings.
    merged.lines_elsewhere = base.lines_elsewhere
    merged.warnings = list(base.warnings)
    shared_table = (
        pl.concat(shared, how="vertical") if shared else pl.DataFrame(schema=SHARED_SCHEMA)
    )
    return merged, pl.concat(all_matches, how="vertical"), shared_table


#: Convictions found in two sources: the kept count and where the other source has it.
SHARED_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "count_id": pl.String(),
    "also_source_file": pl.String(),
    "also_source_line": pl.Int64(),
}


def _drop_shared(base: pl.DataFrame, added: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Court convictions of merged people that `base` already has (same case number, section
    and conviction date; or, when one side has no case number, the same section and date):
    dropped from `added`, listed as also found there."""
    convicted = ["convicted", "set_aside"]
    key = ["subject_id", "_case", "section", "event_date"]

    def keyed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(
            (pl.col("step_type") == "court") & pl.col("disposition").is_in(convicted)
        ).with_columns(
            pl.col("court_case_number").map_elements(_case, return_dtype=pl.String).alias("_case"),
            pl.col("section").cast(pl.String),
        )

    mine = keyed(added.filter("_merged"))
    if mine.height == 0:
        return added, pl.DataFrame(schema=SHARED_SCHEMA)
    theirs = keyed(base.filter(pl.col("subject_id").is_in(mine["subject_id"].unique().to_list())))

    def nth(frame: pl.DataFrame, by: list[str]) -> pl.Expr:
        # Two counts of the same section on the same day pair up in count order, one to one.
        return pl.col("count_id").rank("ordinal").over(by).alias("_n")

    exact_key = [*key, "_n"]
    found = mine.select(
        *key, nth(mine, key), pl.col("count_id").alias("_added"), "source_file", "source_line"
    )
    exact = found.filter(pl.col("_case").is_not_null()).join(
        theirs.select(*key, nth(theirs, key), "count_id"),
        on=exact_key,
        how="inner",
        nulls_equal=True,
    )
    # A case number missing on one side: the same section on the same date is the same
    # conviction (counting it twice would make a prior of itself).
    loose_key = ["subject_id", "section", "event_date"]
    rest = mine.join(exact.select("subject_id", pl.col("_added").alias("count_id")),
                     on=["subject_id", "count_id"], how="anti")  # fmt: skip
    free = theirs.join(exact.select("subject_id", "count_id"), on=["subject_id", "count_id"],
                       how="anti")  # fmt: skip
    loose = (
        rest.select(
            *key,
            nth(rest, loose_key),
            pl.col("count_id").alias("_added"),
            "source_file",
            "source_line",
        )
        .join(
            free.select(
                *loose_key, nth(free, loose_key), pl.col("_case").alias("_their"), "count_id"
            ),
            on=[*loose_key, "_n"],
            how="inner",
        )
        .filter(pl.col("_case").is_null() | pl.col("_their").is_null())
        .filter(pl.col("event_date").is_not_null())
    )
    pairs = pl.concat([exact.select(loose.drop("_their").columns), loose.drop("_their")])
    duplicates = pairs.select(
        "subject_id",
        "count_id",
        pl.col("source_file").cast(pl.String).alias("also_source_file"),
        pl.col("source_line").alias("also_source_line"),
    )
    dropped = pairs.select("subject_id", pl.col("_added").alias("count_id"))
    kept = added.join(dropped, on=["subject_id", "count_id"], how="anti")
    return kept, duplicates


def _renumber(base: pl.DataFrame, added: pl.DataFrame) -> pl.DataFrame:
    """Cycle numbers of added counts moved past the person's cycles in `base`."""
    if added.height == 0:
        return added
    top = (
        base.filter(pl.col("subject_id").is_in(added["subject_id"].unique().to_list()))
        .group_by("subject_id")
        .agg(pl.col("count_id").str.slice(0, 3).cast(pl.Int32, strict=False).max().alias("_top"))
    )
    cycles = (
        added.select("subject_id", pl.col("count_id").str.slice(0, 3).alias("_old"))
        .unique(maintain_order=True)
        .join(top, on="subject_id", how="left")
        .with_columns(
            (
                pl.col("_top").fill_null(0)
                + pl.col("_old").rank("dense").over("subject_id").cast(pl.Int32)
            )
            .clip(upper_bound=999)
            .alias("_new")
        )
    )
    renumbered = added.join(
        cycles.select("subject_id", "_old", "_new"),
        left_on=["subject_id", pl.col("count_id").str.slice(0, 3)],
        right_on=["subject_id", "_old"],
        how="left",
        maintain_order="left",
    )
    new_id = pl.format(
        "{}{}", pl.col("_new").cast(pl.String).str.zfill(3), pl.col("count_id").str.slice(3)
    )
    return renumbered.with_columns(
        new_id.alias("count_id"),
        new_id.str.slice(0, 3).cast(pl.Categorical).alias("cycle_id"),
        new_id.str.slice(0, 6).cast(pl.Categorical).alias("event_id"),
    ).select(added.columns)
