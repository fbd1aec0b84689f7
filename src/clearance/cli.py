"""The `clearance` command: read, decide and explain from the shell.

Every command prints what it did in plain words and exits non-zero with a one-line message on
bad input (a missing file, a file that is not a DOJ extract, an invalid policy): never a
traceback, and never a name, a date of birth or an identifier from the data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearance.exits import CommandError, Exit
from clearance.guard import Outcome, command_errors, fail
from clearance.guard import UsageError as UsageError  # other command modules raise it
from clearance.policy.schema import Policy
from clearance.records.chunks import MAX_LINE_BYTES
from clearance.records.doj import ProgressCallback, Records, total_bytes
from clearance.scale.commands import scale_plan
from clearance.scale.options import CountyFilesOpt, EngineOpt, MasterOpt, MemoryLimitOpt
from clearance.scale.statewide import is_statewide

app = typer.Typer(
    help="Clear Proposition 64 cannabis convictions in bulk from the DOJ bulk file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

FilesArg = Annotated[
    list[Path],
    typer.Argument(
        help="DOJ bulk files (.dat, .csv, .gz), RAP sheets (.txt, .pdf) or court exports "
        "(.csv, .xlsx, with --mapping); the kind of each is found from its content."
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="Read every file as this kind: doj, rapsheet or court."),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help="Court exports: the YAML mapping of their columns."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")]
MaxLineOpt = Annotated[
    int,
    typer.Option(
        "--max-line-bytes",
        help="The longest line of a DOJ file read (bytes; default 1 MB): a longer one is set "
        "aside in quarantine.csv without being held in memory.",
        min=1024,
    ),
]


class Stopwatch:
    """Seconds per named stage, for `--timings` and the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(time.perf_counter() - start, 4)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn every failure into one line with its exit status (`guard.command_errors`)."""
    with command_errors():
        yield


@contextmanager
def reading_progress(paths: Sequence[Path], quiet: bool) -> Iterator[ProgressCallback | None]:
    """A byte-based progress bar over all inputs (nothing when quiet or not on a terminal)."""
    if quiet or not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("read", total=total_bytes(paths))
        yield lambda n: bar.advance(task, n)


def read_inputs(
    paths: Sequence[Path],
    quiet: bool,
    fmt: str | None = None,
    mapping: Path | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Records:
    """Read the inputs, each by its kind (DOJ files, RAP sheets, court exports), with a
    progress bar; several kinds are merged person by person (`records.sources`)."""
    from clearance.records.sources import read_sources

    with reading_progress(paths, quiet) as progress:
        records = read_sources(paths, fmt, mapping, progress, max_line_bytes).records
    # Shown even when quiet: each changes what the outputs hold.
    for warning in records.warnings:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    return records


def refuse_unusable(records: Records, outcome: Outcome, out_dir: Path) -> None:
    """Inputs of which no row could be used leave nothing to decide: say so, with the
    quarantine that says why, instead of the county's absence from an input that has no rows.
    Exit status 2, and, as for every failed run, previous outputs stay as they were: the
    quarantine is written (with run.json, whole) only into a new or empty folder; beside
    previous outputs the error line gives the commonest reasons instead."""
    staging = outcome.staging
    if records.rows_loaded or not records.files or staging is None:
        return
    if staging.had_previous:
        raise CommandError(
            f"no usable rows: {records.rows_quarantined:,} quarantined "
            f"({_commonest_reasons(records)}); nothing was decided (run into a new folder to "
            "see every line in quarantine.csv)",
            Exit.USAGE,
        )
    from clearance.outputs.cells import write_people_csv
    from clearance.outputs.folder import commit

    write_people_csv(records.quarantine, staging.path / "quarantine.csv")
    commit(staging, "run")
    # The folder is in place and says what was found: the error line says only that.
    outcome.staging = None
    raise CommandError(
        f"no usable rows: {records.rows_quarantined:,} quarantined, see "
        f"{out_dir / 'quarantine.csv'} (nothing was decided)",
        Exit.USAGE,
    )


def _commonest_reasons(records: Records, shown: int = 3) -> str:
    """The quarantine's commonest reasons with their counts (reasons name no person)."""
    import polars as pl

    # "wrong number of fields: 7 instead of 9" and "exact duplicate of line 12" are each one
    # reason, whatever the figures.
    stem = pl.col("reason").str.replace(r"(:.*| \d+)$", "")
    counts = (
        records.quarantine.select(stem)
        .group_by("reason")
        .len()
        .sort(["len", "reason"], descending=[True, False])
    )
    parts = [f"{n:,} {reason}" for reason, n in counts.head(shown).iter_rows()]
    if counts.height > shown:
        parts.append(f"{counts.height - shown} other reason(s)")
    return "; ".join(parts)


