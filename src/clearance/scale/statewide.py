"""`clearance run ... --county all`: every county of the input decided in one pass.

The input is read once and every county decided in one engine call (`engine.EVERY_COUNTY`):
each conviction as its own county's run decides it (a decision reads the person's whole
record, in any county, and only the county's own convictions are decided and followed by
related charges), so a person with convictions in several counties is decided once per
county. The what-if policies are decided once too. The tables are then split by county and
each written with the run's own writer to `counties/<county>/`: the same convictions, people,
summary and record files as the county's own run, byte for byte.
What is about the whole input rather than a county is written once at the top: results.csv
(every input row, with the decision of the county that decided it: each count is decided by at
most its own county), quarantine.csv, and the statewide summary (statewide.csv, statewide.json,
and report.html with its chart), one row per county and the statewide totals.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.engine import (
    DECISIONS,
    EVERY_COUNTY,
    Decided,
    EngineError,
    FactsCache,
    counties,
    decide,
    keep_for_figures,
)
from clearance.outputs.cells import write_people_csv
from clearance.outputs.run import write_run
from clearance.outputs.summary import impact, what_if_policies
from clearance.outputs.tables import conviction_base, write_results_csv
from clearance.policy.schema import Policy
from clearance.records.doj import Records
from clearance.records.federal import federal_overview

#: The word that asks for every county.
ALL = EVERY_COUNTY

#: The folder of the per-county outputs.
COUNTIES_DIR = "counties"

#: Columns of statewide.csv, in order.
STATEWIDE_COLUMNS = (
    "county", "convictions", *DECISIONS, "people", "people_relieved", "no_felony_left",
    "no_conviction_left",
)  # fmt: skip

#: The columns of the determinations that results.csv and the statewide figures of people read.
RESULT_COLUMNS = ("source_file", "source_line", "decision", "new_level", "remedy", "reasons",
                  "subject_id", "level", "conviction_date")  # fmt: skip


def is_statewide(county: str) -> bool:
    """Whether `--county` asks for every county."""
    return county.strip().upper() == ALL


def county_folder(county: str) -> str:
    """A county's folder name: 'SAN JOAQUIN' -> 'san-joaquin'."""
    return county.strip().lower().replace(" ", "-")


@dataclass(frozen=True)
class StatewideFiles:
    """Where a statewide run's outputs are, and its figures."""

    out_dir: Path
    files: tuple[str, ...]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    skipped: list[str]


def run_statewide(
    out_dir: Path,
    records: Records,
    policy: Policy,
    as_of: date,
    inputs: Sequence[Path],
    policy_text: str,
    with_what_ifs: bool = True,
    on_county: Callable[[str], None] | None = None,
) -> StatewideFiles:
    """Decide and write every county of `records`; see the module's docstring.

    One engine call decides every county (`EVERY_COUNTY`), and one more each what-if policy;
    the tables are then split by county and each county written by the run's own writer."""
    present = counties(records)
    if not present:
        raise EngineError("no court event with a county in the input")
    out_dir.mkdir(parents=True, exist_ok=True)
    # The people's record before any decision: one table for every county's run.
    base = conviction_base(records, as_of)
    decided, what_ifs = decide_every_county(records, policy, as_of, with_what_ifs)
    if not decided.counties:
        raise EngineError("no cannabis conviction in any county of the input")
    skipped = [c for c in present if c not in decided.counties]
    every = Decided(
        table=with_a_run(decided.table, decided.counties).select(*RESULT_COLUMNS),
        policy=policy,
        as_of=as_of,
        county=ALL,
        rules=(),
    )
    parts = by_county(decided.table)
    what_if_parts = {key: by_county(table) for key, table in what_ifs.items()}
    empty, empty_what_if = decided.table.clear(), {k: t.clear() for k, t in what_ifs.items()}
    rules, decided_counties = decided.rules, decided.counties
    del decided, what_ifs
    # About the whole input, and the same in every county's summary: found once.
    federal = federal_overview(records)
    rows: list[dict[str, Any]] = []
    # results.csv streams the inputs again (mostly disk and memory copies): it is written on a
    # second thread while this one writes the counties, as a county's run does.
    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.submit(write_results_csv, out_dir / "results.csv", every, records, inputs)
        for county in decided_counties:
            if on_county is not None:
                on_county(county)
            mine = Decided(
                table=parts.pop(county, empty),
                policy=policy,
                as_of=as_of,
                county=county,
                rules=rules,
            )
            theirs = {
                key: Decided(
                    table=tables.pop(county, empty_what_if[key]),
                    policy=policy,
                    as_of=as_of,
                    county=county,
                    rules=(),
                )
                for key, tables in what_if_parts.items()
            }
            written = write_run(
                out_dir / COUNTIES_DIR / county_folder(county),
                mine,
                records,
                inputs,
                policy_text,
                with_what_ifs=with_what_ifs,
                base=base,
                whole_input=False,
                what_ifs=theirs if with_what_ifs else None,
                federal=federal,
            )
            del mine, theirs
            rows.append(summary_row(county, written.summary))
        results.result()
    # As a county's run writes it (cells that a spreadsheet would run as formulas escaped).
    write_people_csv(records.quarantine, out_dir / "quarantine.csv")
    totals = statewide_totals(every, records, base, rows)
    write_statewide(out_dir, rows, totals, skipped, policy, as_of)
    return statewide_files(out_dir, rows, totals, skipped)


