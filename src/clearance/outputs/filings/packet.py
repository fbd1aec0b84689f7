"""Per-person packets, by who files them.

- **The People** (`packets="people"`): for each of a person's cases and relief groups, the
  People's notice that they do not challenge relief (HS 11361.9) with a proposed order, signed by
  the prosecutor as attorney for the People (the party that could oppose relief). A group on
  the office's own authority gets its own papers: a motion to dismiss under PC 1385 with its
  order, or the notice of non-opposition to dismissal on petition (PC 1203.4 et seq.).
- **The person** (`packets="petitioner"`), for legal aid and individuals: the petition or
  application with the content of Judicial Council form CR-400 (HS 11361.8(a) for a person
  still serving, (e) once the sentence is complete) and the order after it (CR-403), signed by
  the petitioner, or by their counsel when a name and bar number are given. The prosecutor is
  never the petitioner's attorney.

A packet names the person in the caption of their own case, as any filing in that case does,
and carries no date of birth or CII number. A case whose counts differ in path (one sentence
still running, another complete) gets papers per path, as the forms require.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import polars as pl

from clearance.outputs.filings.data import FilingInfo
from clearance.outputs.filings.exhibit import (
    UNKNOWN,
    count_number,
    date_text,
    relief_text,
    sort_for_filing,
)
from clearance.outputs.filings.groups import (
    DISMISS_SEAL,
    GROUP_BY_KEY,
    RECALL,
    REDESIGNATE,
    ReliefGroup,
)
from clearance.outputs.filings.model import Block, Caption, LegalDocument, esc
from clearance.outputs.filings.motion import (
    HEARING_LINES,
    NO_HEARING,
    filer_lines,
    judge_signature,
    people_signature,
)

PacketKind = Literal["people", "petitioner"]
NB = "&nbsp;"
COUNT_HEADER = ("Count", "Code section", "Convicted", "Level now", "Relief")
COUNT_WIDTHS = (0.6, 1.3, 1.1, 1.3, 2.5)


@dataclass(frozen=True)
class Counsel:
    """The petitioner's counsel (legal aid or private): name and bar number, and the contact
    lines rule 2.111 asks for when given."""

    name: str
    bar_number: str
    office: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""


def _count_rows(rows: pl.DataFrame) -> tuple[tuple[str, ...], ...]:
    shown = rows.select(
        count_number(),
        pl.col("code_section").fill_null(UNKNOWN),
        date_text("conviction_date"),
        pl.col("offense_level").fill_null(UNKNOWN).str.to_titlecase(),
        relief_text(),
    )
    return (COUNT_HEADER, *shown.iter_rows())


def _parties(name: str, who: str) -> tuple[str, ...]:
    return (
        "THE PEOPLE OF THE STATE OF CALIFORNIA,",
        NB * 30 + "Plaintiff,",
        NB * 12 + "v.",
        f"{esc(name)},",
        NB * 30 + f"{who}.",
    )


def _people_documents(
    filing: FilingInfo, name: str, case: str, group: ReliefGroup, rows: pl.DataFrame
) -> list[LegalDocument]:
    """The People's papers for one case and group: a notice or motion, and the order."""
    table = Block("table", rows=_count_rows(rows), widths=COUNT_WIDTHS)
    base = Caption(
        filer=filer_lines(filing),
        court=filing.court_name,
        court_address=filing.court_address,
        parties=_parties(name, "Defendant"),
        case_lines=(f"Case No.: {esc(case)}",),
        title="",
        title_note="",
    )
    hearing = HEARING_LINES if group.hearing else NO_HEARING if group.kind == "statute" else ()
    if group.kind == "statute":
        title = (
            "PEOPLE'S NOTICE OF NO CHALLENGE AND REQUEST FOR ORDER (HEALTH AND SAFETY CODE "
            "§ 11361.9)"
        )
        body = [
            Block(
                "para",
                "Under Health and Safety Code section 11361.9 the People inform the Court that "
                "they do not challenge relief under section 11361.8 for the conviction(s) "
                f"below, and request an order granting it ({group.title.lower()}, "
                f"{group.authority}).",
            ),
            table,
        ]
        if group is RECALL:
            body.append(
                Block(
                    "para",
                    "The defendant is still serving the sentence. The People request a hearing "
                    "at which the Court sets the new sentence, credit for time served and "
                    "supervision (subdivisions (b)-(d)); they do not contend that relief would "
                    "pose an unreasonable risk of danger to public safety.",
                )
            )
    elif group.document == "motion":
        title = (
            "PEOPLE'S MOTION TO RECALL SENTENCE AND DISMISS IN FURTHERANCE OF JUSTICE (PENAL "
            "CODE § 1385)"
        )
        body = [
            Block(
                "para",
                "The defendant is still serving the sentence, or is on probation, for the "
                "conviction(s) below. Under the office's written policy the People move that "
                "the sentence be recalled and the action dismissed in furtherance of justice "
                "(Penal Code section 1385; People v. Chavez (2018) 4 Cal.5th 771). The People "
                "do not ask that the record be sealed.",
            ),
            table,
        ]
    else:
        title = (
            "PEOPLE'S NOTICE OF NON-OPPOSITION TO DISMISSAL ON PETITION (PENAL CODE §§ 1203.4, "
            "1203.4a, 1203.41, 1203.42)"
        )
        body = [
            Block(
                "para",
                "The defendant has completed the sentence for the conviction(s) below. Under the "
                "office's written policy the People do not oppose dismissal on the defendant's "
                "petition under whichever of Penal Code sections 1203.4, 1203.4a, 1203.41 and "
                "1203.42 applies, and ask the Court to treat this notice as their response.",
            ),
            table,
        ]
    body.append(people_signature(filing))
    paper = "motion" if group.kind != "statute" and group.document == "motion" else "notice"
    documents = [
        LegalDocument(
            caption=replace(base, title=title, hearing=hearing),
            short_title=f"People's {paper}, case {case}",
            blocks=tuple(body),
            author=filing.office,
            keywords=("Proposition 64", group.key),
        )
    ]
    if group.document == "notice":
        return documents
    orders = {
        DISMISS_SEAL.key: "Each conviction below is dismissed and sealed because it is legally "
        "invalid (HS 11361.8(f)). The clerk shall seal the court's records of it; the "
        "conviction, and the arrest and other proceedings relating to it, are deemed not to "
        "have occurred (HS 11361.9, as amended by AB 1706).",
        REDESIGNATE.key: "Each conviction below is redesignated as shown, a misdemeanor or "
        "infraction for all purposes (HS 11361.8(f), (h)).",
        RECALL.key: "The sentence on each conviction below is recalled, and the defendant "
        "resentenced as shown, or the sentence dismissed as legally invalid where shown (HS "
        "11361.8(b)), with credit for time already served (subd. (c)). New sentence: "
        "______________. Supervision: ______________. No term exceeds the original sentence "
        "(subd. (d)). [  ] The defendant has served longer than the new term and is to be "
        "released from custody on this conviction forthwith, unless held on another matter.",
    }
    ordered = orders.get(
        group.key,
        "The sentence on each conviction below is recalled and the action dismissed in "
        "furtherance of justice, for the reasons stated in the People's motion (Penal Code "
        "section 1385). The record is not sealed.",
    )
    order_blocks = [
        Block("heading", "THE COURT ORDERS:"),
        Block("para", ordered),
        table,
        Block(
            "para",
            "The clerk shall update the court's records and notify the Department of Justice "
            "(HS 11361.9).",
        ),
        judge_signature(),
    ]
    documents.append(
        LegalDocument(
            caption=replace(
                base,
                title=f"[PROPOSED] ORDER ({group.title.upper()})",
                title_note=f"({esc(group.authority)})",
                hearing=hearing,
            ),
            short_title=f"Order, case {case}",
            blocks=tuple(order_blocks),
            author=filing.office,
            keywords=("Proposition 64", group.key, "order"),
        )
    )
    return documents