def print_accounting(records: Records) -> None:
    """Rows read = loaded + quarantined, per file and in total."""
    table = Table(title="Rows read", title_justify="left")
    for col in ("file", "rows read", "loaded", "quarantined", "blank lines"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for f in records.files:
        table.add_row(
            Path(f.path).name,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            f"{f.blank_lines:,}",
        )
    out.print(table)
    out.print(
        f"{records.rows_read:,} rows read = {records.rows_loaded:,} loaded + "
        f"{records.rows_quarantined:,} quarantined; {records.subjects.height:,} people, "
        f"{records.counts.height:,} counts"
        + (
            f" ({records.merged_duplicate_counts:,} counts found in two files merged)"
            if records.merged_duplicate_counts
            else ""
        ),
        highlight=False,
    )


@app.command()
def ingest(
    files: FilesArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the tables.")] = Path(
        "ingest-output"
    ),
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    mapping: MappingOpt = None,
    max_line_bytes: MaxLineOpt = MAX_LINE_BYTES,
) -> None:
    """Read the inputs into the canonical tables (Parquet) plus quarantine.csv."""
    from clearance.inputs import prepare_inputs
    from clearance.outputs.folder import commit, stage

    outcome = Outcome()
    with command_errors(outcome), stage(out_dir) as staging:
        outcome.staging = staging
        inputs = prepare_inputs(files, staging.spool)
        records = read_inputs(inputs, quiet, fmt, mapping, max_line_bytes)
        folder = staging.path
        records.subjects.write_parquet(folder / "subjects.parquet")
        records.counts.write_parquet(folder / "counts.parquet")
        from clearance.outputs.cells import write_people_csv

        # Text from the data never becomes a live formula in a spreadsheet (as in a run).
        write_people_csv(records.quarantine, folder / "quarantine.csv")
        from clearance.outputs.sources import write_source_outputs
        from clearance.records.sources import sources_of

        read = sources_of(records)
        if read is not None:
            write_source_outputs(folder, read, None)
        commit(staging, "ingest")
    if not quiet:
        print_accounting(records)
    if records.files and not records.rows_loaded:
        err.print(
            f"[bold yellow]warning:[/] no usable rows: {records.rows_quarantined:,} quarantined, "
            f"see {escape(str(out_dir / 'quarantine.csv'))}",
            highlight=False,
            soft_wrap=True,
        )
    out.print(f"wrote subjects.parquet, counts.parquet, quarantine.csv, run.json to {out_dir}/")


