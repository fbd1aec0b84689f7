"""Certificate-of-pardon application packets, one per person with a covered federal count.

The pardon needs no application, but its proof does: the Office of the Pardon Attorney (OPA)
issues a Certificate of Pardon on request, one form per proclamation. A packet holds:

1. a plain-language cover letter: what the pardon is and is not, the condition of citizenship,
   what to fill in, what to attach and where to send it;
2. per form the person needs (2022: offenses on or before 2022-10-06 under 21 U.S.C. 844 or D.C.
   Code 48-904.01(d)(1); 2023: everything the 2023 proclamation alone covers), a worksheet
   with what the form asks for: the facts the record gives pre-filled (name, date of birth,
   each charge or conviction with its court, date, docket and code section), the blanks only
   the person can fill (mailing address, email, phone, place of birth, citizenship or LPR
   status with its proof) marked as such.

Packets are built on the filings document model (`outputs/filings`: blocks laid out once and
drawn by the PDF and DOCX writers), so the two files say the same words on the same pages.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl

from clearance.law.federal import CUTOFF_2022, CUTOFF_2023
from clearance.outputs.filings.docx_writer import render_docx
from clearance.outputs.filings.layout import layout_document
from clearance.outputs.filings.model import Block, LegalDocument, esc
from clearance.outputs.filings.pdf import write_laid_out

#: What the person must write in: shown in every blank.
BLANK = "____________________ (you fill in)"

OPA_EMAIL = "USPardon.Attorney@usdoj.gov"
OPA_ADDRESS = (
    "U.S. Department of Justice, Office of the Pardon Attorney, 950 Pennsylvania Avenue NW, "
    "Washington, DC 20530"
)


#: The two OPA request forms: title, proclamation, cutoff.
FORMS: dict[str, tuple[str, str, date]] = {
    "2022": (
        "Certificate of Pardon for the Offense of Simple Possession of Marijuana on or before "
        "October 6, 2022",
        "Proclamation 10467 of October 6, 2022",
        CUTOFF_2022,
    ),
    "2023": (
        "Certificate of Pardon for the Offenses of Simple Possession, Attempted Possession, "
        "and Use of Marijuana on or before December 22, 2023",
        "Proclamation 10688 of December 22, 2023",
        CUTOFF_2023,
    ),
}

_STATUS_TEXT = {"citizen": "U.S. citizen", "lpr": "Lawful permanent resident"}


def display_name(name: object) -> str:
    """`LAST, FIRST M` as a letter writes it (`FIRST M LAST`); other forms unchanged."""
    text = re.sub(r"\s+", " ", str(name or "")).strip()
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if last and first:
            return f"{first} {last}"
    return text


def _day(value: date | None) -> str:
    return value.strftime("%B %-d, %Y") if value is not None else "unknown"


def forms_of(rows: pl.DataFrame) -> list[str]:
    """The forms a person's covered counts need, in order (2022 first)."""
    needed: set[str] = set()
    for form in rows["form"].to_list():
        needed.update(f for f in str(form).split("+") if f)
    return [f for f in FORMS if f in needed]


def _charge_rows(rows: pl.DataFrame) -> tuple[tuple[str, ...], ...]:
    header = ("Charge or conviction", "Court", "Date", "Docket or case number", "Code section")
    body = []
    for row in rows.iter_rows(named=True):
        kind = "Conviction" if row["disposition"] == "convicted" else "Charge"
        when = row["disposition_date"] if kind == "Conviction" else row["offense_date"]
        when = when or row["offense_date"] or row["disposition_date"]
        body.append(
            (
                esc(kind),
                esc(row["court"] or BLANK),
                esc(when.isoformat() if when else BLANK),
                esc(row["docket"] or BLANK),
                esc(citation_text(row["statute"]) or row["statute_raw"] or BLANK),
            )
        )
    return (header, *body)


def citation_text(statute: str | None) -> str | None:
    """A normalised statute as a reader writes it: `21 U.S.C. § 844(a)`, `D.C. Code §
    48-904.01(d)(1)`, `36 C.F.R. § 2.35(b)(2)`."""
    if not statute:
        return statute
    text = re.sub(r"^DC ", "D.C. Code § ", statute)
    text = re.sub(r"^(\d+) USC ", r"\1 U.S.C. § ", text)
    return re.sub(r"^(\d+) CFR ", r"\1 C.F.R. § ", text)


