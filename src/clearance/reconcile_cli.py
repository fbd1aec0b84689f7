"""`clearance reconcile` (and the `synth --age` step it relies on): after the orders, check
that the state record changed.

Errors are one line without personal data, as everywhere in the command.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from clearance.outputs.reconcile import STATUSES, ReconcileError

# `clearance.cli` registers these commands at its end, so it is imported where used, never at
# the top (`python -m clearance.cli` would otherwise import this module half-way).


def _day(value: str | None, option: str) -> date | None:
    from clearance.cli import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


def reconcile(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Newer DOJ bulk files (.dat, .csv, .gz) to compare the run with."),
    ] = None,
    run_dir: Annotated[
        Path, typer.Option("--run", help="Folder written by `clearance run`.")
    ] = Path("clearance-output"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the outputs (default RUN/reconcile).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the reconciliation speaks for (YYYY-MM-DD)."),
    ] = None,
    court_response: Annotated[
        Path | None,
        typer.Option(
            "--court-response",
            help="A court's response CSV (case numbers and the action taken) instead of DOJ "
            "files; columns in docs/reconcile.md.",
        ),
    ] = None,
    order_date: Annotated[
        str | None,
        typer.Option(
            "--order-date",
            help="Date the court signed the orders: pending ages count from it (default: the "
            "filings' --order-date, if any).",
        ),
    ] = None,
    motion_date: Annotated[
        str | None,
        typer.Option("--motion-date", help="Date of the motion, when no order date is known."),
    ] = None,
    workspace_run: Annotated[
        int | None,
        typer.Option(
            "--workspace-run",
            help="Also keep the reconciliation in the workspace, under this run's id (see "
            "`clearance runs list`).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="With --workspace-run: folder of the SQLite database (default: "
            "$CLEARANCE_DATA_DIR or ./data); ignored when CLEARANCE_DATABASE_URL is set.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Compare the run's relieved convictions with a newer DOJ file (or a court's response):
    reflected, pending, contradicting or gone, by court and relief group."""
    from clearance.cli import UsageError, friendly_errors, out, parse_as_of
    from clearance.outputs.reconcile import reconcile as do_reconcile

    with friendly_errors():
        day = parse_as_of(as_of)
        paths = list(files or [])
        for path in paths:
            if not path.is_file():
                raise UsageError(f"{path}: no such file")
        target = out_dir if out_dir is not None else run_dir / "reconcile"
        try:
            done = do_reconcile(
                run_dir,
                target,
                as_of=day,
                newer_files=paths,
                court_response=court_response,
                order_date=_day(order_date, "--order-date"),
                motion_date=_day(motion_date, "--motion-date"),
            )
        except ReconcileError as exc:
            raise UsageError(str(exc)) from None
    if workspace_run is not None:
        _keep_in_workspace(workspace_run, done.out_dir, done.summary, data_dir)
    summary = done.summary
    if not quiet:
        table = Table(title=f"Relieved convictions: {summary['relieved']:,}", title_justify="left")
        table.add_column("court")
        for status in STATUSES:
            table.add_column(status, justify="right")
        table.add_column("oldest pending (days)", justify="right")
        for row in summary["by_court"]:
            oldest = row["pending_oldest_days"]
            table.add_row(
                str(row["court"]).title(),
                *(f"{row[s]:,}" for s in STATUSES),
                "" if oldest is None else f"{oldest:,}",
            )
        out.print(table)
        if summary["newer"]["kind"] == "doj":
            out.print(summary["sealed_records"], highlight=False)
    out.print(f"reconciliation in {done.out_dir}/: {', '.join(done.files)}", highlight=False)


def _keep_in_workspace(
    run_id: int, folder: Path, summary: dict[str, object], data_dir: Path | None
) -> None:
    """Record a reconciliation written on the command line in the store, audited."""
    import polars as pl
    from sqlalchemy.orm import Session

    from clearance.cli import out
    from clearance.store.cli import default_actor, fail, with_session
    from clearance.store.models import Run
    from clearance.store.reconciliations import record

    pending = pl.read_csv(folder / "pending.csv", infer_schema=False)

    def keep(session: Session) -> int | None:
        if session.get(Run, run_id) is None:
            return None
        entry = record(session, run_id, dict(summary), pending, default_actor(), folder)
        session.commit()
        return entry.id

    kept = with_session(data_dir, keep)
    if kept is None:
        fail(f"no run #{run_id} in the workspace (see `clearance runs list`)")
    out.print(f"kept in the workspace as reconciliation #{kept} of run #{run_id}")


