"""`write_letters`: one PDF per person (each language on its own pages), a mail-merge CSV keyed
by SUBJECT_ID, and a summary.

Files (in RUN/letters, or the folder given):

- ``<SUBJECT_ID>.pdf``: the person's letter in each language (the address file's `language`
  column, when given, picks one), in the filings' embedded DejaVu fonts;
- ``letters.csv``: one row per person: SUBJECT_ID, CII, name, the address block, the
  convictions named (case numbers and count ids), the PDF's name, and per language the subject,
  greeting and body text, for a word processor's mail merge;
- ``letters.json``: people written, convictions named, people left out (deceased, nothing to
  name), address rows matched and not, languages;
- ``addresses-unmatched.csv``: address rows not used, with their line and reason.

These files identify people: they are for the office's mail room, never for a public filing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.outputs.filings.data import (
    FilingsError,
    load_run,
    policy_filing_values,
)
from clearance.outputs.folder import list_in_run, whole_folder
from clearance.outputs.letters.people import (
    ADDRESS_COLUMNS,
    Addresses,
    LettersError,
    display_name,
    read_addresses,
    recipients,
)
from clearance.outputs.letters.templates import LetterTemplate, load_templates, long_date
from clearance.outputs.reconcile import manifest_order_date

#: Letters need who sends them and a telephone number to call.
REQUIRED_OFFICE = ("office", "phone")


@dataclass(frozen=True)
class Letter:
    """One language's letter for one person, as text."""

    language: str
    subject: str
    greeting: str
    intro: list[str]
    convictions: list[str]
    meaning: list[str]
    record: list[str]
    contact: str
    closing: str

    def body(self) -> str:
        """The letter's text between greeting and closing (paragraphs by blank lines)."""
        parts = [*self.intro, "\n".join(f"- {c}" for c in self.convictions), *self.meaning]
        parts += [*self.record, self.contact]
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class LettersResult:
    out_dir: Path
    files: tuple[str, ...]
    summary: dict[str, Any]


def office_details(values: dict[str, str], overrides: dict[str, str | None]) -> dict[str, str]:
    """The sender: the policy's filing block with the non-empty options on top."""
    merged = {k: v for k, v in values.items()}
    for key, value in overrides.items():
        if value is not None and value.strip():
            merged[key] = value.strip()
    missing = [key for key in REQUIRED_OFFICE if not merged.get(key)]
    if missing:
        raise LettersError(
            f"letters need {' and '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} "
            "in the policy's filing block or pass " + " ".join(f"--{key} TEXT" for key in missing)
        )
    return {
        "name": merged["office"],
        "phone": merged["phone"],
        "email": merged.get("email", ""),
        "address": merged.get("office_address", ""),
        "signer": merged.get("signer", ""),
    }


def _court(county: str | None) -> str:
    return f"Superior Court of California, County of {(county or 'unknown').title()}"


def build_letter(
    template: LetterTemplate,
    person: dict[str, str],
    rows: list[dict[str, Any]],
    office: dict[str, str],
    order_date: date | None,
    day: date,
) -> Letter:
    """One person's letter in the template's language."""
    language = template.language
    convictions = [
        {
            "section": row["code_section"] or "",
            "case": row["court_case_number"] or "",
            "count": str(int(row["count_id"][6:9])) if str(row["count_id"]).isdigit() else "",
            "court": _court(row["county"]),
            "conviction_date": long_date(row["conviction_date"], language),
            "change": row["change"],
            "level": row["new_level_ordered"],
        }
        for row in rows
    ]
    kinds = {c["change"] for c in convictions}
    flags = {
        kind: kind in kinds
        for kind in (
            "dismissed_sealed",
            "reduced",
            "recall_dismissed",
            "recall_reduced",
            "dismissed_pc1385",
        )
    }
    flags["recall"] = flags["recall_dismissed"] or flags["recall_reduced"]
    context: dict[str, Any] = {
        "person": person,
        "office": office,
        "convictions": convictions,
        "any": flags,
        "order_date": long_date(order_date, language),
        "date": long_date(day, language),
        "language": language,
    }
    return Letter(
        language=language,
        subject=template.block("subject", context),
        greeting=template.block("greeting", context),
        intro=template.paragraphs("intro", context),
        convictions=[
            " ".join(template.block("conviction", {**context, "c": c}).split()) for c in convictions
        ],
        meaning=template.paragraphs("meaning", context),
        record=template.paragraphs("record", context),
        contact=" ".join(template.block("contact", context).split()),
        closing=template.block("closing", context),
    )


