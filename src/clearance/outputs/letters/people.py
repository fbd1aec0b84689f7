"""Who gets a letter, for which convictions, and where it is sent.

A letter tells a person what a court changed. So it names exactly the person's convictions an
order relieves (the rows of the court update file: dismiss and seal, redesignate, recall and
resentence, dismissal under PC 1385), and, when a reconciliation is given, only those the newer
state record shows changed (`reflected`). Nothing else is named: not a conviction still in
review, held for a case number, only noticed (the court acts on the person's own petition), or
not filed.

No letter is written for a person recorded as deceased (a DECEASED step in the record), nor for
a person left with no conviction to name. The DOJ file carries no address: an optional address
CSV, matched by SUBJECT_ID or else by CII number, fills the envelope block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from clearance.outputs.filings.data import RunData
from clearance.outputs.named_csv import read_named_csv
from clearance.outputs.reconcile import relieved_convictions
from clearance.outputs.run import RECORD_DIR

ADDRESS_COLUMNS = ("address_line1", "address_line2", "city", "state", "zip")
_ALIASES = {
    "subject_id": ("subjectid", "subject"),
    "cii_number": ("ciinumber", "cii"),
    "address_line1": ("addressline1", "address1", "address", "street"),
    "address_line2": ("addressline2", "address2", "unit"),
    "city": ("city",),
    "state": ("state",),
    "zip": ("zip", "zipcode", "postalcode"),
    "language": ("language", "lang"),
}
UNMATCHED_COLUMNS = ("source_file", "source_line", "reason")


class LettersError(Exception):
    """Input the user has to fix; one line, without personal data."""


def change_kind() -> pl.Expr:
    """The kind of change of a conviction, from its order group (templates word each)."""
    group = pl.col("order_group")
    dismissed = pl.col("statute_level") == "dismiss"
    return (
        pl.when(group == "dismiss-seal")
        .then(pl.lit("dismissed_sealed"))
        .when(group == "redesignate")
        .then(pl.lit("reduced"))
        .when((group == "recall-resentence") & dismissed)
        .then(pl.lit("recall_dismissed"))
        .when(group == "recall-resentence")
        .then(pl.lit("recall_reduced"))
        .when(group.str.ends_with("pc1385"))
        .then(pl.lit("dismissed_pc1385"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def display_name(raw: str | None) -> str:
    """'MITCHELL,SCOTT K' -> 'Scott K Mitchell' (the DOJ's LAST,FIRST M)."""
    if not raw:
        return ""
    last, _, rest = raw.partition(",")
    words = f"{rest} {last}".split() if rest else last.split()
    return " ".join(w.capitalize() if w.isupper() or w.islower() else w for w in words)


@dataclass(frozen=True)
class Recipients:
    """The convictions to name, one row each, and who was left out and why."""

    convictions: pl.DataFrame
    deceased: int
    nothing_to_name: int


def recipients(run: RunData, reconciled: Path | None) -> Recipients:
    """The convictions each letter names (see the module), people in SUBJECT_ID order."""
    relieved = relieved_convictions(run)
    ordered = relieved.filter(pl.col("order_group").is_not_null()).with_columns(
        change_kind().alias("change"),
        pl.when(pl.col("statute_level").is_in(["misdemeanor", "infraction"]))
        .then(pl.col("statute_level"))
        .alias("new_level_ordered"),
    )
    if reconciled is not None:
        path = reconciled / "reconcile.csv" if reconciled.is_dir() else reconciled
        if not path.is_file():
            raise LettersError(f"{reconciled}: no reconcile.csv (run `clearance reconcile` first)")
        states = pl.read_csv(path, infer_schema=False, columns=["subject_id", "count_id", "status"])
        ordered = ordered.join(
            states.filter(pl.col("status") == "reflected").select("subject_id", "count_id"),
            on=["subject_id", "count_id"],
            how="semi",
        )
    subjects = run.run_dir / RECORD_DIR / "subjects.parquet"
    dead: set[str] = set()
    if subjects.is_file():
        frame = pl.read_parquet(subjects, columns=["subject_id", "deceased"])
        dead = set(frame.filter(pl.col("deceased").fill_null(False))["subject_id"].to_list())
    people = set(relieved["subject_id"].to_list())
    named = set(ordered["subject_id"].to_list())
    deceased = len(named & dead)
    kept = ordered.filter(~pl.col("subject_id").is_in(sorted(dead)))
    return Recipients(
        convictions=kept.sort(
            ["subject_id", "conviction_date", "court_case_number", "count_id"], nulls_last=True
        ),
        deceased=deceased,
        nothing_to_name=len(people - named - dead),
    )


@dataclass(frozen=True)
class Addresses:
    """Address rows matched to people (subject_id -> address fields), and the rest."""

    by_subject: dict[str, dict[str, str]]
    unmatched: pl.DataFrame
    rows_read: int


def read_addresses(path: Path, people: pl.DataFrame) -> Addresses:
    """Read the address CSV; match each row by SUBJECT_ID, else by CII number.

    `people` has subject_id and cii_number of the letters' recipients. Rows that match nobody,
    or carry no key, are returned in `unmatched` with their line and reason (never their
    content: it identifies a person)."""
    frame = read_named_csv(path, _ALIASES, LettersError)
    if "subject_id" not in frame.columns and "cii_number" not in frame.columns:
        raise LettersError(f"{path.name}: no SUBJECT_ID or CII column to match people by")
    if "address_line1" not in frame.columns:
        raise LettersError(f"{path.name}: no address column (address_line1, address or street)")
    for column in ("subject_id", "cii_number", *ADDRESS_COLUMNS, "language"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    frame = frame.with_columns(
        pl.col(c).str.strip_chars() for c in ("subject_id", "cii_number", *ADDRESS_COLUMNS)
    ).with_row_index("source_line", offset=2)
    by_cii = people.select("subject_id", pl.col("cii_number").alias("_cii")).unique("_cii")
    known = set(people["subject_id"].to_list())
    frame = frame.join(by_cii, left_on="cii_number", right_on="_cii", how="left", suffix="_cii")
    matched_id = (
        pl.when(pl.col("subject_id").is_in(sorted(known)))
        .then(pl.col("subject_id"))
        .otherwise(pl.col("subject_id_cii"))
    )
    frame = frame.with_columns(matched_id.alias("_matched"))
    reason = (
        pl.when(pl.col("subject_id").is_null() & pl.col("cii_number").is_null())
        .then(pl.lit("no SUBJECT_ID or CII number"))
        .when(pl.col("address_line1").fill_null("") == "")
        .then(pl.lit("no address"))
        .when(pl.col("_matched").is_null())
        .then(pl.lit("nobody with a letter has this SUBJECT_ID or CII number"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    frame = frame.with_columns(reason.alias("reason"))
    # Of several usable rows for one person, the last is used.
    usable = pl.col("reason").is_null()
    last = pl.col("source_line").filter(usable).max().over("_matched")
    frame = frame.with_columns(
        pl.when(usable & (pl.col("source_line") != last))
        .then(pl.lit("another row for the same person follows (the last one is used)"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    good = frame.filter(pl.col("reason").is_null())
    by_subject = {
        row["_matched"]: {c: row[c] or "" for c in (*ADDRESS_COLUMNS, "language")}
        for row in good.to_dicts()
    }
    unmatched = (
        frame.filter(pl.col("reason").is_not_null())
        .with_columns(pl.lit(path.name).alias("source_file"))
        .select(UNMATCHED_COLUMNS)
    )
    return Addresses(by_subject=by_subject, unmatched=unmatched, rows_read=frame.height)
