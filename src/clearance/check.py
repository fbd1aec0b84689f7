"""The individual's flow: one person's RAP sheet in, their decisions and petition packet out.

Statewide only a few thousand of the 100,000+ people eligible under Proposition 64 ever
petitioned. Legal-aid clinics, public defenders and people themselves work from the person's own
RAP sheet, one record at a time, so this is `clearance run` for one person: the sheet is read
(text, PDF or scan), every cannabis conviction in a California court is decided in the county
that entered it (a person may have convictions in several), and the petition/application
packet (the content of forms CR-400 and CR-403) is written for each county with relief to ask
for. The decisions are the engine's, with every rule that fired; the run folders are the same
as `clearance run` writes, so `explain`, `filings` and the workspace read them too.

Used by `clearance check` and the workspace's "check one record" page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from clearance.engine import Decided, EngineError, decide
from clearance.policy.schema import Policy
from clearance.records.chunks import ReadError
from clearance.records.offenses import is_cannabis
from clearance.records.places import FEDERAL
from clearance.records.sources import SourcesRead, read_sources


class CheckError(Exception):
    """A record that cannot be checked; the message is the one line shown (no personal data)."""


@dataclass
class CountyCheck:
    """One county's decisions for the person, and where its files are."""

    county: str
    run_dir: Path
    decisions: pl.DataFrame
    packet: Path | None = None
    #: Why a county with a cannabis conviction has no decision (e.g. only set-aside ones).
    note: str | None = None


@dataclass
class CheckResult:
    """What `check_record` found and wrote."""

    subject_id: str
    name: str | None
    sources: SourcesRead
    counties: list[CountyCheck] = field(default_factory=list)
    federal_entries: int = 0

    @property
    def decisions(self) -> pl.DataFrame:
        frames = [c.decisions for c in self.counties if c.decisions.height]
        return pl.concat(frames, how="vertical") if frames else pl.DataFrame()


def slug(county: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", county.lower()).strip("-")


def cannabis_counties(sources: SourcesRead) -> list[str]:
    """Counties where the record holds a cannabis conviction entered by a California court."""
    counts = sources.records.counts
    wanted = counts.filter(
        (pl.col("step_type") == "court")
        & pl.col("disposition").is_in(["convicted", "set_aside"])
        & is_cannabis(pl.col("code"), pl.col("section"))
        & pl.col("county").is_not_null()
        & (pl.col("county") != FEDERAL)
    )
    return sorted(wanted["county"].cast(pl.String).unique().to_list())


def check_record(
    paths: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    policy_text: str,
    as_of: date,
    *,
    fmt: str | None = "rapsheet",
    signer: str | None = None,
    bar_number: str | None = None,
    office: str | None = None,
    court_address: str = "",
    packets: bool = True,
) -> CheckResult:
    """Read one person's record, decide it county by county, and write the run folders and
    the petition packets (see the module docstring). One county: `out_dir` is its run folder;
    several: one folder per county inside it."""
    from clearance.outputs.run import write_run
    from clearance.outputs.sources import write_source_outputs

    sources = read_sources(list(paths), fmt)
    records = sources.records
    if records.subjects.height == 0:
        raise CheckError("no person found in the record: is this a RAP sheet?")
    if records.subjects.height > 1:
        raise CheckError(
            f"the files hold {records.subjects.height} people: `clearance check` reads one "
            "person's record (use `clearance run` for several)"
        )
    person = records.subjects.row(0, named=True)
    if records.rows_read == 0 and not (person["cii_number"] or person["name"] or person["dob"]):
        raise CheckError(
            "not a RAP sheet: no personal block (CII/, DOB/, NAM/) and no events (ARR/DET/CITE:, "
            "COURT: ...) were found"
        )
    counties = cannabis_counties(sources)
    federal = int(
        records.counts.filter(pl.col("county") == FEDERAL)
        .select(pl.col("event_id").n_unique())
        .item()
    )
    result = CheckResult(
        subject_id=person["subject_id"],
        name=person["name"],
        sources=sources,
        federal_entries=federal,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for county in counties:
        run_dir = out_dir if len(counties) == 1 else out_dir / slug(county)
        try:
            decided = decide(records, policy, as_of, county)
        except EngineError as exc:
            result.counties.append(CountyCheck(county, run_dir, pl.DataFrame(), note=str(exc)))
            continue
        write_run(run_dir, decided, records, sources.doj_inputs, policy_text, with_what_ifs=False)
        write_source_outputs(run_dir, sources, decided)
        check = CountyCheck(county=county, run_dir=run_dir, decisions=_shown(decided))
        if packets:
            check.packet = _packet(
                run_dir, person, county, signer, bar_number, office, court_address
            )
        result.counties.append(check)
    if not any(c.decisions.height for c in result.counties):
        # Nothing decided: the reading itself (events, notes, quarantine) is still the answer.
        records.quarantine.write_csv(out_dir / "quarantine.csv")
        write_source_outputs(out_dir, sources, None)
    return result


def _shown(decided: Decided) -> pl.DataFrame:
    return decided.table.select(
        "county",
        "court_case_number",
        "count_id",
        "code_section",
        "level",
        "conviction_date",
        "offense_date",
        "decision",
        "new_level",
        "remedy",
        "reasons",
        "explanation",
    ).sort("conviction_date", "count_id", nulls_last=True)


def _packet(
    run_dir: Path,
    person: dict[str, object],
    county: str,
    signer: str | None,
    bar_number: str | None,
    office: str | None,
    court_address: str,
) -> Path | None:
    """The petitioner's packet (petition/application and proposed order for each case with
    relief to ask for, the content of CR-400 and CR-403), signed by the counsel named, else by
    the person in pro per. None when nothing is to be asked for in this county."""
    from clearance.outputs.filings.data import FilingInfo, load_run, rules_used
    from clearance.outputs.filings.groups import Authority, classify
    from clearance.outputs.filings.marks import hold_without_case, mark_public_safety
    from clearance.outputs.filings.packet import Counsel, iter_packets
    from clearance.outputs.filings.pdf import render_pdf

    run = load_run(run_dir)
    convictions = run.convictions.with_columns(pl.col("kind").fill_null("cannabis"))
    classified = classify(convictions, rules_used(run.policy, run.as_of), Authority(None, None))
    # As `write_filings` prepares them: no public-safety challenge from the petitioner's side,
    # counts without a court case number held out of any filing.
    classified = hold_without_case(mark_public_safety(classified, None, ""))
    info = FilingInfo(
        office="",
        signer="",
        bar_number="",
        office_address="",
        phone="",
        email="",
        court_name=f"Superior Court of California, County of {county.title()}",
        court_address=court_address,
    )
    counsel = (
        Counsel(name=signer, bar_number=bar_number or "", office=office or "") if signer else None
    )
    subject = str(person["subject_id"])
    for path, documents in iter_packets(classified, info, [subject], run_dir, "petitioner",
                                        counsel):  # fmt: skip
        target = run_dir / f"petition-{path.name}"
        render_pdf(documents, target)
        return target
    return None


def read_error_message(exc: ReadError | CheckError) -> str:
    return str(exc)
