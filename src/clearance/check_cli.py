"""`clearance check RAPSHEET`: one person's decisions on screen and their petition packet.

Like every `clearance` command it stops with one line and its exit status (the README's table:
3 for a file that is not there, 2 for input the user can fix) and writes its folder whole or not
at all (`outputs.folder`: built aside, listed in run.json, swapped in). Unlike the bulk commands
it prints the person's own record (the decisions, the cases): it is run by the person or their
counsel on the person's own RAP sheet, and what it prints is the answer, not a log.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

out = Console()

_DECISION_WORDS = {
    "dismiss": "DISMISS AND SEAL",
    "reduce": "REDUCE",
    "not_eligible": "NOT ELIGIBLE",
    "review": "NEEDS REVIEW",
}


def check(
    files: Annotated[
        list[Path], typer.Argument(help="The person's RAP sheet: .txt, .pdf (text or scan).")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the decisions and the packet.")
    ] = Path("check-output"),
    policy: Annotated[
        str, typer.Option(help="Preset name or policy .yaml (default: the statute alone).")
    ] = "statute",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the decisions speak for (YYYY-MM-DD; default today)."),
    ] = None,
    signer: Annotated[
        str | None,
        typer.Option(help="Attorney who signs the petition (default: the person, in pro per)."),
    ] = None,
    bar_number: Annotated[
        str | None, typer.Option("--bar-number", help="The attorney's State Bar number.")
    ] = None,
    office: Annotated[str | None, typer.Option(help="The attorney's office or clinic.")] = None,
    court_address: Annotated[
        str, typer.Option("--court-address", help="The court's address for the caption.")
    ] = "",
    no_packet: Annotated[
        bool, typer.Option("--no-packet", help="Only decide; write no petition.")
    ] = False,
) -> None:
    """Decide one person's cannabis convictions from their RAP sheet and write the
    petition/application packet (CR-400/CR-403 content) for each county with relief."""
    from clearance.check import CheckError, check_record
    from clearance.engine import EngineError
    from clearance.guard import Outcome, UsageError, command_errors
    from clearance.inputs import prepare_inputs
    from clearance.outputs.filings.data import FilingsError
    from clearance.outputs.folder import commit, stage
    from clearance.policy.loader import PolicyError, load_policy, policy_text

    outcome = Outcome()
    with command_errors(outcome), stage(out_dir) as staging:
        outcome.staging = staging
        try:
            day = date.fromisoformat(as_of) if as_of else date.today()
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not a date: use YYYY-MM-DD") from None
        inputs = prepare_inputs(files, staging.spool)
        try:
            chosen = load_policy(policy)
            result = check_record(
                inputs,
                staging.path,
                chosen,
                policy_text(policy),
                day,
                signer=signer,
                bar_number=bar_number,
                office=office,
                court_address=court_address,
                packets=not no_packet,
            )
        except (CheckError, PolicyError, EngineError, FilingsError) as exc:
            raise UsageError(str(exc)) from None
        commit(staging, "check")
    records = result.sources.records
    out.print(
        f"[bold]{escape(result.name or 'Unknown name')}[/]: "
        f"{records.rows_loaded} events read, {records.rows_quarantined} not recognised"
        f" (as of {day.isoformat()}, policy {escape(chosen.name)})",
        highlight=False,
    )
    if not result.counties:
        out.print("No cannabis conviction (HS 11357-11360) entered by a California court.")
    for county in result.counties:
        out.print(f"\n[bold]{escape(county.county.title())} County[/]", highlight=False)
        if county.decisions.height == 0:
            out.print(f"  {escape(county.note or 'no conviction to decide')}", highlight=False)
        for row in county.decisions.iter_rows(named=True):
            word = _DECISION_WORDS.get(row["decision"], row["decision"])
            if row["decision"] == "reduce" and row["new_level"]:
                word += f" to {row['new_level']}"
            if row["remedy"]:
                word += f" (HS {row['remedy']})"
            out.print(
                f"  case {escape(row['court_case_number'] or 'unknown')}, count "
                f"{int(row['count_id'][6:9])}: {escape(row['code_section'] or 'section unknown')}"
                f", {row['level']}, convicted {row['conviction_date'] or 'on an unknown date'}",
                highlight=False,
            )
            out.print(f"    -> [bold]{word}[/]", highlight=False)
            for reason in (row["explanation"] or "").split(" | "):
                if reason.strip():
                    out.print(f"       - {escape(reason.strip())}", highlight=False)
        if county.packet is not None:
            # Written in the folder being built, read where it now is.
            packet = out_dir / county.packet.relative_to(staging.path)
            out.print(f"petition packet: {escape(str(packet))}", highlight=False)
        else:
            out.print("no petition: nothing to ask this county's court for", highlight=False)
    if result.federal_entries:
        out.print(
            f"{result.federal_entries} federal entr{'y' if result.federal_entries == 1 else 'ies'}"
            " kept: state relief cannot reach them (see events.csv)",
            highlight=False,
        )
    notes = getattr(records, "notes", None)
    if records.rows_quarantined or (notes is not None and notes.height):
        out.print(
            "read with care: see quarantine.csv (events not recognised) and reading-notes.csv "
            "(values corrected or unreadable) in the output folder",
            highlight=False,
        )
    out.print(f"outputs in {out_dir}/", highlight=False)


def register(app: typer.Typer) -> None:
    app.command(name="check")(check)