@app.command()
def synth(
    out_file: Annotated[
        Path, typer.Option("--out", help="File to write (.gz compresses); a folder for RAP sheets.")
    ],
    rows: Annotated[int, typer.Option(help="Data rows to write.", min=1)] = 20_000,
    county: Annotated[
        str,
        typer.Option(
            help="The county most events happen in; 'all': every county, each batch of 1,024 "
            "people at home in the next one."
        ),
    ] = "SACRAMENTO",
    seed: Annotated[int, typer.Option(help="Same seed, same file.")] = 0,
    malformed: Annotated[
        float, typer.Option(help="Share of deliberately malformed rows.", min=0.0, max=0.5)
    ] = 0.002,
    latin1: Annotated[
        bool, typer.Option(help="Write Latin-1 bytes (some accented names).")
    ] = False,
    crlf: Annotated[bool, typer.Option(help="Write CRLF line endings.")] = False,
    no_header: Annotated[bool, typer.Option("--no-header", help="Omit the header row.")] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="doj (a bulk file), rapsheet (a folder of RAP sheets), court-export (a case "
            "list, .csv or .xlsx, with its mapping) or federal (a federal case list, .csv).",
        ),
    ] = "doj",
    people: Annotated[
        int, typer.Option(help="rapsheet / court-export / federal: how many people.", min=1)
    ] = 20,
    from_doj: Annotated[
        Path | None,
        typer.Option("--from", help="rapsheet / court-export: the DOJ file whose people to use."),
    ] = None,
    pdf: Annotated[bool, typer.Option(help="rapsheet: also a text PDF of each sheet.")] = False,
    scan: Annotated[
        bool, typer.Option(help="rapsheet: also a scanned (image-only) PDF, for the OCR path.")
    ] = False,
    repository: Annotated[
        bool,
        typer.Option(
            "--repository",
            help="doj: a whole repository, one person in ten with a cannabis conviction.",
        ),
    ] = False,
    age: Annotated[
        Path | None,
        typer.Option(
            "--age",
            help="A run folder: write --from FILE (the DOJ file it read) as a newer file with "
            "the run's relief applied, except the shares below.",
        ),
    ] = None,
    unchanged: Annotated[
        float,
        typer.Option(help="--age: share of relieved convictions left unchanged.", min=0.0, max=1.0),
    ] = 0.2,
    contradicting: Annotated[
        float,
        typer.Option(
            help="--age: share changed otherwise (set aside, another level).", min=0.0, max=1.0
        ),
    ] = 0.0,
    gone: Annotated[
        float, typer.Option(help="--age: share whose rows are left out.", min=0.0, max=1.0)
    ] = 0.0,
) -> None:
    """Write a synthetic DOJ bulk file, RAP sheets or a court export (no real person), or age
    a DOJ file with a run's relief (--age)."""
    if age is not None:
        from clearance.reconcile_cli import age as age_copy

        age_copy(age, from_doj, out_file, unchanged, contradicting, gone, seed)
        return
    if fmt in ("rapsheet", "court-export"):
        from clearance.synth_sources import write_sources

        with friendly_errors():
            if from_doj is not None and not from_doj.is_file():
                raise UsageError(f"{from_doj}: no such file")
            written = write_sources(
                "rapsheet" if fmt == "rapsheet" else "court",
                out_file,
                rows=rows,
                county=county,
                seed=seed,
                people=people,
                from_doj=from_doj,
                pdf=pdf,
                scan=scan,
            )
        out.print(f"wrote {written.description}", highlight=False)
        return
    if fmt == "federal":
        from clearance.synth_federal import write_case_list

        made = write_case_list(out_file, people, seed, malformed)
        out.print(
            f"wrote a federal case list of {made.rows:,} counts ({made.people:,} people, "
            f"{made.malformed_rows:,} malformed) to {out_file}",
            highlight=False,
        )
        return
    if fmt != "doj":
        fail(f"--format {fmt!r}: use doj, rapsheet, court-export or federal")
    from clearance.synth import write_synthetic

    stats = write_synthetic(
        out_file,
        rows=rows,
        county=county,
        seed=seed,
        malformed_share=malformed,
        header=not no_header,
        crlf=crlf,
        encoding="latin-1" if latin1 else "utf-8",
        repository=repository,
    )
    out.print(
        f"wrote {stats.rows:,} rows ({stats.people:,} people, {stats.malformed_rows:,} malformed, "
        f"{stats.bytes_written / 1e6:,.1f} MB) to {out_file}",
        highlight=False,
    )


