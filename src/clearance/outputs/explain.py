"""`clearance explain`: one person's record and why each cannabis conviction was decided so.

It reads the run folder back (the canonical record and the determinations), so an attorney can
check a decision against the source rows without re-running anything.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from clearance.outputs.person_index import TABLES, person_rows
from clearance.outputs.run import RECORD_DIR


class ExplainError(Exception):
    """The run folder or the person cannot be found; the message says what to do."""


def _paths(run_dir: Path) -> list[Path]:
    record = run_dir / RECORD_DIR
    needed = [record / f"{name}.parquet" for name in TABLES]
    if not all(p.exists() for p in needed):
        raise ExplainError(f"{run_dir}: not a run folder (run `clearance run ... --out {run_dir}`)")
    return needed


def person_record(
    run_dir: Path, subject_id: str, *, decisions: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    """(timeline of counts, determinations, identity) of one person in a run.

    With the run's person index (`clearance.outputs.person_index`, written by the review
    workspace) only the row groups holding the person are read; otherwise the tables are
    scanned with the person as a filter. `decisions=False` leaves the determinations out (an
    empty table): the review workspace has them in its database."""
    paths = dict(zip(TABLES, _paths(run_dir), strict=True))
    wanted = TABLES if decisions else ("counts", "subjects")
    indexed = person_rows(run_dir / RECORD_DIR, subject_id, wanted)
    if indexed is not None:
        tables = {name: indexed.tables[name].lazy() for name in TABLES}
    else:
        tables = {
            name: pl.scan_parquet(path).filter(pl.col("subject_id") == subject_id)
            if name in wanted
            else pl.scan_parquet(path).clear()
            for name, path in paths.items()
        }
    who = tables["subjects"].collect()
    if who.height == 0:
        raise ExplainError("no person with that SUBJECT_ID in this run")
    timeline = tables["counts"].sort(["event_date", "count_id"], nulls_last=True).collect()
    mine = tables["determinations"].sort("count_id").collect()
    return timeline, mine, who.row(0, named=True)


def explain_person(run_dir: Path, subject_id: str, console: Console) -> None:
    """Print the timeline, then each decided count with every rule that fired."""
    timeline, mine, who = person_record(run_dir, subject_id)
    console.print(
        f"[bold]{escape(str(who['name'] or 'name unknown'))}[/]  "
        f"SUBJECT_ID {escape(str(who['subject_id']))}  "
        f"CII {who['cii_number'] or '-'}  born {who['dob'] or 'unknown'}"
        + ("  [red]deceased[/]" if who["deceased"] else "")
        + ("  [yellow]PC 290 registrant[/]" if who["pc290_registrant"] else ""),
        highlight=False,
    )
    table = Table(title="Record", title_justify="left")
    for col in (
        "date",
        "step",
        "county",
        "case",
        "offense",
        "disposition",
        "level",
        "sentence",
        "source",
    ):
        table.add_column(col, overflow="fold")
    for row in timeline.iter_rows(named=True):
        table.add_row(
            str(row["event_date"] or "unknown"),
            row["step_type"],
            row["county"] or "",
            row["court_case_number"] or "",
            row["code_section"] or (row["offense_raw"] or ""),
            row["disposition"] or "",
            row["level"],
            f"{row['sentence_days']} days" if row["sentence_days"] else "",
            f"{Path(row['source_file']).name}:{row['source_line']}",
        )
    console.print(table)
    if mine.height == 0:
        console.print("No cannabis conviction of this person is decided in this run.")
        return
    for row in mine.iter_rows(named=True):
        level = f" -> {row['new_level']}" if row["new_level"] else ""
        remedy = f", HS {row['remedy']}" if row["remedy"] else ""
        tree = Tree(
            f"[bold]{escape(str(row['code_section']))}[/] "
            f"case {escape(str(row['court_case_number'] or '-'))}, convicted "
            f"{row['conviction_date'] or 'unknown'} ({row['level']}): "
            f"[bold]{row['decision']}[/]{level}{remedy}",
            highlight=False,
        )
        lines = (row["explanation"] or "").split(" | ")
        for rule_id, line in zip(row["reasons"], lines, strict=False):
            tree.add(f"[cyan]{rule_id}[/]: {escape(line)}", highlight=False)
        console.print(tree)
