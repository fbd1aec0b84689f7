"""Reconciliation: did the state record change the way the run's relief asked?

Relief is real only when the record changes. For every conviction a run relieved (decision
`dismiss` or `reduce`) this module reads its state in a newer DOJ bulk file (or in a court's
response file, `reconcile_court.py`) and classifies it:

- **reflected**: the newer record shows the relief asked: dismissed (HS 11361.8(e)-(f), or a
  dismissal under PC 1385), or redesignated to the level asked (HS 11361.8(f), (h)); a
  dismissal on the person's petition (PC 1203.4 "set aside") where the office filed a notice
  of non-opposition;
- **pending**: still convicted, at the level it had: nothing changed yet;
- **contradicting**: changed, but not as asked (reduced where dismissal was asked, set aside
  under PC 1203.4 where the statute's dismissal and sealing was asked, another level...);
- **gone**: the count is no longer in the newer file.

What the relief "asked" is the relief filed (`outputs/filings/groups.py`): a reduction is
filed at the statute's level, so that is the level looked for; a dismissal the office decided
but filed under no authority is looked for as decided.

The same count in the newer file is the same SUBJECT_ID, cycle and count number (CNT_ORDER
`CCCSSSNNN000`): the same court step, or a later court step of the same cycle for the same
section (where a court records its later action as a new step).

Whether sealed records leave the file: the DOJ bulk-file layout (`doj-bulk-file.md`) is silent
on how 11361.8 relief is recorded and on whether a sealed conviction stays in later extracts.
So a count that is no longer present is classified `gone`, never `reflected`: it may have been
sealed and withheld, or left the file for another reason; the office checks it. Every output
says so (`SEALED_NOTE`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from clearance.outputs.filings.data import FilingsError, RunData, load_run, rules_used
from clearance.outputs.filings.groups import GROUP_BY_KEY, Authority, classify
from clearance.outputs.filings.marks import hold_without_case
from clearance.outputs.folder import list_in_run, whole_folder

STATUSES = ("reflected", "pending", "contradicting", "gone")
#: The relief group of relieved rows in no filing (no authority, or held for a case number).
NOT_FILED = "not-filed"
HELD = "held-no-case-number"

SEALED_NOTE = (
    "The DOJ bulk-file layout (doj-bulk-file.md) does not say how HS 11361.8 relief is recorded "
    "nor whether a sealed conviction stays in later extracts. A relieved conviction no longer in "
    "the newer file is counted as gone, not as reflected: it may have been sealed and withheld, "
    "or be missing for another reason, and is for the office to check."
)

#: Columns of reconcile.csv, in order.
RECONCILE_COLUMNS = (
    "status", "note", "court", "relief_group", "court_case_number", "subject_id", "cii_number",
    "name", "count_id", "code_section", "decision", "asked", "old_disposition", "old_level",
    "now_count_id", "now_disposition", "now_level", "now_source", "since", "since_date",
    "age_days", "source",
)  # fmt: skip
PENDING_COLUMNS = (
    "court", "relief_group", "court_case_number", "subject_id", "counts", "count_ids", "since",
    "since_date", "age_days",
)  # fmt: skip


class ReconcileError(Exception):
    """Input the user has to fix; the message is one line without personal data."""


@dataclass(frozen=True)
class Since:
    """From when a pending case's age counts: the order date, else the motion date."""

    kind: str | None = None
    day: date | None = None

    @classmethod
    def of(cls, order: date | None, motion: date | None) -> Since:
        if order is not None:
            return cls("order", order)
        if motion is not None:
            return cls("motion", motion)
        return cls()


@dataclass(frozen=True)
class NewerState:
    """The state of each relieved conviction in the newer source, one row per relieved
    conviction (its subject_id and count_id) with `now_*` columns and `present` (the person
    is in the newer source) and a `source_kind` (doj or court)."""

    frame: pl.DataFrame
    kind: str
    description: dict[str, Any] = field(default_factory=dict)
    #: Rows of a court response that matched no relieved conviction, or could not be read.
    unmatched: pl.DataFrame | None = None
    #: Rows of a newer DOJ file set aside by the reader (file, line, reason, raw).
    quarantine: pl.DataFrame | None = None