def parse_as_of(value: str | None) -> date:
    """The run's as-of date; required so that results never depend on the day they are run."""
    if value is None:
        raise UsageError("--as-of YYYY-MM-DD is required (results depend on it)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date: use YYYY-MM-DD") from None


@app.command()
def run(
    files: FilesArg,
    county: Annotated[
        str,
        typer.Option(help="County to decide, e.g. 'San Joaquin'; 'all' for every county."),
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date the decisions speak for (YYYY-MM-DD).")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Preset name, a policy .yaml, or a configurable-tool .json.")
    ] = "statute",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
        "clearance-output"
    ),
    no_what_if: Annotated[
        bool, typer.Option("--no-what-if", help="Skip the what-if policies in the summary.")
    ] = False,
    timings: Annotated[
        Path | None,
        typer.Option(help="Write the seconds of each stage (read, decide, write) as JSON here."),
    ] = None,
    filings: Annotated[
        bool,
        typer.Option(
            "--filings",
            help="Also write the motions, orders, notices, court file, report and workbook "
            "(OUT/filings; filing details from the policy's filing: block or --filing).",
        ),
    ] = False,
    filing_pairs: FilingPairsOpt = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    mapping: MappingOpt = None,
    engine: EngineOpt = "local",
    master: MasterOpt = None,
    memory_limit: MemoryLimitOpt = None,
    county_files: CountyFilesOpt = None,
    max_line_bytes: MaxLineOpt = MAX_LINE_BYTES,
) -> None:
    """Read the inputs and decide every cannabis conviction in the county; write the outputs.

    The output folder is checked before anything is read, the outputs (and the filings) are
    written into a hidden folder beside it and put in its place only when all are complete,
    with run.json listing each file's size and SHA-256; a failure or Ctrl-C leaves the previous
    folder as it was."""
    from clearance.engine import EngineError, decide
    from clearance.inputs import prepare_inputs
    from clearance.outputs.folder import check_output_file, commit, stage
    from clearance.outputs.run import write_run
    from clearance.policy.loader import PolicyError, load_policy, policy_text

    clock = Stopwatch()
    outcome = Outcome()
    with command_errors(outcome), stage(out_dir) as staging:
        outcome.staging = staging
        folder = staging.path
        if timings is not None:
            check_output_file(timings)
        try:
            day = parse_as_of(as_of)
            chosen = load_policy(policy)
            text = policy_text(policy)
            if filings and is_statewide(county):
                raise UsageError(
                    "--filings with --county all: file each county from its folder "
                    "(OUT/counties/<county>)"
                )
            if filings:
                overrides = check_filing(chosen, filing_pairs)
            inputs = prepare_inputs(files, staging.spool)
            # Every county at once, an input above the memory limit, or Spark (`scale`).
            plan = scale_plan(inputs, county, engine, master, memory_limit, fmt, county_files)
            in_memory = plan is None or (plan.kind == "statewide" and not plan.buckets)
            if not in_memory and max_line_bytes != MAX_LINE_BYTES:
                raise UsageError(
                    "--max-line-bytes goes with the in-memory run (not with --engine spark or "
                    "an input above the memory limit)"
                )
            if plan is not None:
                from clearance.scale.commands import scaled_run

                def reader() -> Records:
                    return read_inputs(inputs, quiet, fmt, mapping, max_line_bytes)

                with clock("read, decide and write"):
                    written = scaled_run(plan, inputs, folder, chosen, day, county, text,
                                         not no_what_if, quiet, out, err, clock.seconds,
                                         reader)  # fmt: skip
            else:
                with clock("read"):
                    records = read_inputs(inputs, quiet, fmt, mapping, max_line_bytes)
                refuse_unusable(records, outcome, out_dir)
                with clock("decide"), status("deciding", quiet):
                    decided = decide(records, chosen, day, county)
                with clock("write"), status("writing outputs", quiet):
                    from clearance.outputs.sources import write_source_outputs
                    from clearance.records.sources import sources_of

                    read = sources_of(records)
                    written = write_run(
                        folder,
                        decided,
                        records,
                        inputs if read is None else read.doj_inputs,
                        text,
                        with_what_ifs=not no_what_if,
                    )
                    if read is not None:
                        write_source_outputs(folder, read, decided)
            if filings:
                from clearance.outputs.filings import FilingsError, write_filings

                with clock("filings"), status("writing filings", quiet):
                    try:
                        write_filings(folder, filing=overrides, style="pairs")
                    except FilingsError as exc:
                        raise UsageError(str(exc)) from None
            with clock("manifest"):
                commit(staging, "run")
        except (PolicyError, EngineError) as exc:
            raise UsageError(str(exc)) from None
    if timings is not None:
        with command_errors():
            timings.write_text(json.dumps(clock.seconds, indent=2) + "\n", encoding="utf-8")
    if not quiet and plan is None:
        print_accounting(records)
        print_summary(written.summary)
    names = ", ".join((*written.files, "run.json"))
    out.print(f"outputs in {out_dir}/: {names}", highlight=False)
    if filings:
        out.print(f"filings in {out_dir / 'filings'}/", highlight=False)


