"""Writing a filing set: every document of a classified run into one folder (see `writer.py`
for what is written and how a build is made atomic).

Kept apart from `writer.py` so that the heavy libraries (ReportLab, python-docx, openpyxl,
matplotlib) load only when documents are written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.law.rule import Rule
from clearance.outputs.filings.challenge import challenge_document
from clearance.outputs.filings.court_update import court_update_frame, write_court_update
from clearance.outputs.filings.data import FilingInfo, ReviewScope, RunData, slug
from clearance.outputs.filings.docx_writer import render_docx
from clearance.outputs.filings.exhibit import (
    challenge_exhibits,
    challenge_rows,
    confidential_relief_exhibit,
    group_rows,
    needs_case_list,
    public_relief_exhibit,
    review_list,
    sort_for_filing,
)
from clearance.outputs.filings.groups import GROUPS, ReliefGroup
from clearance.outputs.filings.layout import layout_document, layout_exhibit
from clearance.outputs.filings.motion import (
    exhibit_b_document,
    motion_document,
    order_document,
    policy_criteria,
)
from clearance.outputs.filings.packet import Counsel, PacketKind, iter_packets
from clearance.outputs.filings.pdf import render_pdf, write_laid_out
from clearance.outputs.filings.report import FilingCount, FilingStatus, write_report
from clearance.outputs.filings.review import (
    OFFICES,
    list_document,
    needs_case_paragraphs,
    review_paragraphs,
    write_csv,
)
from clearance.outputs.filings.workbook import write_workbook
from clearance.outputs.filings.writer import PACKETS_DIR, FilingsResult

Step = Callable[[str], None]


@dataclass
class _Written:
    """What has been written, for the result and the manifest."""

    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    counts: list[FilingCount] = field(default_factory=list)

    def add(
        self,
        name: str,
        kind: str,
        access: str,
        frame: pl.DataFrame | None = None,
        **extra: Any,
    ) -> None:
        self.files.append(name)
        entry: dict[str, Any] = {"file": name, "kind": kind, "access": access, **extra}
        if frame is not None:
            entry["convictions"] = frame.height
            entry["people"] = people_of(frame)
        self.entries.append(entry)


def people_of(frame: pl.DataFrame) -> int:
    return int(frame["subject_id"].n_unique()) if frame.height else 0


def numbered(rows: pl.DataFrame) -> pl.DataFrame:
    """A list's rows in filing order, numbered."""
    return sort_for_filing(rows).with_columns(
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("row")
    )


def court_filing(info: FilingInfo, run: RunData, court: str) -> FilingInfo:
    """The filing details for a court: the policy's court is the run county's court."""
    if court == run.county:
        return info
    return replace(
        info,
        court_name=f"Superior Court of California, County of {court.title()}",
        court_address="",
    )


def _dates(*columns: str) -> list[pl.Expr]:
    return [pl.col(c).dt.to_string("%Y-%m-%d") for c in columns]


