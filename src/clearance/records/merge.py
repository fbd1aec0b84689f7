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
conviction date) is one conviction: it is decided once, on the first source's row, and
`sources` lists both. Counts only one source has are kept, marked with their source, so the
summary can count the cases found only in the court's records.
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
    subjects = pl.concat([p.subjects for p in parts]).unique("subject_id", keep="first",
                                                                maintain_order=True)  # fmt: skip
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