def relieved_convictions(run: RunData) -> pl.DataFrame:
    """The run's relieved convictions with their relief group and the state the relief asks
    (`asked`: dismissed, misdemeanor, infraction or set_aside) and `set_aside_ok` (a notice of
    non-opposition was filed: a PC 1203.4 dismissal on petition is what it leads to)."""
    manifest = _filings_manifest(run.run_dir)
    chosen = manifest.get("policy_authority") or {}
    block = run.policy.filing.policy_authority
    authority = Authority(
        chosen.get("serving") or block.serving, chosen.get("completed") or block.completed
    )
    convictions = run.convictions.with_columns(pl.col("kind").fill_null("cannabis"))
    relieved = convictions.filter(pl.col("decision").is_in(["dismiss", "reduce"]))
    classified = hold_without_case(classify(relieved, rules_used(run.policy, run.as_of), authority))
    order, notice = pl.col("order_group"), pl.col("notice_group")
    level = pl.col("statute_level")
    decided = (
        pl.when(pl.col("decision") == "dismiss")
        .then(pl.lit("dismissed"))
        .otherwise(pl.col("new_level").fill_null("misdemeanor"))
    )
    asked = (
        pl.when(order == "dismiss-seal")
        .then(pl.lit("dismissed"))
        .when(order.is_in(["policy-dismiss-pc1385", "related-dismiss-pc1385"]))
        .then(pl.lit("dismissed"))
        .when(order.is_in(["recall-resentence", "redesignate"]))
        .then(
            pl.when(level == "dismiss")
            .then(pl.lit("dismissed"))
            .otherwise(level.fill_null("misdemeanor"))
        )
        .when(notice.is_not_null())
        .then(pl.lit("set_aside"))
        .otherwise(decided)
    )
    group = (
        pl.coalesce(order, notice)
        .fill_null(pl.when(pl.col("held_group").is_not_null()).then(pl.lit(HELD)))
        .fill_null(pl.lit(NOT_FILED))
    )
    # A conviction already set aside under PC 1203.4 (decided too: HS 11361.8 reaches it) has
    # that state before any relief: a record still showing it is not the relief reflected.
    was_set_aside = pl.col("reasons").fill_null("").str.contains(r"(^|;)set_aside_pc1203_4(;|$)")
    return classified.with_columns(
        asked.alias("asked"),
        notice.is_not_null().alias("set_aside_ok"),
        was_set_aside.alias("was_set_aside"),
        group.alias("relief_group"),
        pl.col("county").fill_null("UNKNOWN").alias("court"),
    )