def _group(
    run: RunData,
    info: FilingInfo,
    rules: tuple[Rule, ...],
    group: ReliefGroup,
    rows: pl.DataFrame,
    court: str,
    out: Path,
    docx: bool,
    written: _Written,
    declaration_lines: list[str],
    step: Step,
) -> None:
    """The motion and order (or the notice) of one group in one court, and its Exhibit B."""
    court_slug = slug(court)
    differs = int(rows["level_differs"].sum()) if group.kind == "statute" else 0
    if differs:
        declaration_lines = [
            *declaration_lines,
            f"{differs:,} listed conviction{'s are' if differs != 1 else ' is'} asked at the "
            "level the statute sets, which is not the level the office's decision recorded: a "
            "conviction the People do not challenge is redesignated or resentenced at the "
            "statute's level (Health and Safety Code sections 11361.8, 11361.9).",
        ]
    recall = group.serving and group.document == "motion"
    title = f"{group.title} ({group.authority})"
    exhibit_a = public_relief_exhibit(rows, title, recall)
    exhibit_b = confidential_relief_exhibit(rows, title, recall)
    criteria = policy_criteria(rows, rules) if group.kind != "statute" else []
    step(f"{group.title.lower()}: laying out {rows.height:,} rows")
    layout = layout_exhibit(exhibit_a)
    first_kind = "notice" if group.document == "notice" else "motion"
    documents = [
        (first_kind, motion_document(run, info, group, exhibit_a, criteria, declaration_lines))
    ]
    if group.document == "motion":
        documents.append(("order", order_document(run, info, group, exhibit_a)))
    for kind, document in documents:
        stem = f"{kind}-{court_slug}-{group.key}"
        step(f"writing {stem}.pdf")
        laid = layout_document(document, layout)
        write_laid_out([laid], out / f"{stem}.pdf")
        written.add(f"{stem}.pdf", kind, "public", rows, court=court, group=group.key)
        if docx:
            step(f"writing {stem}.docx")
            render_docx(laid, out / f"{stem}.docx", run.as_of)
            written.add(f"{stem}.docx", kind, "public", rows, court=court, group=group.key)
        written.rows[stem] = rows.height
    first = documents[0][1]
    name = f"exhibit-b-{court_slug}-{group.key}.pdf"
    step(f"writing {name}")
    write_laid_out(
        [layout_document(exhibit_b_document(info, first.title, first.short_title, exhibit_b))],
        out / name,
    )
    written.add(name, "exhibit_b", "confidential", rows, court=court, group=group.key)
    written.counts.append(
        FilingCount(
            title, f"{first_kind}-{court_slug}-{group.key}.pdf", rows.height, people_of(rows)
        )
    )


def _challenge(
    run: RunData,
    info: FilingInfo,
    rules: tuple[Rule, ...],
    classified: pl.DataFrame,
    court: str,
    in_review: dict[str, int],
    out: Path,
    docx: bool,
    written: _Written,
    step: Step,
) -> int:
    """The challenge notice and its Exhibit B; returns the rows on the public-safety ground."""
    court_slug = slug(court)
    rows = challenge_rows(classified, court)
    safety = int(rows["public_safety"].sum()) if rows.height else 0
    exhibit_a, exhibit_b = challenge_exhibits(rows, rules)
    stem = f"challenge-{court_slug}"
    step(f"writing {stem}.pdf")
    notice = challenge_document(run, info, exhibit_a, in_review, safety)
    laid = layout_document(notice)
    write_laid_out([laid], out / f"{stem}.pdf")
    written.add(f"{stem}.pdf", "challenge", "public", rows, court=court)
    if docx:
        render_docx(laid, out / f"{stem}.docx", run.as_of)
        written.add(f"{stem}.docx", "challenge", "public", rows, court=court)
    written.rows[stem] = rows.height
    if rows.height:
        name = f"exhibit-b-{court_slug}-challenge.pdf"
        write_laid_out(
            [
                layout_document(
                    exhibit_b_document(info, notice.title, notice.short_title, exhibit_b)
                )
            ],
            out / name,
        )
        written.add(name, "exhibit_b", "confidential", rows, court=court, group="challenge")
    written.counts.append(
        FilingCount(
            "Challenged (notice to court and public defender)",
            f"{stem}.pdf",
            rows.height,
            people_of(rows),
        )
    )
    return safety