def render_letters_pdf(
    path: Path,
    letters: list[Letter],
    office: dict[str, str],
    envelope: list[str],
    dates: dict[str, str],
) -> None:
    """The person's PDF: each language from a new page, letterhead, address block (placed for
    a window envelope), subject, text, the list of convictions, signature."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter as letter_size
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import (
        KeepTogether,
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    from clearance.outputs.filings.fonts import font_name
    from clearance.outputs.filings.model import esc
    from clearance.outputs.filings.pdf import binary_streams

    regular, bold = font_name("serif"), font_name("serif", bold=True)
    base = ParagraphStyle("base", fontName=regular, fontSize=10.5, leading=13.5, spaceAfter=6)
    head = ParagraphStyle("head", parent=base, fontName=bold, fontSize=13, leading=16)
    small = ParagraphStyle(
        "small", parent=base, fontSize=9, leading=11.5, textColor=colors.Color(0.3, 0.3, 0.3)
    )
    strong = ParagraphStyle("strong", parent=base, fontName=bold)
    story: list[Any] = []
    for index, text in enumerate(letters):
        if index:
            story.append(PageBreak())
        letterhead = [
            office["name"],
            office.get("address", ""),
            office["phone"],
            office.get("email", ""),
        ]
        story.append(Paragraph(esc(letterhead[0]), head))
        story.append(Paragraph("<br/>".join(esc(x) for x in letterhead[1:] if x), small))
        story.append(Spacer(1, 10))
        story.append(Paragraph(esc(dates[text.language]), base))
        story.append(Spacer(1, 6))
        story.append(Paragraph("<br/>".join(esc(line) for line in envelope), base))
        story.append(Spacer(1, 14))
        story.append(Paragraph(esc(text.subject), strong))
        story.append(Paragraph(esc(text.greeting), base))
        story += [Paragraph(esc(p), base) for p in text.intro]
        items = [ListItem(Paragraph(esc(c), base), leftIndent=14) for c in text.convictions]
        story.append(
            ListFlowable(
                items, bulletType="bullet", start="•", leftIndent=14, bulletFontName=regular
            )
        )
        story += [Paragraph(esc(p), base) for p in (*text.meaning, *text.record, text.contact)]
        closing = [Paragraph(esc(text.closing), base), Spacer(1, 12)]
        if office.get("signer"):
            closing.append(Paragraph(esc(office["signer"]), base))
        closing.append(Paragraph(esc(office["name"]), base))
        story.append(KeepTogether(closing))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.drawCentredString(letter_size[0] / 2, 30, f"{doc.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=letter_size,
        leftMargin=72,
        rightMargin=72,
        topMargin=54,
        bottomMargin=54,
        title=letters[0].subject,
        author=office["name"],
        creator="clearance",
        lang=letters[0].language,
        invariant=1,
        initialFontName=regular,
    )
    with binary_streams():
        document.build(story, onFirstPage=footer, onLaterPages=footer)


def write_letters(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    reconciled: Path | None = None,
    addresses: Path | None = None,
    templates: Path | None = None,
    languages: list[str] | None = None,
    office: dict[str, str | None] | None = None,
    order_date: date | None = None,
    letter_date: date | None = None,
) -> LettersResult:
    """Write the letters of a run (see the module). Raises `LettersError` or
    `TemplateError` (one line) before anything is written."""
    try:
        run = load_run(run_dir)
    except FilingsError as exc:
        raise LettersError(str(exc)) from None
    loaded = load_templates(templates, languages)
    sender = office_details(policy_filing_values(run.policy), office or {})
    chosen = recipients(run, reconciled)
    rows = chosen.convictions
    people = rows.select("subject_id", "cii_number", "name").unique("subject_id", keep="first")
    people = people.sort("subject_id")
    book = (
        read_addresses(addresses, people)
        if addresses is not None
        else Addresses(by_subject={}, unmatched=pl.DataFrame(), rows_read=0)
    )
    order = order_date or manifest_order_date(run_dir)
    day = letter_date or run.as_of
    by_language = {t.language: t for t in loaded}
    target = out_dir if out_dir is not None else run_dir / "letters"
    with whole_folder(target, "letters") as out:
        merge: list[dict[str, Any]] = []
        grouped = rows.partition_by("subject_id", as_dict=True, maintain_order=True)
        for person in people.iter_rows(named=True):
            subject_id = person["subject_id"]
            mine = grouped[(subject_id,)].to_dicts()
            name = display_name(person["name"])
            address = book.by_subject.get(subject_id, {})
            wanted = address.get("language", "").strip().lower()
            chosen_templates = [by_language[wanted]] if wanted in by_language else loaded
            context_person = {"name": name, "subject_id": subject_id}
            letters = [
                build_letter(t, context_person, mine, sender, order, day) for t in chosen_templates
            ]
            city_line = " ".join(
                x
                for x in (
                    f"{address.get('city', '')},".strip(","),
                    address.get("state", ""),
                    address.get("zip", ""),
                )
                if x
            )
            envelope = [name] + [
                x
                for x in (
                    address.get("address_line1", ""),
                    address.get("address_line2", ""),
                    city_line,
                )
                if x
            ]
            file_name = f"{subject_id}.pdf"
            render_letters_pdf(
                out / file_name,
                letters,
                sender,
                envelope,
                {t.language: long_date(day, t.language) for t in chosen_templates},
            )
            entry: dict[str, Any] = {
                "subject_id": subject_id,
                "cii_number": person["cii_number"],
                "name": name,
                **{c: address.get(c, "") for c in ADDRESS_COLUMNS},
                "has_address": "yes" if address else "no",
                "languages": ";".join(t.language for t in chosen_templates),
                "convictions": len(mine),
                "case_numbers": ";".join(sorted({r["court_case_number"] or "" for r in mine})),
                "count_ids": ";".join(r["count_id"] for r in mine),
                "letter_file": file_name,
            }
            for code in by_language:
                text = next((x for x in letters if x.language == code), None)
                entry[f"subject_{code}"] = text.subject if text else ""
                entry[f"greeting_{code}"] = text.greeting if text else ""
                entry[f"body_{code}"] = text.body() if text else ""
                entry[f"closing_{code}"] = text.closing if text else ""
            merge.append(entry)
        files = [f"{p['subject_id']}.pdf" for p in people.iter_rows(named=True)]
        pl.DataFrame(merge, infer_schema_length=None).write_csv(out / "letters.csv")
        files.append("letters.csv")
        if addresses is not None:
            book.unmatched.write_csv(out / "addresses-unmatched.csv")
            files.append("addresses-unmatched.csv")
        summary = {
            "run": run_dir.name,
            "letters": people.height,
            "convictions_named": rows.height,
            "by_change": dict(sorted(rows.group_by("change").len().iter_rows())),
            "left_out": {"deceased": chosen.deceased, "nothing_to_name": chosen.nothing_to_name},
            "only_reflected": reconciled is not None,
            "languages": [t.language for t in loaded],
            "addresses": {
                "rows_read": book.rows_read,
                "matched": len(book.by_subject),
                "unmatched": book.unmatched.height,
                "people_without_address": people.height
                - sum(1 for s in people["subject_id"].to_list() if s in book.by_subject),
            },
            "date": day.isoformat(),
            "order_date": order.isoformat() if order else None,
        }
        (out / "letters.json").write_text(
            json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        files.append("letters.json")
    list_in_run(run_dir, target)
    return LettersResult(out_dir=target, files=tuple(files), summary=summary)