def check_filing(policy: Policy, pairs: list[str] | None) -> dict[str, str | None]:
    """`--filings` needs who files where; say so before reading anything."""
    from clearance.outputs.filings.data import FilingsError, parse_filing_pairs, resolve_filing

    try:
        overrides = parse_filing_pairs(pairs)
        resolve_filing(policy, overrides, style="pairs")
    except FilingsError as exc:
        raise UsageError(f"--filings: {exc}") from None
    return overrides


@contextmanager
def status(message: str, quiet: bool) -> Iterator[None]:
    """A spinner for a step without a natural progress measure."""
    if quiet or not err.is_terminal:
        yield
        return
    with err.status(message):
        yield


def print_summary(summary: dict[str, object]) -> None:
    """The headline figures of a run."""
    by_decision = summary["by_decision"]
    impact = summary["people_impact"]
    assert isinstance(by_decision, dict) and isinstance(impact, dict)
    table = Table(
        title=f"{summary['county']} County, policy {summary['policy']['name']}, "  # type: ignore[index]
        f"as of {summary['as_of']}",
        title_justify="left",
    )
    table.add_column("decision")
    table.add_column("convictions", justify="right")
    for key in ("dismiss", "reduce", "not_eligible", "review"):
        table.add_row(key.replace("_", " "), f"{by_decision.get(key, 0):,}")
    out.print(table)
    out.print(
        f"{summary['people']:,} people: {impact['relieved']:,} relieved, "
        f"{impact['no_longer_felony']:,} no longer have a felony, "
        f"{impact['no_conviction_left']:,} have no conviction left",
        highlight=False,
    )
    federal = summary.get("federal_entries")
    if isinstance(federal, dict) and federal.get("counts"):
        out.print(
            f"{federal['counts']:,} federal entr{'y' if federal['counts'] == 1 else 'ies'} "
            f"of {federal['people']:,} {'person' if federal['people'] == 1 else 'people'}: "
            "state relief cannot reach them; screen them "
            "under the 2022 and 2023 marijuana pardons with `clearance federal` on the same "
            "files",
            highlight=False,
        )