def _review_lists(
    run: RunData,
    info: FilingInfo,
    rules: tuple[Rule, ...],
    here: pl.DataFrame,
    court: str,
    out: Path,
    written: _Written,
    step: Step,
) -> None:
    """What remains in review, per office (the city attorneys' list where the policy refers
    convictions to them)."""
    refers = any(
        r.source == "policy" and r.outcome == "review" and "city attorney" in r.text.lower()
        for r in rules
    )
    for office, title in OFFICES.items():
        rows = numbered(here.filter(pl.col("office") == office))
        if office == "city_attorney" and not rows.height and not refers:
            continue
        stem = f"review-{slug(court)}-{office.replace('_', '-')}"
        step(f"writing {stem}")
        write_csv(
            rows.select(
                "row",
                pl.lit(office).alias("office"),
                "court_case_number",
                "subject_id",
                "count_id",
                "name",
                *_dates("dob"),
                "cii_number",
                "code_section",
                *_dates("conviction_date"),
                "offense_level",
                "reasons",
                "explanation",
            ),
            out / f"{stem}.csv",
            keep=("subject_id", "count_id"),
        )
        written.add(f"{stem}.csv", "review_list", "confidential", rows, court=court, office=office)
        document = list_document(
            f"In review: {title}, {court.title()} County",
            f"Review list ({title})",
            review_paragraphs(office, rows.height, run.as_of),
            review_list(rows, rules, f"Convictions in review: {title}"),
            info.office,
        )
        render_pdf([document], out / f"{stem}.pdf")
        written.add(f"{stem}.pdf", "review_list", "confidential", rows, court=court, office=office)


def _held(info: FilingInfo, here: pl.DataFrame, court: str, out: Path, written: _Written) -> int:
    """Counts held for a court case number: the CSV to fill in and the clerk's PDF."""
    rows = numbered(here.filter(pl.col("held_group").is_not_null()))
    if not rows.height:
        return 0
    stem = f"needs-case-number-{slug(court)}"
    write_csv(
        rows.select(
            "row",
            "subject_id",
            "count_id",
            pl.lit("", dtype=pl.String).alias("court_case_number"),
            "name",
            *_dates("dob"),
            "cii_number",
            "code_section",
            *_dates("conviction_date"),
            "county",
            pl.col("held_group").alias("filing"),
            "source",
        ),
        out / f"{stem}.csv",
        keep=("subject_id", "count_id", "court_case_number"),
    )
    written.add(f"{stem}.csv", "needs_case_number", "confidential", rows, court=court)
    document = list_document(
        f"Needs a court case number: {court.title()} County",
        "Counts held for a court case number",
        needs_case_paragraphs(rows.height, f"{stem}.csv"),
        needs_case_list(rows),
        info.office,
    )
    render_pdf([document], out / f"{stem}.pdf")
    written.add(f"{stem}.pdf", "needs_case_number", "confidential", rows, court=court)
    return rows.height


def _not_filed(here: pl.DataFrame, court: str, out: Path, written: _Written) -> pl.DataFrame:
    """Relieved counts no authority covers, with why (never silently dropped)."""
    rows = here.filter(
        pl.col("unfiled_reason").is_not_null()
        & pl.col("held_group").is_null()
        & ~pl.col("public_safety")
    )
    if rows.height:
        stem = f"not-filed-{slug(court)}"
        write_csv(
            numbered(rows).select(
                "row",
                "subject_id",
                "count_id",
                "court_case_number",
                "code_section",
                "decision",
                "new_level",
                "unfiled_reason",
                "reasons",
            ),
            out / f"{stem}.csv",
            keep=("subject_id", "count_id"),
        )
        written.add(f"{stem}.csv", "not_filed", "confidential", rows, court=court)
    return rows