def _petitioner_documents(
    counsel: Counsel | None,
    court: tuple[str, str],
    name: str,
    case: str,
    serving: bool,
    rows: pl.DataFrame,
) -> list[LegalDocument]:
    """The petition/application (CR-400 content) and the order after it (CR-403 content)."""
    who = "Petitioner" if serving else "Applicant"
    if counsel is not None:
        # Rule 2.111(1): what is not given is left as a line to fill in.
        filer = tuple(
            line
            for line in (
                f"{esc(counsel.name)} (State Bar No. {esc(counsel.bar_number)})",
                esc(counsel.office),
                esc(counsel.address) or "Address: ______________________________",
                f"Telephone: {esc(counsel.phone) or '____________________________'}",
                f"Email: {esc(counsel.email) or '________________________________'}",
                f"Attorney for {who}",
            )
            if line
        )
        signer: tuple[str, ...] = (
            esc(counsel.name),
            f"State Bar No. {esc(counsel.bar_number)}",
            f"Attorney for {who}",
        )
    else:
        filer = (
            f"{esc(name)}, {who}, self-represented",
            "Address: ______________________________",
            "Telephone: ____________________________",
            "Email: ________________________________",
        )
        signer = (esc(name), f"{who}, self-represented")
    table = Block("table", rows=_count_rows(rows), widths=COUNT_WIDTHS)
    dismiss = bool(rows["statute_level"].eq("dismiss").any())
    reduce = bool(rows["statute_level"].is_in(["misdemeanor", "infraction"]).any())
    requests = []
    if serving:
        requests.append(
            "recall the sentence and resentence me to the level shown, or dismiss the sentence "
            "as legally invalid where shown (HS 11361.8(a)-(b)), with credit for time served"
        )
    else:
        if dismiss:
            requests.append(
                "dismiss and seal each conviction shown for dismissal, as legally invalid (HS "
                "11361.8(e)-(f))"
            )
        if reduce:
            requests.append(
                "redesignate each conviction shown as a misdemeanor or infraction (HS "
                "11361.8(e)-(f))"
            )
    box_serving = "[X]" if serving else "[  ]"
    box_done = "[  ]" if serving else "[X]"
    petition_blocks = [
        Block("heading", "1. RELIEF SOUGHT"),
        Block(
            "item",
            "Petition for recall or dismissal of sentence: I am currently serving a sentence for "
            "the conviction(s) below (HS 11361.8(a)).",
            label=box_serving,
        ),
        Block(
            "item",
            "Application for dismissal and sealing or redesignation: I have completed the "
            "sentence for the conviction(s) below (HS 11361.8(e)).",
            label=box_done,
        ),
        Block("heading", "2. CONVICTIONS"),
        Block(
            "plain",
            "I was convicted in this case of the following, for conduct before November 9, 2016:",
        ),
        table,
        Block("heading", "3. REQUEST"),
        Block("plain", "I ask the court to:"),
        *[Block("item", text, label=f"{chr(97 + i)}.") for i, text in enumerate(requests)],
        Block(
            "item",
            "I request a hearing (without a request, none is needed to grant an application, HS "
            "11361.8(g)).",
            label="[  ]",
        ),
        Block(
            "para",
            "Eligibility is presumed; a party opposing relief must prove otherwise by clear and "
            "convincing evidence (HS 11361.8(b), (f)). I declare under penalty of perjury under "
            "the laws of the State of California that the foregoing is true and correct.",
        ),
        Block("signature", label="Dated: ____________________", lines=signer),
    ]
    base = Caption(
        filer=filer,
        court=court[0],
        court_address=court[1],
        parties=_parties(name, "Defendant"),
        case_lines=(f"Case No.: {esc(case)}",),
        title="",
        title_note="",
    )
    petition = LegalDocument(
        caption=replace(
            base,
            title="PETITION/APPLICATION (HEALTH AND SAFETY CODE § 11361.8): ADULT CANNABIS "
            "CONVICTIONS",
            title_note="(content of Judicial Council form CR-400)",
        ),
        short_title=f"Petition/application (HS 11361.8), case {case}",
        blocks=tuple(petition_blocks),
        author=counsel.office if counsel else f"{who}, self-represented",
        keywords=("Proposition 64", "HS 11361.8", "CR-400"),
    )
    findings = [
        Block(
            "item",
            f"The {who.lower()} is currently serving a sentence for the conviction(s) below and "
            "relief would not pose an unreasonable risk of danger to public safety (HS "
            "11361.8(b)).",
            label=box_serving,
        ),
        Block(
            "item",
            f"The {who.lower()} has completed the sentence for the conviction(s) below (HS "
            "11361.8(f)).",
            label=box_done,
        ),
        Block(
            "item",
            f"The {who.lower()} satisfies the criteria of HS 11361.8 for each conviction below.",
            label="[X]",
        ),
    ]
    if serving:
        ordered = (
            "The petition is GRANTED. The sentence on each conviction below is recalled and the "
            "petitioner resentenced as shown, or the sentence dismissed as legally invalid where "
            "shown (HS 11361.8(b)), with credit for time served. New sentence: ______________. "
            "Supervision (HS 11361.8(c)): ______________. No term exceeds the original sentence "
            "(HS 11361.8(d)). [  ] The petitioner has served longer than the new term and is to "
            "be released from custody on this conviction forthwith, unless held on another "
            "matter."
        )
    else:
        ordered = (
            "The application is GRANTED. Each conviction below shown for dismissal is dismissed "
            "and sealed as legally invalid (HS 11361.8(f)); each shown for redesignation is "
            "redesignated as shown, a misdemeanor or infraction for all purposes (HS "
            "11361.8(h))."
        )
    order_blocks = [
        Block("heading", "THE COURT FINDS:"),
        *findings,
        Block("heading", "THE COURT ORDERS:"),
        Block("para", ordered),
        table,
        Block(
            "para",
            "The clerk shall update the court's records and notify the Department of Justice.",
        ),
        judge_signature(),
    ]
    order = LegalDocument(
        caption=replace(
            base,
            title="[PROPOSED] ORDER AFTER PETITION/APPLICATION (HEALTH AND SAFETY CODE § 11361.8)",
            title_note="(content of Judicial Council form CR-403)",
        ),
        short_title=f"Order after petition/application, case {case}",
        blocks=tuple(order_blocks),
        author=counsel.office if counsel else f"{who}, self-represented",
        keywords=("Proposition 64", "HS 11361.8", "CR-403"),
    )
    return [petition, order]