def statewide_files(
    out_dir: Path, rows: list[dict[str, Any]], totals: dict[str, Any], skipped: list[str]
) -> StatewideFiles:
    """What a statewide run wrote (for the command's closing lines)."""
    return StatewideFiles(
        out_dir=out_dir,
        files=(
            f"{COUNTIES_DIR}/<county>/",
            "results.csv",
            "quarantine.csv",
            "statewide.csv",
            "statewide.json",
            "report.html",
        ),
        rows=rows,
        totals=totals,
        skipped=skipped,
    )


def decide_every_county(
    records: Records, policy: Policy, as_of: date, with_what_ifs: bool
) -> tuple[Decided, dict[str, pl.DataFrame]]:
    """Every county decided in one engine call under `policy` (explained), and under each
    what-if policy (figures only), by the keys of `what_if_policies`. The what-ifs share the
    run's facts where their judgment calls are the same, as a county's run does.

    The tables can hold rows of counties without a run (`Decided.counties` names those with
    one): related charges that a policy reviews wherever there is a cannabis charge."""
    cache: FactsCache = {}
    decided = decide(records, policy, as_of, EVERY_COUNTY, cache)
    # The what-ifs need no more of the facts than their figures.
    keep_for_figures(cache)
    what_ifs = {
        key: decide(records, other, as_of, EVERY_COUNTY, cache, explained=False).table
        for key, other in (what_if_policies().items() if with_what_ifs else ())
    }
    cache.clear()
    return decided, what_ifs


def with_a_run(table: pl.DataFrame, decided: Iterable[str]) -> pl.DataFrame:
    """The rows of the counties that have a run (`decided`)."""
    return table.filter(pl.col("county").is_in(list(decided)))