def _letter(
    name: str, rows: pl.DataFrame, forms: list[str], others: int, as_of: date | None
) -> list[Block]:
    covered = rows.height
    proclamations = " and ".join(FORMS[f][1] for f in forms)
    statuses = set(rows["citizenship"].to_list())
    blocks = [
        Block("heading", "Your federal marijuana pardon: how to get your Certificate of Pardon"),
        Block("plain", f"Date: {_day(as_of) if as_of else BLANK}"),
        Block("single", f"Dear {esc(name)},"),
        Block("spacer"),
        Block(
            "para",
            f"The federal court records we reviewed show {covered} federal "
            f"{'count' if covered == 1 else 'counts'} of simple possession of marijuana (or a "
            f"related offense the President pardoned) under {esc(proclamations)}. The pardon "
            "already applies to you by law; you do not apply for the pardon itself. What you can "
            "ask for is proof of it: a <b>Certificate of Pardon</b> from the U.S. Department of "
            "Justice, Office of the Pardon Attorney. Employers, landlords and licensing boards "
            "may ask to see it. It is free.",
        ),
        Block(
            "para",
            "<b>What a pardon does and does not do.</b> A pardon is forgiveness. It does not "
            "erase, expunge or seal the record, and it does not mean you were innocent. It can "
            "remove barriers that come from the conviction, and the certificate is the only "
            "paper you will receive that shows it.",
        ),
        Block(
            "para",
            "<b>Who the pardon covers.</b> You are covered if you were a U.S. citizen or "
            "lawfully present in the United States at the time of the offense, and were a U.S. "
            "citizen or lawful permanent resident on the date of the proclamation"
            + (
                " (October 6, 2022 for the 2022 form; December 22, 2023 for the 2023 form)."
                if len(forms) > 1
                else f" ({_day(FORMS[forms[0]][2])})."
            )
            + (
                " Our records do not show your status: the application asks you to state it "
                "and to show proof."
                if "unknown" in statuses
                else " Our records show your status; the application asks for proof of it."
            ),
        ),
        Block("para", "<b>What to do.</b>"),
        Block(
            "item",
            "Check the facts we filled in on the worksheet that follows. Tell us if anything "
            "is wrong.",
            label="1.",
        ),
        Block(
            "item",
            "Fill in the blanks marked <i>(you fill in)</i>: your mailing address, email "
            "address, phone, place of birth, and your citizenship or lawful permanent resident "
            "status with its proof (for example a U.S. passport, a naturalization certificate "
            "number, or your permanent resident card and alien registration number).",
            label="2.",
        ),
        Block(
            "item",
            "If you have them, attach copies of court papers: the charging document "
            "(indictment, complaint or information) or the judgment or docket sheet.",
            label="3.",
        ),
        Block(
            "item",
            f"Use the Office of the Pardon Attorney's request form named on "
            f"{'each worksheet' if len(forms) > 1 else 'the worksheet'} "
            f"({'one request per form' if len(forms) > 1 else 'one request'}). Send it online "
            f"on the Office's website, by email to {OPA_EMAIL}, or by mail to {OPA_ADDRESS}. "
            "If you have no email address, you may give the email of someone helping you.",
            label="4.",
        ),
    ]
    if others:
        blocks.append(
            Block(
                "para",
                f"Our records also show {others} other federal "
                f"{'count' if others == 1 else 'counts'} that the pardon does not cover or that "
                "we still need to review. The pardon does not reach them; ask us about other "
                "options.",
            )
        )
    blocks.append(
        Block(
            "para",
            "This letter is information, not a promise: the Office of the Pardon Attorney "
            "decides each request.",
        )
    )
    return _letter_spacing(blocks)


def _letter_spacing(blocks: list[Block]) -> list[Block]:
    """A letter is single-spaced with a blank line between paragraphs (the pleading grid's
    double spacing is for court papers)."""
    spaced: list[Block] = []
    for block in blocks:
        if block.kind == "para":
            spaced += [Block("single", block.text), Block("spacer")]
        elif block.kind == "item":
            spaced += [Block("single", f"{block.label} {block.text}", indent=18.0), Block("spacer")]
        else:
            spaced.append(block)
    return spaced