def packet_rows(classified: pl.DataFrame, kind: PacketKind) -> pl.DataFrame:
    """The rows a packet covers: for the People, every row in an order or notice group; for
    the person, every relieved row the statute itself relieves (a petition asks the statute)."""
    if kind == "people":
        return classified.filter(
            pl.col("order_group").is_not_null() | pl.col("notice_group").is_not_null()
        ).with_columns(pl.coalesce("order_group", "notice_group").alias("_group"))
    statute_group = (
        pl.when(pl.col("is_serving"))
        .then(pl.lit(RECALL.key))
        .when(pl.col("statute_level") == "dismiss")
        .then(pl.lit(DISMISS_SEAL.key))
        .otherwise(pl.lit(REDESIGNATE.key))
    )
    return classified.filter(
        pl.col("decision").is_in(["dismiss", "reduce"])
        & pl.col("statute_level").is_not_null()
        & ~pl.col("related")
        & pl.col("court_case_number").is_not_null()
        & ~pl.col("public_safety")
    ).with_columns(
        statute_group.alias("_group"),
        statute_group.alias("order_group"),
        pl.lit(None, dtype=pl.String).alias("notice_group"),
    )


def packet_subjects(classified: pl.DataFrame, kind: PacketKind = "people") -> list[str]:
    """People with at least one count in a packet, in SUBJECT_ID order."""
    return sorted(packet_rows(classified, kind)["subject_id"].unique().to_list())