def by_county(table: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """A determinations table split by county, each part in the table's order (a county's
    run's order: the rows of one county of an every-county table are its run's rows)."""
    parts = table.partition_by("county", as_dict=True, maintain_order=True)
    return {str(key[0]): part for key, part in parts.items()}


def summary_row(county: str, summary: dict[str, Any]) -> dict[str, Any]:
    """A county's line of the statewide summary, from its own summary.json."""
    people = summary["people_impact"]
    return {
        "county": county,
        "convictions": summary["convictions"],
        **{d: summary["by_decision"].get(d, 0) for d in DECISIONS},
        "people": summary["people"],
        "people_relieved": people["relieved"],
        "no_felony_left": people["no_longer_felony"],
        "no_conviction_left": people["no_conviction_left"],
    }


def statewide_totals(
    every: Decided, records: Records, base: pl.DataFrame, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """The statewide line: convictions add up across counties (each is decided by its own
    county); people are counted once, with the decisions of every county together (a person
    relieved in two counties is one person, and may have no felony left only from both)."""
    figures = impact(every, records, base)
    people = figures["people_impact"]
    return {
        "county": "STATEWIDE",
        "convictions": sum(r["convictions"] for r in rows),
        **{d: sum(r[d] for r in rows) for d in DECISIONS},
        "people": figures["people"],
        "people_relieved": people["relieved"],
        "no_felony_left": people["no_longer_felony"],
        "no_conviction_left": people["no_conviction_left"],
    }


def write_statewide(
    out_dir: Path,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    skipped: list[str],
    policy: Policy,
    as_of: date,
) -> None:
    table = pl.DataFrame([*rows, totals], schema=list(STATEWIDE_COLUMNS), orient="row")
    table.write_csv(out_dir / "statewide.csv")
    document = {
        "as_of": as_of.isoformat(),
        "policy": {"name": policy.name, "title": policy.title, "source": policy.source},
        "counties": rows,
        "statewide": totals,
        "counties_without_cannabis_conviction": skipped,
        "folders": {r["county"]: f"{COUNTIES_DIR}/{county_folder(r['county'])}" for r in rows},
    }
    (out_dir / "statewide.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out_dir / "report.html").write_text(_report(rows, totals, skipped, policy, as_of), "utf-8")


def _report(
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
    skipped: list[str],
    policy: Policy,
    as_of: date,
) -> str:
    """The statewide report: a chart of every county's decisions and the table behind it."""
    from clearance.outputs.filings.charts import stacked_decisions

    ordered = sorted(rows, key=lambda r: (-r["convictions"], r["county"]))
    chart = stacked_decisions(
        "statewide",
        "Cannabis convictions by county and decision",
        [r["county"].title() for r in ordered],
        {r["county"].title(): {d: r[d] for d in DECISIONS} for r in ordered},
        horizontal=True,
    )
    heads = "".join(f"<th scope='col'>{html.escape(c.replace('_', ' '))}</th>"
                    for c in STATEWIDE_COLUMNS)  # fmt: skip

    def line(row: dict[str, Any], cell: str) -> str:
        values = "".join(f"<td>{row[c]:,}</td>" for c in STATEWIDE_COLUMNS[1:])
        return f"<tr><{cell} scope='row'>{html.escape(str(row['county']).title())}</{cell}>" \
               f"{values}</tr>"  # fmt: skip

    body = "".join(line(r, "th") for r in ordered)
    note = (
        f"<p>Counties with court events but no cannabis conviction: "
        f"{html.escape(', '.join(c.title() for c in skipped))}.</p>"
        if skipped
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Statewide impact of Proposition 64 relief</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}th,td{{padding:.25rem .6rem;border-bottom:1px solid #ccc;
text-align:right}}th[scope=row],thead th:first-child{{text-align:left}}
tfoot th,tfoot td{{font-weight:bold;border-top:2px solid #222}}</style></head>
<body><main>
<h1>Statewide impact of Proposition 64 relief</h1>
<p>Policy {html.escape(policy.title)}, as of {as_of.isoformat()}. Each county is decided as its
own run decides it; the folder <code>{COUNTIES_DIR}/&lt;county&gt;</code> holds its outputs.</p>
<figure>{chart.svg}<figcaption>{html.escape(chart.title)}</figcaption></figure>
<table><caption>Convictions by decision and people, by county</caption>
<thead><tr>{heads}</tr></thead><tbody>{body}</tbody>
<tfoot>{line(totals, "th")}</tfoot></table>
<p>Statewide people are counted once with the decisions of every county together; a person
with convictions in several counties appears in each of those counties' lines.</p>
{note}
</main></body></html>
"""