def _worksheet(form: str, person: dict[str, object], rows: pl.DataFrame) -> list[Block]:
    title, proclamation, cutoff = FORMS[form]
    status = str(person["citizenship"])
    status_text = _STATUS_TEXT.get(status)
    dob = person["dob"]
    about_you = (
        ("What the form asks", "Your answer"),
        ("Full name", esc(display_name(person["name"]) or BLANK)),
        ("Date of birth", esc(dob.isoformat() if isinstance(dob, date) else BLANK)),
        ("Place of birth", BLANK),
        ("Mailing address", BLANK),
        ("Email address", BLANK),
        ("Phone", BLANK),
        (
            f"Citizenship or lawful permanent resident status on {_day(cutoff)}",
            esc(f"{status_text} (from the record; attach proof)") if status_text else BLANK,
        ),
        (
            "Proof of status (passport, naturalization certificate or permanent resident card "
            "number, and the date the status was obtained)",
            BLANK,
        ),
        (
            "U.S. citizen or lawfully present at the time of each offense",
            esc(f"{status_text} (from the record)") if status == "citizen" else BLANK,
        ),
    )
    return [
        Block("pagebreak"),
        Block("heading", esc(f"Request worksheet: {title}")),
        Block(
            "para",
            f"For the request form of the Office of the Pardon Attorney under {esc(proclamation)}"
            f" (offenses committed on or before {_day(cutoff)}). Copy these answers into the "
            "form online or on paper.",
        ),
        Block("plain", "<b>About you</b>"),
        Block("table", rows=about_you, widths=(2.2, 2.8)),
        Block("plain", "<b>About each charge or conviction</b>"),
        Block("table", rows=_charge_rows(rows), widths=(1.3, 1.5, 1.0, 1.4, 1.4)),
        Block(
            "plain",
            "Documents to attach if you have them: the charging document (indictment, "
            "complaint or information), or the judgment of conviction or docket sheet showing "
            "the sentence and its date.",
        ),
    ]


def packet_document(
    person_rows: pl.DataFrame, others: int, as_of: date | None = None
) -> LegalDocument:
    """One person's packet: the cover letter, then a worksheet per form needed."""
    first = person_rows.row(0, named=True)
    name = display_name(first["name"]) or "Applicant"
    forms = forms_of(person_rows)
    blocks = _letter(name, person_rows, forms, others, as_of)
    for form in forms:
        counts = person_rows.filter(pl.col("form").str.split("+").list.contains(pl.lit(form)))
        blocks.extend(_worksheet(form, first, counts))
    return LegalDocument(
        caption=None,
        short_title="Certificate of Pardon request packet",
        blocks=tuple(blocks),
        author="clearance",
        keywords=(
            "federal marijuana pardon",
            "certificate of pardon",
            *(f"form {f}" for f in forms),
        ),
        confidential=True,
        numbered=False,
    )


def packet_stem(person_id: str) -> str:
    """A file name from the person's id, reduced to characters safe in a path."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", person_id)


PACKETS_DIR = "packets"


def _covered(decided: pl.DataFrame) -> pl.DataFrame:
    return decided.filter(pl.col("decision").is_in(["covered_2022", "covered_2023"]))


def packet_files(decided: pl.DataFrame) -> dict[str, str]:
    """person_id -> the packet's file stem, for every person with a covered count (two ids
    that differ only in characters unsafe in a path get distinct stems)."""
    stems: dict[str, str] = {}
    used: set[str] = set()
    for person_id in _covered(decided)["person_id"].unique(maintain_order=True).to_list():
        stem = base = packet_stem(str(person_id))
        while stem in used:
            stem = f"{base}_{len(used)}"
        used.add(stem)
        stems[str(person_id)] = stem
    return stems


def with_packet_column(decided: pl.DataFrame) -> pl.DataFrame:
    """The decided counts with `packet`: the PDF a covered count's person finds it in."""
    stems = packet_files(decided)
    covered = pl.col("decision").is_in(["covered_2022", "covered_2023"])
    return decided.with_columns(
        pl.when(covered)
        .then(
            pl.format(
                "{}/{}.pdf",
                pl.lit(PACKETS_DIR),
                pl.col("person_id").replace_strict(stems, default=None),
            )
        )
        .otherwise(pl.lit(""))
        .alias("packet")
    )


def write_packets(out_dir: Path, decided: pl.DataFrame, as_of: date | None = None) -> int:
    """A PDF and a DOCX packet per person with a covered count, in `out_dir/packets/`; returns
    how many people got one."""
    covered = _covered(decided)
    folder = out_dir / PACKETS_DIR
    if not covered.height:
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    totals = decided.group_by("person_id").len()
    total_of = dict(zip(totals["person_id"], totals["len"], strict=True))
    stems = packet_files(decided)
    stamp = as_of or CUTOFF_2023
    people = covered.partition_by("person_id", as_dict=True, maintain_order=True)
    for (person_id,), rows in people.items():
        document = packet_document(rows, int(total_of[person_id]) - rows.height, as_of)
        laid = layout_document(document)
        stem = stems[str(person_id)]
        write_laid_out([laid], folder / f"{stem}.pdf")
        render_docx(laid, folder / f"{stem}.docx", stamp)
    return len(people)
