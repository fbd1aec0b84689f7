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


def filings(
    run_dir: Annotated[
        Path, typer.Option("--run", help="Folder written by `clearance run`.", show_default=False)
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the filings (default: RUN/filings)."),
    ] = None,
    office: Annotated[
        str | None, typer.Option(help="Filing office (overrides the policy's filing.office).")
    ] = None,
    signer: Annotated[
        str | None, typer.Option(help="Attorney who signs (overrides filing.signer).")
    ] = None,
    bar_number: Annotated[
        str | None,
        typer.Option(
            "--bar-number", help="Signer's State Bar number (overrides filing.bar_number)."
        ),
    ] = None,
    court_name: Annotated[
        str | None,
        typer.Option("--court-name", help="Court of the caption (overrides filing.court_name)."),
    ] = None,
    court_address: Annotated[
        str | None,
        typer.Option("--court-address", help="Court's address (overrides filing.court_address)."),
    ] = None,
    per_person: Annotated[
        bool,
        typer.Option(
            "--per-person", help="Also write a petition and order packet for every person relieved."
        ),
    ] = False,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="Also write the packet of this one SUBJECT_ID."),
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or tables.")] = False,
) -> None:
    """Write the bulk motions and orders with exhibits, the challenge notice, the court update
    file, the impact report and the review workbook (and per-person packets on request)."""
    from clearance.outputs.filings.data import FilingsError
    from clearance.outputs.filings.writer import write_filings

    day: date | None = None
    if order_date is not None:
        try:
            day = date.fromisoformat(order_date)
        except ValueError:
            _fail(f"--order-date {order_date!r} is not a date: use YYYY-MM-DD")
    overrides = {
        "office": office,
        "signer": signer,
        "bar_number": bar_number,
        "court_name": court_name,
        "court_address": court_address,
    }
    try:
        with _status(quiet) as status:

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
            )
    except FilingsError as exc:
        _fail(str(exc))
        return
    except MemoryError:
        _fail("out of memory: run on a machine with more memory")
        return
    if not quiet:
        table = Table(title=f"Filings in {result.out_dir}", title_justify="left")
        for column in ("file", "what", "convictions", "people"):
            table.add_column(column, justify="left" if column in ("file", "what") else "right")
        for entry in result.manifest["files"]:
            if entry["kind"] == "packets":
                continue
            table.add_row(
                entry["file"],
                entry["kind"].replace("_", " "),
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
    out.print(
        f"filings in {result.out_dir}/: {len(result.files)} files (see manifest.json)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `filings` command to the `clearance` command."""
    app.command("filings")(filings)
