"""Merging sources: people matched by CII, else by name and date of birth, doubtful matches
listed and never merged, the same conviction kept once, cases only in the court's records found
and decided."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from clearance.engine import decide
from clearance.policy.schema import statute_policy
from clearance.records import schema
from clearance.records.merge import match_people, normal_name
from clearance.records.sources import detect_format, read_sources
from clearance.synth_sources import write_court_export

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "examples" / "peer-generated-sacramento-20k.dat.gz"
MAPPING = ROOT / "examples" / "court-export-mapping.yaml"
EXPORT = ROOT / "examples" / "court-export.csv"
AS_OF = date(2026, 11, 21)


def _people(rows: list[tuple[str, str | None, str | None, date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject_id": [r[0] for r in rows],
            "cii_number": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "dob": [r[3] for r in rows],
        },
        schema={k: schema.SUBJECTS_SCHEMA[k] for k in ("subject_id", "cii_number", "name", "dob")},
    )


BASE = _people(
    [
        ("1", "A1111111", "RIVERA,ANA M", date(1980, 1, 2)),
        ("2", None, "LEE,KIM", date(1975, 6, 7)),
        ("3", "A3333333", "LEE,KIM J", date(1975, 6, 7)),
        ("4", None, "NGUYEN,BAO", date(1990, 9, 9)),
        ("5", None, "NGUYEN,BAO", date(1990, 9, 9)),
        ("6", None, "GARCIA,LUIS", date(1985, 5, 5)),
    ]
)


@pytest.mark.parametrize(
    ("person", "rule", "merged", "matched"),
    [
        # Same CII: merged whatever the name says.
        (("x", "A1111111", "RIVERA-SOTO,ANA", None), "cii", True, "1"),
        (("x", "a-1111111", "RIVERA,ANA", date(1980, 1, 2)), "cii", True, "1"),
        # No CII: same name and birth date, one candidate.
        (("x", None, "RIVERA, ANA MARIA", date(1980, 1, 2)), "name_dob", True, "1"),
        # Two people of that name and birth date: doubtful, never merged.
        (("x", None, "NGUYEN, BAO", date(1990, 9, 9)), "doubtful", False, "4"),
        # Same name and birth date, different CII numbers: doubtful.
        (("x", "A9999999", "RIVERA,ANA", date(1980, 1, 2)), "doubtful", False, "1"),
        # Middle initials that differ: not the same name.
        (("x", None, "RIVERA,ANA Q", date(1980, 1, 2)), "doubtful", False, "1"),
        # Same name, another birth date: doubtful.
        (("x", None, "RIVERA,ANA", date(1981, 1, 2)), "doubtful", False, "1"),
        # Same name, no birth date: doubtful.
        (("x", None, "RIVERA,ANA", None), "doubtful", False, "1"),
        # Nobody like them.
        (("x", None, "SMITH,JOHN", date(1970, 1, 1)), "new", False, None),
    ],
)
def test_matching_rules(
    person: tuple[str, str | None, str | None, date | None],
    rule: str,
    merged: bool,
    matched: str | None,
) -> None:
    result = match_people(BASE, _people([person]), "court").row(0, named=True)
    assert (result["rule"], result["merged"], result["matched_subject_id"]) == (
        rule,
        merged,
        matched,
    )


def test_a_cii_on_one_side_only_still_allows_name_and_birth_date() -> None:
    # Person 6 has no CII; the court's person has one: name and birth date decide.
    result = match_people(BASE, _people([("x", "A6666666", "GARCIA,LUIS", date(1985, 5, 5))]), "c")
    assert result.row(0, named=True)["rule"] == "name_dob"
    assert result.row(0, named=True)["matched_subject_id"] == "6"
    # Two people of that name and birth date, one with another CII: still doubtful.
    result = match_people(BASE, _people([("x", "A2222222", "LEE,KIM", date(1975, 6, 7))]), "c")
    assert result.row(0, named=True)["rule"] == "doubtful"


def test_names() -> None:
    assert normal_name("Rivera-Soto, Ana M.") == ("RIVERA SOTO", "ANA", "M")
    assert normal_name("ANA RIVERA") == ("RIVERA", "ANA", "")
    assert normal_name("  ") is None


def test_detection() -> None:
    assert detect_format(SAMPLE) == "doj"
    assert detect_format(EXPORT) == "court"
    assert detect_format(ROOT / "tests" / "records" / "rapsheets" / "every-event.txt") == (
        "rapsheet"
    )


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("merge")
    export = folder / "court.csv"
    truth = write_court_export(SAMPLE, export, "SACRAMENTO", seed=7, people=45)
    read = read_sources([SAMPLE, export], mapping=MAPPING)
    return truth, read, export


def test_sample_and_court_export_merge_as_the_truth_says(merged) -> None:  # type: ignore[no-untyped-def]
    truth, read, _ = merged
    rules = dict(read.matches.group_by("rule").len().iter_rows())
    assert rules.get("cii", 0) == truth.people_matched_by_cii
    assert rules.get("name_dob", 0) == truth.people_matched_by_name_dob
    assert rules.get("new", 0) == truth.new_people
    # Look-alikes (a DOJ person's name, another birth date) are listed, never merged.
    assert rules.get("doubtful", 0) == truth.lookalike_people
    assert read.matches.filter(pl.col("rule") == "doubtful")["merged"].sum() == 0
    # Every shared conviction is kept once; the court's copy cites it.
    assert read.shared.height == truth.shared_cases


def test_no_person_is_merged_wrongly(merged) -> None:  # type: ignore[no-untyped-def]
    _, read, _ = merged
    subjects = read.records.subjects
    merges = read.matches.filter("merged").join(
        subjects.select(
            pl.col("subject_id").alias("matched_subject_id"),
            pl.col("name").alias("doj_name"),
            pl.col("dob").alias("doj_dob"),
        ),
        on="matched_subject_id",
    )
    court = read_sources([merged[2]], mapping=MAPPING).records.subjects
    check = merges.join(court, on="subject_id")
    assert check.height == merges.height
    assert (check["dob"] == check["doj_dob"]).all()
    assert (check["name"] == check["doj_name"]).all()


def test_accounting_and_ids_after_the_merge(merged) -> None:  # type: ignore[no-untyped-def]
    truth, read, _ = merged
    records = read.records
    assert records.rows_read == records.rows_loaded + records.rows_quarantined
    assert records.counts.select("subject_id", "count_id").is_duplicated().sum() == 0
    court = records.counts.filter(pl.col("source_file").cast(pl.String).str.ends_with("court.csv"))
    assert court.height == truth.court_only_cases


def test_cases_only_in_the_courts_records_are_decided(merged) -> None:  # type: ignore[no-untyped-def]
    truth, read, export = merged
    decided = decide(read.records, statute_policy(), AS_OF, "SACRAMENTO").table
    only = decided.filter(pl.col("source_file").cast(pl.String) == str(export))
    # Every court-only case is a cannabis conviction in the county: each gets a decision.
    assert only.height == truth.court_only_cases
    assert only["decision"].is_in(["dismiss", "reduce", "not_eligible", "review"]).all()


def test_a_persons_rap_sheet_beside_the_doj_file_adds_no_conviction_twice(
    tmp_path: Path,
) -> None:
    from clearance.records.doj import read_doj
    from clearance.synth import write_synthetic
    from clearance.synth_sources import render_rapsheets

    doj = tmp_path / "county.dat"
    write_synthetic(doj, rows=400, seed=3, malformed_share=0)
    sheets = render_rapsheets(doj, tmp_path / "sheets")
    records = read_doj([doj])
    convicted = records.counts.filter(
        (pl.col("step_type") == "court") & pl.col("disposition").is_in(["convicted", "set_aside"])
    )
    person = convicted["subject_id"].value_counts(sort=True)["subject_id"][0]
    sheet = next(p for p in sheets if p.stem.endswith(person))
    # The clinic's copy of the sheet lost its case numbers: section and date still match.
    text = "\n".join(line.split("#")[0] for line in sheet.read_text().splitlines())
    copy = tmp_path / "client.txt"
    copy.write_text(text + "\n")
    read = read_sources([doj, copy])
    assert read.matches["rule"].to_list() == ["cii"]
    mine = convicted.filter(pl.col("subject_id") == person)
    dated = mine.filter(pl.col("event_date").is_not_null())
    # Each of the sheet's dated convictions pairs with one of the file's, one to one.
    assert read.shared.height == dated.height
    assert read.shared["count_id"].n_unique() == dated.height
    merged = read.records.counts.filter(
        (pl.col("subject_id") == person)
        & (pl.col("step_type") == "court")
        & pl.col("disposition").is_in(["convicted", "set_aside"])
        & pl.col("event_date").is_not_null()
    )
    assert merged.height == dated.height
