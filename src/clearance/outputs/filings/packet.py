"""Per-person packets: a petition or application and a proposed order for each case, with the
content of Judicial Council forms CR-400 and CR-403.

Public defenders and legal-aid groups file for one person at a time, on the Judicial Council
forms. A packet holds, for each court case of the person with relieved counts, the
petition/application (CR-400: currently serving -> petition for recall or dismissal of
sentence, HS 11361.8(a); completed -> application for dismissal and sealing or redesignation,
HS 11361.8(e)) listing each count and the relief asked, and the order after it (CR-403) with
the findings and a line for the judge. A case whose counts differ in path (one sentence still
running, another complete) gets one petition per path, as the forms require.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from clearance.engine import REMEDY_SERVING
from clearance.outputs.filings.data import FilingInfo
from clearance.outputs.filings.exhibit import (
    NO_CASE,
    POLICY_MARK,
    RELATED_MARK,
    UNKNOWN,
    level_after,
    relief_group,
    relief_text,
    sort_for_filing,
)
from clearance.outputs.filings.model import Block, LegalDocument, esc

ROLE = "Attorney for Petitioner/Applicant"
COUNT_HEADER = ("DOJ count", "Code section", "Convicted", "Level now", "Relief", "Level after")
COUNT_WIDTHS = (1.2, 1.2, 1.0, 1.0, 2.2, 1.0)


def _count_rows(rows: pl.DataFrame) -> tuple[tuple[str, ...], ...]:
    shown = rows.select(
        "count_id",
        pl.col("code_section").fill_null(UNKNOWN),
        pl.col("conviction_date").dt.to_string("%Y-%m-%d").fill_null(UNKNOWN),
        pl.col("offense_level").fill_null(UNKNOWN).str.to_titlecase(),
        relief_text().alias("relief"),
        level_after().alias("level_after"),
    )
    return (COUNT_HEADER, *shown.iter_rows())


def _box(checked: bool) -> str:
    return "[X]" if checked else "[&nbsp;&nbsp;]"


def _case_documents(
    filing: FilingInfo, person: dict[str, Any], case: str, rows: pl.DataFrame
) -> tuple[LegalDocument, LegalDocument]:
    serving = bool(rows["remedy"].eq(REMEDY_SERVING).any())
    name = esc(person["name"] or UNKNOWN)
    dob = person["dob"].isoformat() if person["dob"] is not None else UNKNOWN
    cii = esc(person["cii_number"] or UNKNOWN)
    dismiss = bool(rows["decision"].eq("dismiss").any())
    reduce = bool(rows["decision"].eq("reduce").any())
    parties = (
        "THE PEOPLE OF THE STATE OF CALIFORNIA,",
        "&nbsp;" * 24 + "Plaintiff,",
        "&nbsp;" * 8 + "v.",
        f"{name},",
        "&nbsp;" * 24 + "Defendant.",
    )
    case_lines = (
        f"Case No.: {esc(case)}",
        f"Date of birth: {dob}",
        f"CII: {cii}",
    )
    table = Block("table", rows=_count_rows(rows), widths=COUNT_WIDTHS)
    who = "Petitioner" if serving else "Applicant"
    requests = []
    if serving:
        requests.append(
            "recall the sentence and dismiss the conviction or resentence the petitioner to the "
            "level shown (HS 11361.8(a)-(b)), with credit for time already served"
        )
    else:
        if dismiss:
            requests.append(
                "dismiss and seal each conviction shown for dismissal, as legally invalid where "
                "the conduct is now lawful (HS 11361.8(e)-(f))"
            )
        if reduce:
            requests.append(
                "redesignate each conviction shown for redesignation as a misdemeanor or "
                "infraction (HS 11361.8(e)-(f))"
            )
    shown = relief_text()
    marked = rows.select(
        (
            shown.str.contains(POLICY_MARK, literal=True)
            | shown.str.contains(RELATED_MARK, literal=True)
        ).any()
    ).item()
    if marked:
        requests.append(
            f"dismiss each conviction marked {POLICY_MARK} or {RELATED_MARK} in furtherance of "
            "justice (Penal Code section 1385), as the prosecuting office's policy supports"
        )
    requests.append(
        "relieve the petitioner/applicant of any duty to register under HS 11590 arising from "
        "these convictions"
    )
    petition_blocks: list[Block] = [
        Block("heading", "1. RELIEF SOUGHT"),
        Block(
            "plain",
            f"{_box(serving)} Petition for recall or dismissal of sentence: the petitioner is "
            "currently serving a sentence for the conviction(s) below (HS 11361.8(a)).",
        ),
        Block(
            "plain",
            f"{_box(not serving)} Application for dismissal and sealing or redesignation: the "
            "applicant has completed the sentence for the conviction(s) below (HS 11361.8(e)).",
        ),
        Block("heading", "2. CONVICTIONS"),
        Block(
            "plain",
            f"The {who.lower()} was convicted in this case of the following offense(s), for "
            "conduct before November 9, 2016:",
        ),
        table,
        Block("heading", "3. REQUEST"),
        Block("plain", f"The {who.lower()} asks the court to:"),
        *[Block("item", text, label=f"{chr(97 + i)}.") for i, text in enumerate(requests)],
        Block(
            "plain",
            "Eligibility is presumed; the prosecution must prove otherwise by clear and "
            "convincing evidence (HS 11361.8(b), (f)).",
        ),
        Block(
            "signature",
            label="Dated: ____________________",
            lines=(esc(filing.signer), f"State Bar No. {esc(filing.bar_number)}", ROLE),
            text=esc(filing.office),
        ),
    ]
    title_note = "(Health and Safety Code section 11361.8)"
    petition = LegalDocument(
        filer=(
            f"{esc(filing.signer)} (State Bar No. {esc(filing.bar_number)})",
            esc(filing.office),
            ROLE,
        ),
        court=filing.court_name,
        court_address=filing.court_address,
        parties=parties,
        case_lines=case_lines,
        title="PETITION/APPLICATION FOR RELIEF (ADULT CANNABIS CONVICTIONS)",
        title_note=f"{title_note}; content of Judicial Council form CR-400",
        short_title=f"Petition/application (HS 11361.8), case {case}",
        blocks=tuple(petition_blocks),
        author=filing.office,
        keywords=("Proposition 64", "HS 11361.8", "CR-400"),
    )
    findings = [
        f"{_box(serving)} The petitioner is currently serving a sentence for the conviction(s) "
        "below and does not pose an unreasonable risk of danger to public safety "
        "(HS 11361.8(b)).",
        f"{_box(not serving)} The applicant has completed the sentence for the conviction(s) "
        "below (HS 11361.8(f)).",
        f"[X] The {who.lower()} satisfies the criteria of HS 11361.8 for each conviction below.",
    ]
    orders = [
        "[X] The petition/application is GRANTED. Each conviction below is dismissed and "
        "sealed, redesignated, or its sentence recalled and the petitioner resentenced, as "
        'shown in the columns "Relief" and "Level after"; a redesignated conviction is a '
        "misdemeanor or infraction for all purposes (HS 11361.8(h)).",
        f"[X] The {who.lower()} is relieved of any duty to register under HS 11590 arising from "
        "these convictions.",
        "[X] The clerk shall update the court's records and notify the Department of Justice.",
    ]
    order_blocks: list[Block] = [
        Block(
            "para",
            f"The court has read and considered the {who.lower()}'s petition/application under "
            "Health and Safety Code section 11361.8 in this case.",
        ),
        Block("heading", "THE COURT FINDS:"),
        *[Block("plain", text) for text in findings],
        Block("heading", "THE COURT ORDERS:"),
        *[Block("plain", text) for text in orders],
        table,
        Block(
            "signature",
            label="Dated: ____________________",
            lines=("Judge of the Superior Court",),
        ),
    ]
    order = LegalDocument(
        filer=petition.filer,
        court=filing.court_name,
        court_address=filing.court_address,
        parties=parties,
        case_lines=case_lines,
        title="[PROPOSED] ORDER AFTER PETITION/APPLICATION (ADULT CANNABIS CONVICTIONS)",
        title_note=f"{title_note}; content of Judicial Council form CR-403",
        short_title=f"Order after petition/application (HS 11361.8), case {case}",
        blocks=tuple(order_blocks),
        author=filing.office,
        keywords=("Proposition 64", "HS 11361.8", "CR-403"),
    )
    return petition, order


def _relieved(convictions: pl.DataFrame) -> pl.DataFrame:
    return convictions.filter(relief_group().is_not_null()).with_columns(
        (pl.col("remedy") == REMEDY_SERVING).fill_null(False).alias("_serving")
    )


def packet_subjects(convictions: pl.DataFrame) -> list[str]:
    """People with at least one count to petition for, in SUBJECT_ID order."""
    return sorted(_relieved(convictions)["subject_id"].unique().to_list())


def _person_documents(rows: pl.DataFrame, filing: FilingInfo) -> list[LegalDocument]:
    rows = sort_for_filing(rows)
    person = rows.row(0, named=True)
    documents: list[LegalDocument] = []
    for (case, _serving), group in rows.group_by(
        ["court_case_number", "_serving"], maintain_order=True
    ):
        documents.extend(_case_documents(filing, person, str(case or NO_CASE), group))
    return documents


def packet_documents(
    convictions: pl.DataFrame, filing: FilingInfo, subject_id: str
) -> list[LegalDocument]:
    """Petition and order for each (case, path) of one person's relieved counts."""
    rows = _relieved(convictions).filter(pl.col("subject_id") == subject_id)
    return _person_documents(rows, filing) if rows.height else []


def packet_file_name(subject_id: str) -> str:
    """The packet's file name: the SUBJECT_ID, reduced to characters safe in a path."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", subject_id) + ".pdf"


def iter_packets(
    convictions: pl.DataFrame, filing: FilingInfo, subjects: list[str], out_dir: Path
) -> Iterator[tuple[Path, list[LegalDocument]]]:
    """(file, documents) of each listed person's packet, in the listed order.

    The relieved counts are split by person once, not filtered once per person.
    """
    wanted = set(subjects)
    relieved = _relieved(convictions).filter(pl.col("subject_id").is_in(list(wanted)))
    by_person = relieved.partition_by("subject_id", as_dict=True)
    for subject_id in subjects:
        rows = by_person.get((subject_id,))
        if rows is not None and rows.height:
            yield out_dir / packet_file_name(subject_id), _person_documents(rows, filing)