def write_all(
    run: RunData,
    info: FilingInfo,
    rules: tuple[Rule, ...],
    classified: pl.DataFrame,
    out: Path,
    *,
    order_date: date | None,
    docx: bool,
    progress: Callable[[str], None] | None,
    people: list[str],
    packets: PacketKind,
    counsel: Counsel | None,
    review: ReviewScope | None = None,
) -> FilingsResult:
    """Every file of the set into `out` (an empty folder), the manifest last."""

    def step(message: str) -> None:
        if progress is not None:
            progress(message)

    written = _Written()
    in_review: dict[str, int] = {}
    held = safety = 0
    unfiled_parts: list[pl.DataFrame] = []
    for court in sorted(classified["county"].drop_nulls().unique().to_list()):
        court_info = court_filing(info, run, court)
        here = classified.filter(pl.col("county") == court)
        review_here = {o: here.filter(pl.col("office") == o).height for o in OFFICES}
        for office, n in review_here.items():
            in_review[office] = in_review.get(office, 0) + n
        waiting = here.filter(pl.col("held_group").is_not_null()).height
        lines = (
            [
                f"{waiting:,} count{'s' if waiting != 1 else ''} the People would ask relief for "
                f"{'have' if waiting != 1 else 'has'} no court case number in the record and "
                f"{'are' if waiting != 1 else 'is'} held out of every order until one is "
                "supplied."
            ]
            if waiting
            else []
        )
        order_files: dict[str, str] = {}
        for group in GROUPS:
            rows = group_rows(classified, group.key, court)
            if rows.height:
                _group(run, court_info, rules, group, rows, court, out, docx, written, lines, step)
                if group.document == "motion":
                    order_files[group.key] = f"order-{slug(court)}-{group.key}"
        safety += _challenge(
            run, court_info, rules, classified, court, review_here, out, docx, written, step
        )
        _review_lists(run, court_info, rules, here, court, out, written, step)
        held += _held(court_info, here, court, out, written)
        unfiled_parts.append(_not_filed(here, court, out, written))
        update = court_update_frame(
            classified, court, court_info.court_name, order_files, order_date
        )
        name = f"court-update-{slug(court)}.csv"
        step(f"writing {name}")
        write_court_update(update, out / name)
        written.add(name, "court_update", "confidential", update, court=court)
    unfiled = pl.concat(unfiled_parts) if unfiled_parts else classified.clear()
    status = FilingStatus(
        in_review=in_review,
        held=held,
        not_filed=dict(unfiled.group_by("unfiled_reason").len().sort("unfiled_reason").iter_rows()),
        public_safety=safety,
        as_of=run.as_of,
        pending_held=review.held if review else 0,
        pending_included=review.included if review else 0,
    )
    step("writing report.html and report.pdf")
    write_report(run, rules, out, written.counts, status, info.office)
    written.add("report.html", "report", "public")
    written.add("report.pdf", "report", "public")
    step("writing review.xlsx")
    sheets = write_workbook(run.convictions, out / "review.xlsx", run.as_of)
    written.add("review.xlsx", "review_workbook", "confidential", sheets=sheets)
    written.entries[-1]["convictions"] = sum(sheets.values())
    n_packets = 0
    if people:
        folder = out / PACKETS_DIR
        folder.mkdir(exist_ok=True)
        step(f"writing {len(people):,} per-person packets")
        for path, documents in iter_packets(classified, info, people, folder, packets, counsel):
            render_pdf(documents, path)
            n_packets += 1
        written.entries.append(
            {
                "file": f"{PACKETS_DIR}/",
                "kind": "packets",
                "access": "per-case",
                "packets": n_packets,
                "filed_by": packets,
            }
        )
    manifest: dict[str, Any] = {
        "run": run.run_dir.name,
        "county": run.county,
        "as_of": run.as_of.isoformat(),
        "policy": run.summary.get("policy", {}).get("name", run.policy.name),
        "court": info.court_name,
        "office": info.office,
        "order_date": order_date.isoformat() if order_date else None,
        "policy_authority": {
            "serving": info.policy_authority_serving,
            "completed": info.policy_authority_completed,
        },
        "ordered_convictions": classified.filter(pl.col("order_group").is_not_null()).height,
        "noticed_convictions": classified.filter(pl.col("notice_group").is_not_null()).height,
        "challenged_convictions": classified.filter(
            (pl.col("decision") == "not_eligible") | pl.col("public_safety")
        ).height,
        "review_convictions": in_review,
        "held_for_case_number": held,
        "not_filed_convictions": unfiled.height,
        "files": written.entries,
    }
    if review is not None:
        manifest["review"] = review.manifest()
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    written.files.append("manifest.json")
    return FilingsResult(
        out_dir=out,
        files=tuple(written.files),
        rows=written.rows,
        packets=n_packets,
        manifest=manifest,
    )
