"""The queue's search box in the store: name, SUBJECT_ID, CII, date of birth, part of a case.

Each search is checked against the run's own convictions.parquet, filtered with Polars, on both
databases: the store must find exactly the counts the table says, no more and no fewer.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy.orm import Session
from store_helpers import SampleRun

from clearance.store import runs
from clearance.store.models import Run, User
from clearance.store.reviews import BulkCountChanged, bulk_accept, pending_matching
from clearance.store.search import search_date


@pytest.fixture
def run(session: Session, sample_run: SampleRun) -> Run:
    return runs.store_run(session, sample_run.run_dir, sample_run.inputs, "tester")


@pytest.fixture(scope="module")
def table(sample_run: SampleRun) -> pl.DataFrame:
    return pl.read_parquet(sample_run.run_dir / "convictions.parquet")


def _found(session: Session, run: Run, text: str, **filters: str) -> set[tuple[str, str]]:
    rows, total = runs.query_determinations(
        session,
        run.id,
        search=text,
        per_page=runs.MAX_PER_PAGE,
        **filters,  # type: ignore[arg-type]
    )
    assert total == len(rows), "the searches here match fewer than a page"
    return {(r.subject_id, r.count_id) for r in rows}


def _keys(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return {(str(s), str(c)) for s, c in frame.select("subject_id", "count_id").iter_rows()}


def _contains(column: str, text: str) -> pl.Expr:
    """Whether `column` holds `text`, ignoring case (what the store's search does)."""
    return pl.col(column).str.to_uppercase().str.contains(text.upper(), literal=True)


def _person(table: pl.DataFrame, index: int = 7) -> dict[str, object]:
    """A person of the sample with a name, date of birth, CII and case number."""
    usable = table.filter(
        pl.col("name").str.contains(",")
        & pl.col("dob").is_not_null()
        & pl.col("cii_number").is_not_null()
        & pl.col("court_case_number").is_not_null()
    )
    return usable.row(index, named=True)


def test_search_by_subject_id_and_cii(session: Session, run: Run, table: pl.DataFrame) -> None:
    person = _person(table)
    expected = _keys(table.filter(pl.col("subject_id") == person["subject_id"]))
    assert expected and _found(session, run, f"  {person['subject_id']} ") == expected
    by_cii = _keys(table.filter(pl.col("cii_number") == person["cii_number"]))
    assert by_cii and _found(session, run, str(person["cii_number"])) == by_cii


def test_search_by_name_in_any_order_and_case(
    session: Session, run: Run, table: pl.DataFrame
) -> None:
    person = _person(table, 3)
    last, first = str(person["name"]).split(",", 1)
    first_word = first.split()[0]
    words = [last.strip(), first_word]
    has_all = pl.all_horizontal(_contains("name", w) for w in words)
    expected = _keys(table.filter(has_all))
    assert expected
    assert _found(session, run, f"{first_word.lower()} {last.strip().lower()}") == expected
    assert _found(session, run, f"{last.strip()},{first_word}") == expected
    # A part of the last name alone finds everyone whose name holds it.
    part = last.strip()[1:4]
    by_part = _keys(table.filter(_contains("name", part)))
    assert _found(session, run, part.lower()) >= by_part


@pytest.mark.parametrize("spelling", ["%Y-%m-%d", "%m/%d/%Y"])
def test_search_by_date_of_birth(
    session: Session, run: Run, table: pl.DataFrame, spelling: str
) -> None:
    person = _person(table, 11)
    born: date = person["dob"]  # type: ignore[assignment]
    expected = _keys(table.filter(pl.col("dob") == born))
    assert _found(session, run, born.strftime(spelling)) == expected
    # Without leading zeros too (8/2/1975), as people write dates.
    if spelling == "%m/%d/%Y":
        assert _found(session, run, f"{born.month}/{born.day}/{born.year}") == expected


def test_search_by_part_of_a_case_number(session: Session, run: Run, table: pl.DataFrame) -> None:
    case = str(_person(table, 5)["court_case_number"])
    part = case[2:-1]
    contains = _contains("court_case_number", part)
    # A case fragment may also be a name's or an id's: the search is their union.
    name_words = _contains("name", part)
    ids = (pl.col("subject_id") == part) | (pl.col("cii_number") == part)
    expected = _keys(table.filter(contains | name_words.fill_null(False) | ids.fill_null(False)))
    assert _keys(table.filter(pl.col("court_case_number") == case)) <= expected
    assert _found(session, run, part.lower()) == expected


def test_search_combines_with_the_other_filters(
    session: Session, run: Run, table: pl.DataFrame
) -> None:
    person = _person(table, 2)
    mine = table.filter(pl.col("subject_id") == person["subject_id"])
    decision = str(mine["decision"][0])
    expected = _keys(mine.filter(pl.col("decision") == decision))
    assert _found(session, run, str(person["subject_id"]), decision=decision) == expected


@pytest.mark.parametrize("text", ["%", "_", "\\", "' OR '1'='1", "02/30/1990", "1990-13-01", ",,"])
def test_searches_that_match_nothing(session: Session, run: Run, text: str) -> None:
    assert runs.query_determinations(session, run.id, search=text)[1] == 0


def test_an_empty_search_is_no_filter(session: Session, run: Run, table: pl.DataFrame) -> None:
    assert runs.query_determinations(session, run.id, search="   ")[1] == table.height


def test_search_date_spellings() -> None:
    assert search_date("1975-08-20") == date(1975, 8, 20)
    assert search_date("08/20/1975") == search_date("8/20/1975") == date(1975, 8, 20)
    assert search_date("20/08/1975") is None
    assert search_date("MITCHELL") is None


def test_bulk_accept_of_a_search_accepts_the_count_it_announced(
    session: Session, run: Run, table: pl.DataFrame, attorney: User
) -> None:
    person = _person(table, 4)
    subject = str(person["subject_id"])
    mine = table.filter(pl.col("subject_id") == subject).height
    assert pending_matching(session, run.id, search=subject) == mine
    with pytest.raises(BulkCountChanged, match=f"{mine:,} pending"):
        bulk_accept(session, run.id, attorney, expected=mine + 1, search=subject)
    assert pending_matching(session, run.id, search=subject) == mine, "nothing was accepted"
    assert bulk_accept(session, run.id, attorney, expected=mine, search=subject) == mine
    assert pending_matching(session, run.id, search=subject) == 0
    assert runs.query_determinations(session, run.id, status="accepted")[1] == mine
