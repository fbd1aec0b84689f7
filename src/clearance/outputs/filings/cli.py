"""`clearance filings`: write the motions, orders, notices, court file, report and workbook of a
run folder.

Like every `clearance` command it prints what it wrote in plain words and stops with one line
and exit status 2 on input the user can fix (not a run folder, a missing filing detail); it
never prints a name, a date of birth or an identifier from the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.status import Status
from rich.table import Table

out = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _status(quiet: bool) -> Iterator[Status | None]:
    """A spinner whose text follows the step being written (nothing when quiet or piped)."""
    if quiet or not err.is_terminal:
        yield None
        return
    with err.status("writing filings") as status:
        yield status


OfficeOpt = Annotated[
    str | None, typer.Option("--office", help="Filing office (overrides filing.office).")
]
SignerOpt = Annotated[
    str | None, typer.Option("--signer", help="Attorney who signs (filing.signer).")
]
BarOpt = Annotated[str | None, typer.Option("--bar-number", help="Signer's State Bar number.")]
AddressOpt = Annotated[
    str | None, typer.Option("--office-address", help="Office mailing address (rule 2.111).")
]
PhoneOpt = Annotated[str | None, typer.Option("--phone", help="Office telephone (rule 2.111).")]
EmailOpt = Annotated[str | None, typer.Option("--email", help="Signer's email (rule 2.111).")]
CourtOpt = Annotated[str | None, typer.Option("--court-name", help="Court of the caption.")]
CourtAddressOpt = Annotated[str | None, typer.Option("--court-address", help="Court's address.")]
ServingOpt = Annotated[
    str | None,
    typer.Option(
        "--policy-authority-serving",
        help="Authority for dismissals beyond the statute, sentence not complete: pc1385 or "
        "statute (docs/filings.md).",
    ),
]
CompletedOpt = Annotated[
    str | None,
    typer.Option(
        "--policy-authority-completed",
        help="Authority for dismissals beyond the statute, sentence complete: pc1203.4 or "
        "statute (docs/filings.md).",
    ),
]
FilingPairsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filing",
        help="A filing detail as KEY=VALUE (office, signer, bar_number, office_address, phone, "
        "email, court_name, court_address, policy_authority_serving, "
        "policy_authority_completed); repeat for each.",
        show_default=False,
    ),
]


def filings(
    run_dir: Annotated[
        Path, typer.Option("--run", help="Folder written by `clearance run`.", show_default=False)
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the filings (default: RUN/filings)."),
    ] = None,
    office: OfficeOpt = None,
    signer: SignerOpt = None,
    bar_number: BarOpt = None,
    office_address: AddressOpt = None,
    phone: PhoneOpt = None,
    email: EmailOpt = None,
    court_name: CourtOpt = None,
    court_address: CourtAddressOpt = None,
    policy_authority_serving: ServingOpt = None,
    policy_authority_completed: CompletedOpt = None,
    filing_pairs: FilingPairsOpt = None,
    case_numbers: Annotated[
        Path | None,
        typer.Option(
            "--case-numbers",
            help="CSV of court case numbers the record lacks (needs-case-number-*.csv filled "
            "in: subject_id, count_id, court_case_number).",
        ),
    ] = None,
    public_safety: Annotated[
        Path | None,
        typer.Option(
            "--public-safety",
            help="CSV of counts of people still serving that the office challenges as an "
            "unreasonable risk to public safety (subject_id, count_id, optional note).",
        ),
    ] = None,
    per_person: Annotated[
        bool,
        typer.Option("--per-person", help="Also write a packet for every person with relief."),
    ] = False,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="Also write the packet of this one SUBJECT_ID."),
    ] = None,
    packets: Annotated[
        str,
        typer.Option(
            "--packets",
            help="Who files the packets: people (the prosecutor's notice of no challenge and "
            "proposed order) or petitioner (the CR-400 petition signed by the person or "
            "their counsel).",
        ),
    ] = "people",
    counsel_name: Annotated[
        str | None,
        typer.Option("--counsel-name", help="Petitioner's counsel (with --packets petitioner)."),
    ] = None,
    counsel_bar_number: Annotated[
        str | None, typer.Option("--counsel-bar-number", help="Counsel's State Bar number.")
    ] = None,
    counsel_office: Annotated[
        str | None, typer.Option("--counsel-office", help="Counsel's office or organisation.")
    ] = None,
    counsel_address: Annotated[
        str | None, typer.Option("--counsel-address", help="Counsel's mailing address.")
    ] = None,
    counsel_phone: Annotated[
        str | None, typer.Option("--counsel-phone", help="Counsel's telephone.")
    ] = None,
    counsel_email: Annotated[
        str | None, typer.Option("--counsel-email", help="Counsel's email.")
    ] = None,
    order_date: Annotated[
        str | None,
        typer.Option(
            "--order-date", help="Date of the signed order, for the court update file (YYYY-MM-DD)."
        ),
    ] = None,
    no_docx: Annotated[
        bool, typer.Option("--no-docx", help="Write the motions and orders as PDF only.")
    ] = False,
    include_pending: Annotated[
        bool,
        typer.Option(
            "--include-pending",
            help="For a reviewed copy (clearance store export): also file the decisions no "
            "attorney has reviewed yet (the report and manifest say how many).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or tables.")] = False,
) -> None:
    """Write the bulk motions, orders and notices with their exhibits (public Exhibit A, sealed
    Exhibit B), the challenge notice, the review lists, the court update file, the impact report
    and the review workbook (and per-person packets on request)."""
    from clearance.guard import command_errors
    from clearance.outputs.filings.data import FilingsError, parse_filing_pairs
    from clearance.outputs.filings.packet import Counsel
    from clearance.outputs.filings.writer import write_filings
    from clearance.outputs.folder import check_target, list_in_run

    day: date | None = None
    if order_date is not None:
        try:
            day = date.fromisoformat(order_date)
        except ValueError:
            _fail(f"--order-date {order_date!r} is not a date: use YYYY-MM-DD")
    if packets not in ("people", "petitioner"):
        _fail(f"--packets {packets!r}: use people or petitioner")
    counsel_given = [counsel_name, counsel_bar_number, counsel_office, counsel_address,
                     counsel_phone, counsel_email]  # fmt: skip
    counsel: Counsel | None = None
    if any(counsel_given):
        if packets != "petitioner":
            _fail("the --counsel-* options are for --packets petitioner")
        if not (counsel_name and counsel_bar_number):
            _fail("counsel needs both --counsel-name and --counsel-bar-number")
        counsel = Counsel(
            name=str(counsel_name),
            bar_number=str(counsel_bar_number),
            office=counsel_office or "",
            address=counsel_address or "",
            phone=counsel_phone or "",
            email=counsel_email or "",
        )
    try:
        overrides = parse_filing_pairs(filing_pairs)
        named = {
            "office": office,
            "signer": signer,
            "bar_number": bar_number,
            "office_address": office_address,
            "phone": phone,
            "email": email,
            "court_name": court_name,
            "court_address": court_address,
            "policy_authority_serving": policy_authority_serving,
            "policy_authority_completed": policy_authority_completed,
        }
        overrides.update({k: v for k, v in named.items() if v is not None})
        target = out_dir if out_dir is not None else run_dir / "filings"
        with command_errors(), _status(quiet) as status:
            # The folder is checked before the run is read (not a file, writable, not someone
            # else's folder: the build replaces it whole).
            check_target(target)

            def progress(message: str) -> None:
                if status is not None:
                    status.update(message)

            result = write_filings(
                run_dir,
                out_dir,
                filing=overrides,
                per_person=per_person,
                subject=subject,
                order_date=day,
                docx=not no_docx,
                progress=progress,
                packets=packets,
                counsel=counsel,
                case_numbers=case_numbers,
                public_safety=public_safety,
                include_pending=include_pending,
            )
            # The run's run.json lists its filings too.
            list_in_run(run_dir, result.out_dir)
    except FilingsError as exc:
        _fail(str(exc))
        return
    except MemoryError:
        _fail("out of memory: run on a machine with more memory")
        return
    if not quiet:
        table = Table(title=f"Filings in {result.out_dir}", title_justify="left")
        for column in ("file", "what", "access", "convictions", "people"):
            table.add_column(
                column, justify="right" if column in ("convictions", "people") else "left"
            )
        for entry in result.manifest["files"]:
            if entry["kind"] == "packets":
                continue
            table.add_row(
                entry["file"],
                entry["kind"].replace("_", " "),
                entry["access"],
                f"{entry['convictions']:,}" if "convictions" in entry else "",
                f"{entry['people']:,}" if "people" in entry else "",
            )
        out.print(table)
    if result.packets:
        out.print(
            f"wrote {result.packets:,} per-person packet{'s' if result.packets != 1 else ''} "
            f"to {result.out_dir / 'packets'}/",
            highlight=False,
        )
    manifest = result.manifest
    review = sum(int(v) for v in manifest["review_convictions"].values())
    out.print(
        f"filings in {result.out_dir}/: {len(result.files)} files (see manifest.json); "
        f"{review:,} still in review, {manifest['held_for_case_number']:,} held for a court "
        f"case number, {manifest['not_filed_convictions']:,} not filed",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `filings` command to the `clearance` command."""
    app.command("filings")(filings)
