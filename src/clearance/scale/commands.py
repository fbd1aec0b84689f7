"""What `clearance run` calls for the ways of running in this package (kept out of cli.py so
the command stays one page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clearance.engine import DECISIONS, EngineError
from clearance.outputs.run import RunFiles
from clearance.policy.schema import Policy
from clearance.records.doj import Records
from clearance.scale.statewide import (
    STATEWIDE_COLUMNS,
    StatewideFiles,
    is_statewide,
    run_statewide,
)


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
) -> StatewideFiles:
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
    print_statewide(state, policy, as_of, quiet, out)
    return state


def print_statewide(
    state: StatewideFiles, policy: Policy, as_of: date, quiet: bool, out: Console
) -> None:
    """The statewide table (unless quiet) and how many counties and convictions."""
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
    out.print(f"{len(state.rows)} counties, {decided:,} convictions decided", highlight=False)


def _statewide_in_buckets(
    plan: Plan,
    files: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    as_of: date,
    policy_text: str,
    with_what_ifs: bool,
    quiet: bool,
    out: Console,
    err: Console,
) -> RunFiles:
    """`--county all` above the memory limit (`statewide_buckets`), printed as in memory."""
    from clearance.scale.statewide_buckets import run_statewide_in_buckets

    show = not quiet and err.is_terminal
    with err.status("deciding every county in buckets of people") if show else _nothing() as s:

        def progress(done: int, total: int) -> None:
            if s is not None:
                s.update(f"deciding every county, bucket {done:,} of {total:,}")

        ran = run_statewide_in_buckets(files, out_dir, policy, as_of, policy_text, plan.buckets,
                                       with_what_ifs, progress)  # fmt: skip
    if not quiet:
        out.print(f"input larger than the memory limit: decided in {plan.buckets:,} buckets "
                  f"of people ({ran.disk_bytes / 1e6:,.0f} MB on disk while running)",
                  highlight=False)  # fmt: skip
        rows = sum(f.rows_read for f in ran.files)
        loaded = sum(f.rows_loaded for f in ran.files)
        quarantined = sum(f.rows_quarantined for f in ran.files)
        out.print(f"{rows:,} rows read = {loaded:,} loaded + {quarantined:,} quarantined",
                  highlight=False)  # fmt: skip
    print_statewide(ran.state, policy, as_of, quiet, out)
    return RunFiles(out_dir=out_dir, files=ran.state.files, summary={})


class _nothing:
    """A context that yields None (no spinner when quiet)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@dataclass(frozen=True)
class Plan:
    """How a run is made when it is not the usual in-memory one."""

    kind: str  # "statewide", "buckets" or "spark" (statewide with `buckets`: out of core)
    buckets: int = 0
    master: str | None = None
    county_files: Path | None = None


def scale_plan(
    files: Sequence[Path],
    county: str,
    engine: str,
    master: str | None,
    memory_limit: str | None,
    fmt: str | None,
    county_files: Path | None,
) -> Plan | None:
    """None for the usual in-memory run; else how to run. Raises UsageError-worthy
    `EngineError`s for options that do not go together."""
    from clearance.records.sources import detect_format
    from clearance.scale.memory import (
        MemoryLimitError,
        buckets_for,
        default_limit,
        parse_size,
    )

    if engine not in ("local", "spark"):
        raise EngineError(f"--engine {engine!r}: use local or spark")
    if engine == "local" and master is not None:
        raise EngineError("--master goes with --engine spark")
    if engine == "local" and county_files is not None:
        raise EngineError("--write-county-files goes with --engine spark")
    try:
        limit = default_limit() if memory_limit is None else parse_size(memory_limit)
    except MemoryLimitError as exc:
        raise EngineError(str(exc)) from None
    doj = fmt in (None, "doj") and all(detect_format(p) == "doj" for p in files if p.is_file())
    if engine == "local" and is_statewide(county):
        # Above the memory limit, every county is decided in buckets of people on disk.
        return Plan(kind="statewide", buckets=buckets_for(files, limit) if doj else 0)
    if engine == "spark":
        if is_statewide(county):
            raise EngineError("--engine spark decides one county per run (or use --county all "
                              "with the local engine)")  # fmt: skip
        if not doj:
            raise EngineError("--engine spark reads DOJ bulk files only")
        return Plan(kind="spark", master=master, county_files=county_files)
    if not doj:
        return None
    buckets = buckets_for(files, limit)
    return Plan(kind="buckets", buckets=buckets) if buckets else None


def scaled_run(
    plan: Plan,
    files: Sequence[Path],
    out_dir: Path,
    policy: Policy,
    as_of: date,
    county: str,
    policy_text: str,
    with_what_ifs: bool,
    quiet: bool,
    out: Console,
    err: Console,
    seconds: dict[str, float] | None = None,
    read: Callable[[], Records] | None = None,
) -> RunFiles:
    """Run as `plan` says into `out_dir` and print what the usual run prints. `seconds`
    receives the seconds of the engine's steps (for `--timings`); `read` reads the inputs in
    memory with the run's progress bar (every county at once)."""
    show = not quiet and err.is_terminal
    if plan.kind == "statewide" and plan.buckets:
        return _statewide_in_buckets(plan, files, out_dir, policy, as_of, policy_text,
                                     with_what_ifs, quiet, out, err)  # fmt: skip
    if plan.kind == "statewide":
        assert read is not None
        records = read()
        if not quiet:
            from clearance.cli import print_accounting

            print_accounting(records)
        state = statewide_run(out_dir, records, policy, as_of, files, policy_text, with_what_ifs,
                              quiet, out, err)  # fmt: skip
        return RunFiles(out_dir=out_dir, files=state.files, summary={})
    if plan.kind == "spark":
        from clearance.scale.spark import run_on_spark

        with err.status("running on Spark") if show else _nothing():
            ran = run_on_spark(
                files, out_dir, policy, as_of, county, policy_text, with_what_ifs,
                master=plan.master, county_files=plan.county_files,
            )  # fmt: skip
        written, stats = ran.written, ran.files
        if seconds is not None:
            seconds.update(ran.seconds)
        if plan.county_files is not None:
            out.print(f"{len(ran.county_files):,} county files (DOJ layout) in "
                      f"{plan.county_files}/", highlight=False)  # fmt: skip
    else:
        from clearance.scale.outofcore import run_in_buckets

        with err.status("deciding in buckets of people") if show else _nothing() as spinner:

            def progress(done: int, total: int) -> None:
                if spinner is not None:
                    spinner.update(f"deciding bucket {done:,} of {total:,}")

            bucketed = run_in_buckets(
                files, out_dir, policy, as_of, county, policy_text, plan.buckets,
                with_what_ifs, progress,
            )  # fmt: skip
        written, stats = bucketed.written, bucketed.files
        if not quiet:
            out.print(f"input larger than the memory limit: decided in {plan.buckets:,} buckets "
                      f"of people ({bucketed.disk_bytes / 1e6:,.0f} MB on disk while running)",
                      highlight=False)  # fmt: skip
    if not quiet:
        rows = sum(f.rows_read for f in stats)
        loaded = sum(f.rows_loaded for f in stats)
        quarantined = sum(f.rows_quarantined for f in stats)
        summary = written.summary["input"]
        out.print(f"{rows:,} rows read = {loaded:,} loaded + {quarantined:,} quarantined; "
                  f"{summary['people']:,} people, {summary['counts']:,} counts",
                  highlight=False)  # fmt: skip
        from clearance.cli import print_summary

        print_summary(written.summary)
    return written
