"""`clearance federal`: the federal marijuana-pardon screen, from the shell.

Reads federal case lists (docs/federal.md) and the federal entries of RAP sheets and DOJ files,
decides every federal count under the 2022 and 2023 proclamations, and writes federal.csv,
federal-summary.json and, per person with a covered count, a certificate-application packet.
The folder is written whole or not at all, like a run's (`outputs.folder`: built aside, listed
in run.json, swapped in), and a file that is not there ends with exit status 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the `federal` command to the CLI."""

    @app.command()
    def federal(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="Federal case lists (.csv with the documented header), RAP sheets or DOJ "
                "files: their federal entries are screened."
            ),
        ],
        out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
            "federal-output"
        ),
        unplaced: Annotated[
            str,
            typer.Option(
                help="An offense the record cannot date before either cutoff: review, or "
                "both_forms (covered, both application forms in the packet)."
            ),
        ] = "review",
        presume_marijuana: Annotated[
            bool,
            typer.Option(
                "--presume-marijuana/--no-presume-marijuana",
                help="Case-list rows that name no substance are marijuana cases.",
            ),
        ] = True,
        packets: Annotated[
            bool,
            typer.Option(
                "--packets/--no-packets",
                help="Write a certificate-application packet (PDF and DOCX) per covered person.",
            ),
        ] = True,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Date printed on the cover letters (YYYY-MM-DD)."),
        ] = None,
        mapping: Annotated[
            Path | None, typer.Option("--mapping", help="Court exports: their YAML mapping.")
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables.")] = False,
    ) -> None:
        """Screen federal cases under the 2022 and 2023 marijuana pardons; write federal.csv,
        federal-summary.json and certificate-application packets."""
        from clearance.cli import UsageError, out
        from clearance.guard import Outcome, command_errors
        from clearance.inputs import prepare_inputs
        from clearance.law.federal import FederalPolicy, decide_federal
        from clearance.outputs.federal import write_federal_tables
        from clearance.outputs.folder import commit, stage
        from clearance.records.federal import read_federal

        outcome = Outcome()
        with command_errors(outcome), stage(out_dir) as staging:
            outcome.staging = staging
            if unplaced not in ("review", "both_forms"):
                raise UsageError(f"--unplaced {unplaced!r}: use review or both_forms")
            policy = FederalPolicy(
                unplaced="both_forms" if unplaced == "both_forms" else "review",
                presume_marijuana=presume_marijuana,
            )
            day = None
            if as_of is not None:
                from clearance.cli import parse_as_of

                day = parse_as_of(as_of)
            inputs = prepare_inputs(files, staging.spool)
            read = read_federal(inputs, mapping)
            decided = decide_federal(read.counts, policy)
            written = 0
            if packets:
                from clearance.outputs.federal_packets import with_packet_column, write_packets

                written = write_packets(staging.path, decided, day)
                decided = with_packet_column(decided)
            figures = write_federal_tables(staging.path, decided, read, policy, written)
            commit(staging, "federal")
        if not quiet:
            table = Table(title="Federal counts", title_justify="left")
            table.add_column("decision")
            table.add_column("counts", justify="right")
            table.add_column("people", justify="right")
            for key, value in figures["by_decision"].items():
                table.add_row(key, f"{value['counts']:,}", f"{value['people']:,}")
            out.print(table)
            out.print(
                f"{read.rows_read:,} rows read = {read.rows_loaded:,} loaded + "
                f"{read.rows_quarantined:,} quarantined; {figures['counts']:,} federal counts "
                f"of {figures['people']:,} people; {written:,} packets",
                highlight=False,
            )
        out.print(f"federal outputs in {out_dir}/", highlight=False)