def _person_documents(
    rows: pl.DataFrame, filing: FilingInfo, kind: PacketKind, counsel: Counsel | None
) -> list[LegalDocument]:
    rows = sort_for_filing(rows)
    name = str(rows["name"][0] or UNKNOWN)
    documents: list[LegalDocument] = []
    for (case, group_key), group_rows in rows.group_by(
        ["court_case_number", "_group"], maintain_order=True
    ):
        case_text = str(case)
        if kind == "people":
            documents.extend(
                _people_documents(filing, name, case_text, GROUP_BY_KEY[str(group_key)], group_rows)
            )
        else:
            documents.extend(
                _petitioner_documents(
                    counsel,
                    (filing.court_name, filing.court_address),
                    name,
                    case_text,
                    str(group_key) == RECALL.key,
                    group_rows,
                )
            )
    return documents


def packet_file_name(subject_id: str) -> str:
    """The packet's file name: the SUBJECT_ID, reduced to characters safe in a path."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", subject_id) + ".pdf"


def iter_packets(
    classified: pl.DataFrame,
    filing: FilingInfo,
    subjects: list[str],
    out_dir: Path,
    kind: PacketKind = "people",
    counsel: Counsel | None = None,
) -> Iterator[tuple[Path, list[LegalDocument]]]:
    """(file, documents) of each listed person's packet, in the listed order.

    The rows are split by person once, not filtered once per person."""
    wanted = set(subjects)
    rows = packet_rows(classified, kind).filter(pl.col("subject_id").is_in(list(wanted)))
    by_person = rows.partition_by("subject_id", as_dict=True)
    for subject_id in subjects:
        person = by_person.get((subject_id,))
        if person is not None and person.height:
            yield (
                out_dir / packet_file_name(subject_id),
                _person_documents(person, filing, kind, counsel),
            )
