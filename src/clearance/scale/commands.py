"""What `clearance run` calls for the ways of running in this package (kept out of cli.py so
the command stays one page)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clearance.engine import DECISIONS, EngineError
from clearance.policy.schema import Policy
from clearance.records.doj import Records
from clearance.scale.statewide import STATEWIDE_COLUMNS, run_statewide


def statewide_run(
    out_dir: Path,
    records: Records,
    policy: Policy,
    as_of: date,
    files: Sequence[Path],
    policy_text: str,
    with_what_ifs: bool,
    quiet: bool,
    out: Console,
    err: Console,
) -> None:
    """`--county all`: decide and write every county, then print the statewide table."""
    from clearance.records.sources import sources_of

    if sources_of(records) is not None:
        raise EngineError("--county all reads DOJ bulk files only")
    show = not quiet and err.is_terminal
    with err.status("deciding every county") if show else _nothing() as spinner:

        def progress(county: str) -> None:
            if spinner is not None:
                spinner.update(f"deciding {county.title()} County")

        state = run_statewide(
            out_dir, records, policy, as_of, files, policy_text, with_what_ifs, progress
        )
    if not quiet:
        table = Table(title=f"Every county, policy {policy.name}, as of {as_of}",
                      title_justify="left")  # fmt: skip
        for column in STATEWIDE_COLUMNS:
            table.add_column(column.replace("_", " "), justify="left" if column == "county"
                             else "right")  # fmt: skip
        for row in [*state.rows, state.totals]:
            table.add_row(row["county"].title(), *(f"{row[c]:,}" for c in STATEWIDE_COLUMNS[1:]))
        out.print(table)
    decided = sum(state.totals[d] for d in DECISIONS)
    out.print(
        f"{len(state.rows)} counties, {decided:,} convictions decided; outputs in {out_dir}/: "
        + ", ".join(state.files),
        highlight=False,
    )


class _nothing:
    """A context that yields None (no spinner when quiet)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
