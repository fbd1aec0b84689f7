"""The lists that go with every filing set: what is still in review (per office), what waits
for a court case number, and what no filing covers.

Under HS 11361.9 a conviction the prosecution did not challenge by July 1, 2020 is to be
recalled, dismissed or redesignated by the court (AB 1706 set March 1, 2023 for the orders). A
conviction left in review is therefore not a safe place to park: it is unchallenged, and the
office has not said so. Each list states that deadline logic as of the run's date. The Los
Angeles policy refers misdemeanors to the city attorneys that prosecuted them, so review is
listed per office.

These lists identify people (they are work lists for the office and the clerk, never filed):
they are marked confidential, and their CSV cells that a spreadsheet would run as a formula are
written as text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from clearance.outputs.cells import spreadsheet_safe
from clearance.outputs.filings.exhibit import Exhibit
from clearance.outputs.filings.model import Block, LegalDocument, esc
from clearance.outputs.filings.motion import CHALLENGE_DEADLINE, DOJ_DEADLINE, ORDER_DEADLINE

#: Offices a conviction in review waits on.
OFFICES: dict[str, str] = {
    "district_attorney": "District Attorney",
    "city_attorney": "City attorneys",
}


def deadline_text(as_of: date) -> str:
    """The HS 11361.9 deadline logic, stated as of the run's date."""
    if as_of < CHALLENGE_DEADLINE:
        days = (CHALLENGE_DEADLINE - as_of).days
        return (
            "Under Health and Safety Code section 11361.9 the prosecution has until July 1, "
            f"2020 to challenge a conviction the Department of Justice identified ({days:,} "
            f"day{'s' if days != 1 else ''} after {as_of.isoformat()}); a conviction not "
            "challenged by then is to be recalled, dismissed or redesignated by the court."
        )
    return (
        "Under Health and Safety Code section 11361.9 the prosecution had until July 1, 2020 to "
        "challenge a conviction the Department of Justice identified, and a conviction not "
        "challenged by then is to be recalled, dismissed or redesignated by the court (as "
        f"amended by AB 1706, the orders were due by {ORDER_DEADLINE:%B} 1, 2023 and the "
        f"state's records updated by {DOJ_DEADLINE:%B} 1, 2023). As of {as_of.isoformat()} that "
        "date has passed: a conviction still in review stands unchallenged, and should be "
        "decided now."
    )


def list_document(
    title: str, short_title: str, paragraphs: list[str], exhibit: Exhibit, author: str
) -> LegalDocument:
    """A work list: a page of explanation, then the table (no caption, no line numbers)."""
    return LegalDocument(
        caption=None,
        short_title=short_title,
        blocks=(Block("heading", esc(title)), *[Block("para", p) for p in paragraphs]),
        exhibit=exhibit,
        author=author,
        keywords=("Proposition 64", "work list", "confidential"),
        confidential=True,
        numbered=False,
    )


def review_paragraphs(office: str, rows: int, as_of: date) -> list[str]:
    who = OFFICES[office]
    if not rows:
        first = f"No conviction of this run remains in review for the {who.lower()}."
    else:
        first = (
            f"{rows:,} conviction{'s' if rows != 1 else ''} of this run "
            f"remain{'s' if rows == 1 else ''} in review for the {who.lower()}. Each row gives "
            "the rules that sent it to review, with the facts of the record they read. Decide "
            "each: include it in a motion for relief, or file a challenge with the Court and "
            "the Public Defender."
        )
    return [
        first,
        deadline_text(as_of),
        "CONFIDENTIAL: this list identifies people and their records. It is a work list for "
        "the office; do not file it.",
    ]


def needs_case_paragraphs(rows: int, csv_name: str) -> list[str]:
    return [
        f"{rows:,} count{'s' if rows != 1 else ''} the People would ask relief for "
        f"{'have' if rows != 1 else 'has'} no court case number in the Department of Justice "
        "record, even after the number printed on another count of the same court event was "
        "carried over. A clerk cannot docket an order without it, so each is held out of every "
        "order until the number is supplied.",
        f"To supply them: fill in the column court_case_number of {csv_name} (the file beside "
        "this one, same rows) and give it back with `clearance filings --run RUN --case-numbers "
        "FILE`. The rows are matched on subject_id and count_id; each count then goes into its "
        "order.",
        "CONFIDENTIAL: this list identifies people and their records. It is a work list for "
        "the clerk; do not file it.",
    ]


def safe_cells(frame: pl.DataFrame, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    written with a leading apostrophe, so they are shown as text; `keep` columns as they
    are (keys a program reads back). See `clearance.outputs.cells`."""
    return spreadsheet_safe(frame, keep)


def write_csv(frame: pl.DataFrame, path: Path, keep: tuple[str, ...] = ()) -> None:
    safe_cells(frame, keep).write_csv(path)