def age(
    run_dir: Path,
    source: Path | None,
    out_file: Path,
    unchanged: float,
    contradicting: float,
    gone: float,
    seed: int,
) -> None:
    """`clearance synth --age RUN --from FILE`: the run's relief applied to a copy."""
    from clearance.cli import UsageError, friendly_errors, out
    from clearance.synth_age import age_file

    with friendly_errors():
        if source is None:
            raise UsageError("--age needs --from FILE: the DOJ file the run read")
        try:
            aged = age_file(
                run_dir,
                source,
                out_file,
                unchanged=unchanged,
                contradicting=contradicting,
                gone=gone,
                seed=seed,
            )
        except ReconcileError as exc:
            raise UsageError(str(exc)) from None
    fates = ", ".join(f"{n:,} {name}" for name, n in aged.fates.items())
    out.print(f"wrote {out_file} ({fates}); key in {aged.key_file}", highlight=False)
    if aged.elsewhere:
        out.print(
            f"{aged.elsewhere:,} relieved convictions were read from other inputs of the run "
            "and are not in this copy",
            highlight=False,
        )


def letters(
    run_dir: Annotated[
        Path, typer.Option("--run", help="Folder written by `clearance run`.")
    ] = Path("clearance-output"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the letters (default RUN/letters).")
    ] = None,
    reconciled: Annotated[
        Path | None,
        typer.Option(
            "--reconciled",
            help="A reconciliation folder (or its reconcile.csv): name only the convictions "
            "the newer state record shows changed.",
        ),
    ] = None,
    addresses: Annotated[
        Path | None,
        typer.Option(
            "--addresses",
            help="CSV of addresses keyed by SUBJECT_ID or CII (columns in docs/letters.md).",
        ),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option("--templates", help="A folder of edited templates (<language>.txt.j2)."),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(help="Languages to write, e.g. en,es (default: every template)."),
    ] = None,
    export_templates: Annotated[
        Path | None,
        typer.Option(
            "--export-templates",
            help="Copy the shipped templates to this folder for editing, and stop.",
        ),
    ] = None,
    office: Annotated[str | None, typer.Option(help="Sender (default: the policy's).")] = None,
    phone: Annotated[str | None, typer.Option(help="Telephone to call.")] = None,
    email: Annotated[str | None, typer.Option(help="Email to write to.")] = None,
    office_address: Annotated[str | None, typer.Option(help="Sender's address.")] = None,
    signer: Annotated[str | None, typer.Option(help="Who signs.")] = None,
    order_date: Annotated[
        str | None, typer.Option("--order-date", help="Date of the court's order.")
    ] = None,
    letter_date: Annotated[
        str | None,
        typer.Option("--date", help="Date printed on the letters (default: the run's as-of)."),
    ] = None,
) -> None:
    """Write a notice letter to each person whose convictions an order relieved (PDF and a
    mail-merge CSV), in English and Spanish."""
    from clearance.cli import UsageError, friendly_errors, out
    from clearance.outputs.letters import (
        LettersError,
        TemplateError,
        write_letters,
    )
    from clearance.outputs.letters import export_templates as export

    with friendly_errors():
        if export_templates is not None:
            written = export(export_templates)
            out.print(
                f"{len(written)} template(s) copied to {export_templates}/ (existing files kept)",
                highlight=False,
            )
            return
        try:
            done = write_letters(
                run_dir,
                out_dir,
                reconciled=reconciled,
                addresses=addresses,
                templates=templates,
                languages=[x.strip() for x in languages.split(",") if x.strip()]
                if languages
                else None,
                office={
                    "office": office,
                    "phone": phone,
                    "email": email,
                    "office_address": office_address,
                    "signer": signer,
                },
                order_date=_day(order_date, "--order-date"),
                letter_date=_day(letter_date, "--date"),
            )
        except (LettersError, TemplateError, ReconcileError) as exc:
            raise UsageError(str(exc)) from None
    summary = done.summary
    left = summary["left_out"]
    out.print(
        f"{summary['letters']:,} letters naming {summary['convictions_named']:,} convictions "
        f"({', '.join(summary['languages'])}); no letter for {left['deceased']:,} people "
        f"recorded as deceased and {left['nothing_to_name']:,} with no relieved conviction "
        f"to name; {summary['addresses']['people_without_address']:,} without an address",
        highlight=False,
    )
    out.print(f"letters in {done.out_dir}/ (letters.csv, letters.json)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `reconcile` and `letters` to the `clearance` command."""
    app.command(name="reconcile")(reconcile)
    app.command(name="letters")(letters)