@app.command()
def verify(
    folder: Annotated[
        Path, typer.Argument(help="A folder written by `clearance run` or `ingest`.")
    ],
) -> None:
    """Check that a folder is whole: every file its run.json lists is there with the same size
    and SHA-256, and nothing else is. Exit 0 when whole, 9 when not."""
    from clearance.outputs.folder import verify_folder

    with command_errors():
        found = verify_folder(folder)
    if found.whole:
        out.print(
            f"{folder}/ is whole: {found.files:,} files, {found.bytes:,} bytes, each with the "
            "size and SHA-256 its run.json lists",
            highlight=False,
        )
        return
    for kind, names in (("missing", found.missing), ("changed", found.changed),
                        ("not listed in run.json", found.extra)):  # fmt: skip
        for name in names:
            # A packet is named by the person's SUBJECT_ID, which is not to be printed.
            shown = "a per-person packet" if "packets/" in name else name
            err.print(f"{kind}: {escape(shown)}", highlight=False, soft_wrap=True)
    problems = len(found.missing) + len(found.changed) + len(found.extra)
    fail(f"{folder}: not whole ({problems:,} problem{'s' if problems != 1 else ''} above)",
         Exit.NOT_WHOLE)  # fmt: skip


@app.command()
def explain(
    subject_id: Annotated[str, typer.Argument(help="The person's SUBJECT_ID.")],
    run_dir: Annotated[Path, typer.Option("--run", help="Folder written by `clearance run`.")],
) -> None:
    """One person's record as a timeline, each cannabis count with every rule that fired."""
    from clearance.outputs.explain import ExplainError, explain_person

    with friendly_errors():
        try:
            explain_person(run_dir, subject_id, out)
        except ExplainError as exc:
            raise UsageError(str(exc)) from None


@app.command()
def rules(
    policy: Annotated[str | None, typer.Option(help="Also list the rules of this policy.")] = None,
    federal: Annotated[
        bool, typer.Option("--federal", help="The federal pardon rules (clearance federal).")
    ] = False,
) -> None:
    """Every rule with its id, citation and plain sentence."""
    from clearance.engine import all_rules
    from clearance.law.prop64 import STATUTE_RULES
    from clearance.policy.loader import PolicyError, load_policy

    if federal:
        from clearance.law.federal import FEDERAL_RULES

        listing = Table(show_lines=False)
        for col in ("id", "outcome", "citation", "rule"):
            listing.add_column(col, overflow="fold")
        for fed in FEDERAL_RULES:
            listing.add_row(fed.id, fed.outcome, fed.citation, fed.text)
        out.print(listing)
        return
    with friendly_errors():
        try:
            chosen = all_rules(load_policy(policy), date(2000, 1, 1)) if policy else STATUTE_RULES
        except PolicyError as exc:
            raise UsageError(str(exc)) from None
    table = Table(show_lines=False)
    for col in ("id", "outcome", "citation", "rule"):
        table.add_column(col, overflow="fold")
    for rule in chosen:
        table.add_row(rule.id, rule.outcome, rule.citation, rule.text)
    out.print(table)


@app.command()
def policies() -> None:
    """The shipped county policies (use the name with --policy)."""
    from clearance.policy.loader import list_presets

    table = Table()
    for col in ("name", "title", "source"):
        table.add_column(col, overflow="fold")
    for p in list_presets():
        table.add_row(p.name, p.title, p.source)
    out.print(table)


# Commands of other parts of the project register themselves here.
# --- filings commands ---
from clearance.outputs.filings.cli import FilingPairsOpt  # noqa: E402
from clearance.outputs.filings.cli import register as _register_filings  # noqa: E402

_register_filings(app)
# --- store and web commands ---
from clearance.store.cli import register as register_store  # noqa: E402

register_store(app)
from clearance.web.cli import register as register_web  # noqa: E402

register_web(app)
# --- sources commands ---
from clearance.check_cli import register as register_check  # noqa: E402

register_check(app)
# --- federal screen ---
from clearance.federal_cli import register as register_federal  # noqa: E402

register_federal(app)
# --- reconciliation and letters ---
from clearance.reconcile_cli import register as register_reconcile  # noqa: E402

register_reconcile(app)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="clearance")
