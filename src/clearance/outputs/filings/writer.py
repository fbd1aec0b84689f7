"""`write_filings`: every document of a run, written to one folder with a manifest.

What is written (per court; a run covers one county, whose Superior Court is the court):

- ``motion-<court>-<group>.pdf|.docx`` and ``order-<court>-<group>.pdf|.docx`` for each relief
  group with convictions: dismiss-seal, redesignate, recall-resentence (people still serving,
  HS 11361.8(b)); each with Exhibit A listing every conviction of the group;
- ``challenge-<court>.pdf|.docx``: the convictions the People challenge, with the grounds;
- ``court-update-<court>.csv``: one row per count the orders relieve (see `court_update`);
- ``report.html``, ``report.pdf``: the impact report; ``review.xlsx``: the review workbook;
- ``packets/<SUBJECT_ID>.pdf`` with `per_person` (everyone relieved) or `subject` (one person);
- ``manifest.json``: each file with what it holds (rows, people), for the office's records.

Filing details are checked before anything is written, so a missing signer never leaves half a
set of filings behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.outputs.filings.data import (
    FilingInfo,
    FilingsError,
    RunData,
    load_run,
    resolve_filing,
    rules_used,
    slug,
)
from clearance.outputs.filings.exhibit import GROUPS, relief_group

#: Folder of the per-person packets inside the filings folder.
PACKETS_DIR = "packets"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FilingsResult:
    """What `write_filings` wrote."""

    out_dir: Path
    #: Files written, relative to `out_dir`, in the order written (packets not listed).
    files: tuple[str, ...]
    #: Per filing file stem: convictions listed.
    rows: dict[str, int]
    packets: int
    manifest: dict[str, Any]


def _court_filing(info: FilingInfo, run: RunData, court: str) -> FilingInfo:
    """The filing details for a court: the policy's court is the run county's court."""
    if court == run.county:
        return info
    return replace(
        info,
        court_name=f"Superior Court of California, County of {court.title()}",
        court_address="",
    )


def write_filings(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    filing: Mapping[str, str | None] | None = None,
    per_person: bool = False,
    subject: str | None = None,
    order_date: date | None = None,
    docx: bool = True,
    progress: Progress | None = None,
) -> FilingsResult:
    """Write the filings of the run in `run_dir` to `out_dir` (default `run_dir/filings`).

    `filing` overrides the policy's filing block (keys office, signer, bar_number, court_name,
    court_address; None or blank keeps the policy's value). `order_date` fills the court
    update file's order date. Raises `FilingsError` (one line, no personal data) for a folder
    that is not a run, missing filing details, or a `subject` with nothing to file.
    """
    from clearance.outputs.filings.challenge import challenge_document
    from clearance.outputs.filings.court_update import court_update_frame, write_court_update
    from clearance.outputs.filings.docx_writer import render_docx
    from clearance.outputs.filings.exhibit import challenge_exhibit, relief_exhibit
    from clearance.outputs.filings.motion import motion_document, order_document
    from clearance.outputs.filings.packet import iter_packets, packet_subjects
    from clearance.outputs.filings.pdf import layout_exhibit, render_pdf
    from clearance.outputs.filings.report import FilingCount, write_report
    from clearance.outputs.filings.workbook import write_workbook

    def step(message: str) -> None:
        if progress is not None:
            progress(message)

    run = load_run(run_dir)
    info = resolve_filing(run.policy, filing)
    people = packet_subjects(run.convictions) if (per_person or subject is not None) else []
    if subject is not None:
        if subject not in set(people):
            raise FilingsError(
                "no conviction of that SUBJECT_ID is dismissed or reduced in this run: there is "
                "no petition to write (see `clearance explain`)"
            )
        people = [subject]
    out = out_dir if out_dir is not None else run_dir / "filings"
    out.mkdir(parents=True, exist_ok=True)
    rules = rules_used(run.policy, run.as_of)
    convictions = run.convictions
    files: list[str] = []
    rows: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    counts: list[FilingCount] = []

    def record(name: str, kind: str, n: int | None, people_n: int | None, **extra: Any) -> None:
        files.append(name)
        entry: dict[str, Any] = {"file": name, "kind": kind, **extra}
        if n is not None:
            entry["convictions"] = n
        if people_n is not None:
            entry["people"] = people_n
        entries.append(entry)

    courts = sorted(convictions["county"].drop_nulls().unique().to_list())
    for court in courts:
        court_info = _court_filing(info, run, court)
        court_slug = slug(court)
        order_files: dict[str, str] = {}
        for group in GROUPS:
            exhibit = relief_exhibit(convictions, group, court)
            if exhibit.frame.height == 0:
                continue
            step(f"{group.title.lower()}: laying out {exhibit.frame.height:,} rows")
            layout = layout_exhibit(exhibit)
            for kind, build in (("motion", motion_document), ("order", order_document)):
                stem = f"{kind}-{court_slug}-{group.key}"
                document = build(run, court_info, group, exhibit)
                step(f"writing {stem}.pdf")
                render_pdf([document], out / f"{stem}.pdf", [layout])
                record(
                    f"{stem}.pdf",
                    kind,
                    exhibit.frame.height,
                    exhibit.people,
                    court=court,
                    group=group.key,
                )
                if docx:
                    step(f"writing {stem}.docx")
                    render_docx(document, out / f"{stem}.docx", run.as_of)
                    record(
                        f"{stem}.docx",
                        kind,
                        exhibit.frame.height,
                        exhibit.people,
                        court=court,
                        group=group.key,
                    )
                rows[stem] = exhibit.frame.height
            order_files[group.key] = f"order-{court_slug}-{group.key}"
            counts.append(
                FilingCount(
                    f"{group.title} (motion and order)",
                    f"motion-{court_slug}-{group.key}.pdf",
                    exhibit.frame.height,
                    exhibit.people,
                )
            )
        challenged = challenge_exhibit(convictions, court, rules)
        stem = f"challenge-{court_slug}"
        step(f"writing {stem}.pdf")
        notice = challenge_document(run, court_info, challenged)
        render_pdf([notice], out / f"{stem}.pdf")
        record(f"{stem}.pdf", "challenge", challenged.frame.height, challenged.people, court=court)
        if docx:
            render_docx(notice, out / f"{stem}.docx", run.as_of)
            record(
                f"{stem}.docx", "challenge", challenged.frame.height, challenged.people, court=court
            )
        rows[stem] = challenged.frame.height
        counts.append(
            FilingCount(
                "Challenged (notice to court and public defender)",
                f"{stem}.pdf",
                challenged.frame.height,
                challenged.people,
            )
        )
        update = court_update_frame(
            convictions, court, court_info.court_name, order_files, order_date
        )
        name = f"court-update-{court_slug}.csv"
        step(f"writing {name}")
        write_court_update(update, out / name)
        record(
            name,
            "court_update",
            update.height,
            int(update["subject_id"].n_unique()) if update.height else 0,
            court=court,
        )
    step("writing report.html and report.pdf")
    write_report(run, rules, out, counts)
    record("report.html", "report", None, None)
    record("report.pdf", "report", None, None)
    step("writing review.xlsx")
    sheets = write_workbook(convictions, out / "review.xlsx", run.as_of)
    record("review.xlsx", "review_workbook", sum(sheets.values()), None, sheets=sheets)
    packets = 0
    if people:
        folder = out / PACKETS_DIR
        folder.mkdir(exist_ok=True)
        step(f"writing {len(people):,} per-person packets")
        for path, documents in iter_packets(convictions, info, people, folder):
            render_pdf(documents, path)
            packets += 1
        entries.append({"file": f"{PACKETS_DIR}/", "kind": "packets", "packets": packets})
    manifest: dict[str, Any] = {
        "run": run_dir.name,
        "county": run.county,
        "as_of": run.as_of.isoformat(),
        "policy": run.summary.get("policy", {}).get("name", run.policy.name),
        "court": info.court_name,
        "office": info.office,
        "order_date": order_date.isoformat() if order_date else None,
        "relieved_convictions": int(convictions.filter(relief_group().is_not_null()).height),
        "challenged_convictions": int(
            convictions.filter(pl.col("decision") == "not_eligible").height
        ),
        "review_convictions": int(convictions.filter(pl.col("decision") == "review").height),
        "files": entries,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    files.append("manifest.json")
    return FilingsResult(
        out_dir=out, files=tuple(files), rows=rows, packets=packets, manifest=manifest
    )