def _filings_manifest(run_dir: Path) -> dict[str, Any]:
    """The filings' manifest when the run has filings (their authority and order date)."""
    path = run_dir / "filings" / "manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_order_date(run_dir: Path) -> date | None:
    """The order date the filings were built with (`clearance filings --order-date`)."""
    value = _filings_manifest(run_dir).get("order_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _count_parts(prefix: str = "") -> list[pl.Expr]:
    """Step and count number of a CNT_ORDER (`CCCSSSNNN000`)."""
    cid = pl.col(f"{prefix}count_id")
    return [
        cid.str.slice(0, 3).alias(f"{prefix}_cycle"),
        cid.str.slice(3, 3).alias(f"{prefix}_step"),
        cid.str.slice(6, 3).alias(f"{prefix}_count"),
    ]


def doj_states(
    relieved: pl.DataFrame, counts: pl.DataFrame, subjects: pl.DataFrame
) -> pl.DataFrame:
    """Each relieved conviction's state in a newer DOJ file's canonical tables: the same court
    count, or a later court step of the same cycle with the same count number and section."""
    keys = relieved.select("subject_id", "count_id", pl.col("code_section").alias("_section"))
    keys = keys.with_columns(_count_parts())
    court = (
        counts.lazy()
        .filter(pl.col("step_type").cast(pl.String) == "court")
        .select(
            "subject_id",
            pl.col("count_id").alias("now_count_id"),
            pl.col("code_section").cast(pl.String).alias("_now_section"),
            pl.col("disposition").cast(pl.String).alias("now_disposition"),
            pl.col("level").cast(pl.String).alias("now_level"),
            (
                pl.col("source_file").cast(pl.String)
                + pl.lit(":")
                + pl.col("source_line").cast(pl.String)
            ).alias("now_source"),
        )
        .join(keys.lazy().select("subject_id").unique(), on="subject_id", how="semi")
        .with_columns(_count_parts("now_"))
        .collect()
    )
    candidates = keys.join(
        court,
        left_on=["subject_id", "_cycle", "_count"],
        right_on=["subject_id", "now__cycle", "now__count"],
        how="inner",
    ).filter(
        (pl.col("now_count_id") == pl.col("count_id"))
        | (
            (pl.col("now__step") > pl.col("_step"))
            & (pl.col("_now_section") == pl.col("_section")).fill_null(False)
        )
    )
    # The latest court step that speaks of the count wins.
    latest = candidates.sort("now__step").group_by(["subject_id", "count_id"]).last()
    present = subjects.select("subject_id").unique().with_columns(pl.lit(True).alias("present"))
    return (
        keys.select("subject_id", "count_id")
        .join(
            latest.select(
                "subject_id",
                "count_id",
                "now_count_id",
                "now_disposition",
                "now_level",
                "now_source",
            ),
            on=["subject_id", "count_id"],
            how="left",
        )
        .join(present, on="subject_id", how="left")
        .with_columns(pl.col("present").fill_null(False))
    )


def read_newer_doj(relieved: pl.DataFrame, paths: Sequence[Path]) -> NewerState:
    """Read newer DOJ bulk files and find each relieved conviction's state in them."""
    from clearance.records.doj import ReadError, read_doj

    try:
        records = read_doj(list(paths))
    except ReadError as exc:
        raise ReconcileError(str(exc)) from None
    frame = doj_states(relieved, records.counts, records.subjects)
    description = {
        "kind": "doj",
        "files": [Path(p).name for p in paths],
        "rows_read": records.rows_read,
        "rows_loaded": records.rows_loaded,
        "rows_quarantined": records.rows_quarantined,
        "sealed_records": SEALED_NOTE,
    }
    return NewerState(
        frame=frame, kind="doj", description=description, quarantine=records.quarantine
    )


def classify_states(relieved: pl.DataFrame, newer: NewerState) -> pl.DataFrame:
    """Join the relieved convictions to their newer state and classify each."""
    frame = relieved.join(newer.frame, on=["subject_id", "count_id"], how="left")
    asked = pl.col("asked")
    disposition = pl.col("now_disposition")
    now_level = pl.col("now_level")
    old_level = pl.col("offense_level").fill_null("unknown")
    found = pl.col("now_count_id").is_not_null() | disposition.is_not_null()
    was = pl.col("was_set_aside").fill_null(False)
    old_state = (was & (disposition == "set_aside")).fill_null(False)
    reflected = (
        pl.when(asked == "dismissed")
        .then(disposition == "dismissed")
        .when(asked == "set_aside")
        .then(
            pl.when(was)
            .then(disposition == "dismissed")
            .otherwise(disposition.is_in(["set_aside", "dismissed"]))
        )
        .otherwise(((disposition == "convicted") | old_state) & (now_level == asked))
        | (pl.col("set_aside_ok") & ~was & (disposition == "set_aside"))
    ).fill_null(False)
    same_level = now_level.fill_null("unknown") == old_level
    unchanged = (
        ((disposition == "convicted") & same_level).fill_null(False)
        | (disposition == "unchanged").fill_null(False)
        | (old_state & same_level).fill_null(False)
    )
    court_kind = newer.kind == "court"
    status = (
        pl.when(~found & pl.lit(court_kind))
        .then(pl.lit("pending"))
        .when(~found)
        .then(pl.lit("gone"))
        .when(reflected)
        .then(pl.lit("reflected"))
        .when(unchanged)
        .then(pl.lit("pending"))
        .otherwise(pl.lit("contradicting"))
    )
    asked_text = _state_text(asked, pl.lit(None, dtype=pl.String))
    note = (
        pl.when(~found & pl.lit(court_kind))
        .then(pl.lit("not in the court's response: no action reported"))
        .when(~found & pl.col("present"))
        .then(pl.lit("the count is no longer in the newer file (sealed and withheld, or missing)"))
        .when(~found)
        .then(pl.lit("the person is no longer in the newer file (sealed and withheld, or missing)"))
        .when(reflected)
        .then(pl.lit("the record shows ") + _state_text(disposition, now_level))
        .when(unchanged)
        .then(pl.lit("unchanged: still ") + _state_text(disposition, old_level))
        .otherwise(
            pl.lit("asked ")
            + asked_text
            + pl.lit("; the record shows ")
            + _state_text(disposition, now_level)
        )
    )
    return frame.with_columns(status.alias("status"), note.alias("note"))


def _state_text(disposition: pl.Expr, level: pl.Expr) -> pl.Expr:
    """A state in words: 'dismissed', 'convicted (felony)', 'set aside (PC 1203.4)'..."""
    return (
        pl.when(disposition == "dismissed")
        .then(pl.lit("dismissed"))
        .when(disposition == "set_aside")
        .then(pl.lit("set aside (PC 1203.4)"))
        .when(disposition.is_in(["misdemeanor", "infraction"]))
        .then(pl.lit("reduced to ") + disposition)
        .when(disposition == "convicted")
        .then(pl.lit("convicted (") + level.fill_null("unknown") + pl.lit(")"))
        .when(disposition == "denied")
        .then(pl.lit("relief denied by the court"))
        .when(disposition == "unchanged")
        .then(pl.lit("no action yet"))
        .otherwise(pl.lit("disposition ") + disposition.fill_null("not recorded"))
    )


def with_ages(frame: pl.DataFrame, since: Since, as_of: date) -> pl.DataFrame:
    """The age in days of each pending conviction since the order (or motion) date."""
    day = pl.lit(since.day, dtype=pl.Date)
    age = (pl.lit(as_of, dtype=pl.Date) - day).dt.total_days()
    pending = pl.col("status") == "pending"
    return frame.with_columns(
        pl.lit(since.kind, dtype=pl.String).alias("since"),
        day.dt.to_string("%Y-%m-%d").alias("since_date"),
        pl.when(pending).then(age).otherwise(None).cast(pl.Int64).alias("age_days"),
    )


def reconcile_table(frame: pl.DataFrame) -> pl.DataFrame:
    """reconcile.csv: one row per relieved conviction with both states, in a stable order."""
    return frame.sort(
        ["court", "relief_group", "court_case_number", "subject_id", "count_id"], nulls_last=True
    ).select(
        "status",
        "note",
        "court",
        "relief_group",
        "court_case_number",
        "subject_id",
        "cii_number",
        "name",
        "count_id",
        "code_section",
        "decision",
        "asked",
        pl.when(pl.col("was_set_aside"))
        .then(pl.lit("set_aside"))
        .otherwise(pl.lit("convicted"))
        .alias("old_disposition"),
        pl.col("offense_level").fill_null("unknown").alias("old_level"),
        "now_count_id",
        "now_disposition",
        "now_level",
        "now_source",
        "since",
        "since_date",
        "age_days",
        "source",
    )


def pending_cases(table: pl.DataFrame) -> pl.DataFrame:
    """pending.csv: one row per court case still pending, oldest first, for follow-up."""
    pending = table.filter(pl.col("status") == "pending")
    return (
        pending.group_by(["court", "relief_group", "court_case_number", "subject_id"])
        .agg(
            pl.len().alias("counts"),
            pl.col("count_id").sort().str.join(";").alias("count_ids"),
            pl.col("since").first(),
            pl.col("since_date").first(),
            pl.col("age_days").max(),
        )
        .sort(
            ["age_days", "court", "court_case_number", "subject_id"],
            descending=[True, False, False, False],
            nulls_last=True,
        )
        .select(PENDING_COLUMNS)
    )


def _tally(table: pl.DataFrame, by: list[str]) -> list[dict[str, Any]]:
    """Counts per status, the share reflected and the pending ages, per group of `by`."""
    counts = [(pl.col("status") == s).sum().alias(s) for s in STATUSES]
    pending_age = pl.col("age_days").filter(pl.col("status") == "pending")
    rows = (
        table.group_by(by)
        .agg(
            pl.len().alias("relieved"),
            *counts,
            pending_age.max().alias("pending_oldest_days"),
            pending_age.median().alias("pending_median_days"),
            pl.col("court_case_number")
            .filter(pl.col("status") == "pending")
            .n_unique()
            .alias("pending_cases"),
        )
        .sort(by)
        .to_dicts()
    )
    for row in rows:
        row["reflected_share"] = (
            round(row["reflected"] / row["relieved"], 4) if row["relieved"] else 0.0
        )
        median = row["pending_median_days"]
        row["pending_median_days"] = None if median is None else round(float(median), 1)
    return rows


def build_summary(
    run: RunData, table: pl.DataFrame, newer: NewerState, since: Since, as_of: date
) -> dict[str, Any]:
    """reconcile.json: totals, by court, by relief group and by both, with pending ages."""
    totals = {s: table.filter(pl.col("status") == s).height for s in STATUSES}
    groups = {
        key: {"title": GROUP_BY_KEY[key].title, "authority": GROUP_BY_KEY[key].authority}
        for key in sorted(set(table["relief_group"].to_list()))
        if key in GROUP_BY_KEY
    }
    return {
        "run": run.run_dir.name,
        "county": run.county,
        "policy": run.summary.get("policy", {}).get("name", run.policy.name),
        "run_as_of": run.as_of.isoformat(),
        "as_of": as_of.isoformat(),
        "since": {"kind": since.kind, "date": since.day.isoformat() if since.day else None},
        "newer": newer.description,
        "relieved": table.height,
        "totals": totals,
        "reflected_share": round(totals["reflected"] / table.height, 4) if table.height else 0.0,
        "by_court": _tally(table, ["court"]),
        "by_group": _tally(table, ["relief_group"]),
        "by_court_group": _tally(table, ["court", "relief_group"]),
        "groups": groups,
        "sealed_records": SEALED_NOTE,
    }


@dataclass(frozen=True)
class Reconciled:
    """What `reconcile` wrote."""

    out_dir: Path
    files: tuple[str, ...]
    summary: dict[str, Any]
    table: pl.DataFrame


def reconcile(
    run_dir: Path,
    out_dir: Path,
    *,
    as_of: date,
    newer_files: Sequence[Path] = (),
    court_response: Path | None = None,
    order_date: date | None = None,
    motion_date: date | None = None,
) -> Reconciled:
    """Reconcile a run's relief against newer DOJ files or a court's response file and write
    reconcile.csv, pending.csv, reconcile.json and the report (HTML and PDF) to `out_dir`."""
    if bool(newer_files) == (court_response is not None):
        raise ReconcileError("give either newer DOJ files or --court-response FILE.csv (one)")
    try:
        run = load_run(run_dir)
    except FilingsError as exc:
        raise ReconcileError(str(exc)) from None
    relieved = relieved_convictions(run)
    if court_response is not None:
        from clearance.outputs.reconcile_court import read_court_response

        newer = read_court_response(relieved, court_response)
    else:
        newer = read_newer_doj(relieved, newer_files)
    since = Since.of(order_date or manifest_order_date(run_dir), motion_date)
    if since.day is not None and since.day > as_of:
        raise ReconcileError(
            f"the {since.kind} date {since.day.isoformat()} is after --as-of {as_of.isoformat()}"
        )
    table = reconcile_table(with_ages(classify_states(relieved, newer), since, as_of))
    summary = build_summary(run, table, newer, since, as_of)
    with whole_folder(out_dir, "reconcile") as building:
        files = _write_reconciliation(building, table, newer, summary)
    list_in_run(run_dir, out_dir)
    return Reconciled(out_dir=out_dir, files=tuple(files), summary=summary, table=table)


def _write_reconciliation(
    out_dir: Path, table: pl.DataFrame, newer: NewerState, summary: dict[str, Any]
) -> list[str]:
    """The reconciliation's files, written into the folder being built."""
    table.write_csv(out_dir / "reconcile.csv")
    pending_cases(table).write_csv(out_dir / "pending.csv")
    files = ["reconcile.csv", "pending.csv"]
    if newer.unmatched is not None:
        newer.unmatched.write_csv(out_dir / "unmatched.csv")
        files.append("unmatched.csv")
    if newer.quarantine is not None:
        newer.quarantine.write_csv(out_dir / "quarantine.csv")
        files.append("quarantine.csv")
    (out_dir / "reconcile.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    files.append("reconcile.json")
    from clearance.outputs.reconcile_report import write_reconcile_report

    files.extend(write_reconcile_report(summary, out_dir))
    return files
