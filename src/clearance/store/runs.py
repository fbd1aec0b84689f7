"""Runs in the database: loading a run folder, finding counts, and rebuilding reviewed outputs.

Why it is built this way:
- A run folder is loaded as whole tables, never row by row through the ORM: COPY on
  PostgreSQL, one prepared `executemany` on SQLite, so a county's tens of thousands of
  convictions load in seconds.
- Every filter is a bound parameter (LIKE wildcards in the user's text are escaped) and sort keys
  come from a fixed list, so text typed into a filter can only ever fail to match.
- The engine's decision is kept; the attorney's review is stored beside it. The reviewed
  outputs replace the decision only where a count was overridden, and they are written by the
  same functions that write a run (`clearance.outputs.tables`), so a reviewed convictions.csv has
  exactly the columns and formatting of the original.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Table, and_, func, insert, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from clearance.engine import (
    DETERMINATION_COLUMNS,
    REMEDY_COMPLETED,
    REMEDY_SERVING,
    Decided,
    normalize_county,
)
from clearance.outputs.cells import KEYS, unescape_text, write_people_csv
from clearance.outputs.filings.data import REVIEWS_FILE
from clearance.outputs.person_index import INDEX_FILE
from clearance.outputs.run import RECORD_DIR
from clearance.outputs.summary import build_summary
from clearance.outputs.tables import (
    CONVICTION_COLUMNS,
    people_table,
    write_convictions,
    write_results_csv,
)
from clearance.policy.loader import policy_from_tool_options, policy_from_yaml_text
from clearance.policy.schema import Policy
from clearance.records.doj import FileStats, Records
from clearance.records.schema import QUARANTINE_SCHEMA
from clearance.store import audit
from clearance.store.models import (
    DETERMINATION_DATA_COLUMNS,
    PERSON_DATA_COLUMNS,
    RUN_STATUSES,
    Determination,
    Person,
    Run,
    RunInput,
    utcnow,
)
from clearance.store.search import escape_like, search_condition

__all__ = [
    "SORTS",
    "StoreError",
    "create_pending_run",
    "export_reviewed_run",
    "get_determination",
    "get_run",
    "list_runs",
    "mark_run",
    "people_of",
    "query_determinations",
    "review_progress",
    "reviewed_determinations",
    "reviewed_table",
    "store_run",
]

#: Files a run folder must have to be stored.
RUN_FILES = (
    "summary.json",
    "convictions.parquet",
    "people.csv",
    f"{RECORD_DIR}/determinations.parquet",
    f"{RECORD_DIR}/policy.yaml",
)
#: Files of a run folder copied as they are into a reviewed copy (results.csv is rebuilt).
COPIED_FILES = ("quarantine.csv", "summary.json")
_HASH_BLOCK = 4 << 20
_COPY_ROWS = 50_000
_INSERT_ROWS = 5_000
MAX_PER_PAGE = 1_000

#: Sort keys of `query_determinations`; each ends with the count's own keys so pages are stable.
SORTS: dict[str, tuple[str, ...]] = {
    "subject_id": ("subject_id", "count_id"),
    "count_id": ("count_id", "subject_id"),
    "name": ("name", "subject_id", "count_id"),
    "decision": ("decision", "subject_id", "count_id"),
    "code_section": ("code_section", "subject_id", "count_id"),
    "conviction_date": ("conviction_date", "subject_id", "count_id"),
    "offense_date": ("offense_date", "subject_id", "count_id"),
    "court_case_number": ("court_case_number", "subject_id", "count_id"),
    "offense_level": ("offense_level", "subject_id", "count_id"),
    "age_at_offense": ("age_at_offense", "subject_id", "count_id"),
    "review_status": ("review_status", "subject_id", "count_id"),
    "reviewed_at": ("reviewed_at", "subject_id", "count_id"),
    "id": ("id",),
}

#: Filters shared by `query_determinations` and `reviews.bulk_accept` (`search`: see
#: `clearance.store.search`).
FILTERS = ("decision", "reason", "section", "court", "status", "search")


class StoreError(ValueError):
    """A run folder, input or request the store cannot use; the message says what to do."""


# --------------------------------------------------------------------------------------------
# Runs


def sha256_file(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex) of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def valid_id(value: int) -> bool:
    """Whether `value` can be a row id (1 .. 2**63 - 1): a larger one names nothing, and
    passing it to the database would overflow its integer instead of finding no row."""
    return 0 < value < 2**63


def get_run(session: Session, run_id: int) -> Run | None:
    return session.get(Run, run_id) if valid_id(run_id) else None


def list_runs(session: Session) -> list[Run]:
    """Every run, newest first."""
    return list(session.execute(select(Run).order_by(Run.id.desc())).scalars())


def create_pending_run(
    session: Session,
    county: str,
    policy_name: str,
    policy_text: str,
    as_of: date,
    created_by: str,
) -> Run:
    """A queued run for the web upload flow (commits); `store_run(..., run=...)` completes it."""
    run = Run(
        created_at=utcnow(),
        created_by=created_by,
        county=county,
        policy_name=policy_name,
        policy_text=policy_text,
        policy_sha256=text_sha256(policy_text),
        as_of=as_of,
        status="queued",
    )
    session.add(run)
    session.flush()
    audit.append(
        session,
        created_by,
        "run.created",
        f"run:{run.id}",
        {"county": county, "policy": policy_name, "policy_sha256": run.policy_sha256,
         "as_of": as_of.isoformat()},
    )  # fmt: skip
    session.commit()
    return run


def mark_run(session: Session, run: Run, status: str, error: str | None = None) -> None:
    """Move a run to `status` (commits). The error text stays on the run, not in the audit log."""
    if status not in RUN_STATUSES:
        raise StoreError(f"a run's status is one of {', '.join(RUN_STATUSES)}")
    previous = run.status
    run.status = status
    run.error = error
    audit.append(
        session,
        "system",
        f"run.{status}",
        f"run:{run.id}",
        {"from": previous, "error": error is not None},
    )
    session.commit()


def _read_run_folder(run_dir: Path) -> tuple[dict[str, Any], str, pl.DataFrame, pl.DataFrame]:
    """(summary, policy text, determinations, people) of a run folder, checked."""
    if not run_dir.is_dir():
        raise StoreError(f"{run_dir}: no such folder")
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise StoreError(
            f"{run_dir}: not a run folder (missing {', '.join(missing)}); "
            f"write one with `clearance run ... --out {run_dir}`"
        )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    # Bytes decoded as they are, so the stored text hashes like the file the run used.
    policy = (run_dir / RECORD_DIR / "policy.yaml").read_bytes().decode("utf-8")
    decided = pl.read_parquet(run_dir / RECORD_DIR / "determinations.parquet")
    identity = pl.read_parquet(run_dir / "convictions.parquet").select(
        "subject_id", "count_id", "name", "dob", "cii_number", "source"
    )
    if identity.height != decided.height:
        raise StoreError(
            f"{run_dir}: convictions.parquet and record/determinations.parquet disagree "
            f"({identity.height:,} and {decided.height:,} rows): rerun `clearance run`"
        )
    table = decided.join(
        identity, on=["subject_id", "count_id"], how="left", maintain_order="left"
    ).with_columns(
        pl.col("age").alias("age_at_offense"),
        pl.col("level").alias("offense_level"),
        pl.col("reasons").list.join(";").fill_null("").alias("reasons"),
    )
    people = unescape_text(
        pl.read_csv(run_dir / "people.csv", infer_schema=False), PERSON_DATA_COLUMNS
    )
    return summary, policy, table.select(DETERMINATION_DATA_COLUMNS), _typed_people(people)


def _typed_people(people: pl.DataFrame) -> pl.DataFrame:
    """people.csv read as text (ids keep their leading zeros), then typed."""
    ints = ("convictions_before", "convictions_after", "felonies_before", "felonies_after")
    bools = (
        "no_conviction_left", "no_felony_left", "conviction_last_7_years_before",
        "conviction_last_7_years_after",
    )  # fmt: skip
    return people.select(PERSON_DATA_COLUMNS).with_columns(
        pl.col("dob").str.to_date("%Y-%m-%d", strict=False),
        *[pl.col(c).cast(pl.Int64, strict=False) for c in ints],
        *[pl.col(c).str.to_lowercase().replace_strict({"true": True, "false": False},
                                                      default=None, return_dtype=pl.Boolean)
          for c in bools],
    )  # fmt: skip


def _check_inputs(summary: dict[str, Any], inputs: Sequence[Path]) -> list[dict[str, Any]]:
    """The summary's per-file accounting, matched to the given input files in order."""
    files: list[dict[str, Any]] = list(summary.get("input", {}).get("files", []))
    read = ", ".join(str(f.get("name")) for f in files) or "no file"
    if len(inputs) != len(files):
        raise StoreError(
            f"the run read {len(files)} file(s) ({read}); give each with --input, in order"
        )
    for given, recorded in zip(inputs, files, strict=True):
        if not given.is_file():
            raise StoreError(f"{given}: no such file")
        if given.name != recorded.get("name"):
            raise StoreError(f"{given.name}: not an input of this run (the run read {read})")
        if "bytes" in recorded and given.stat().st_size != recorded["bytes"]:
            raise StoreError(
                f"{given.name}: has {given.stat().st_size:,} bytes, the run read "
                f"{recorded['bytes']:,}: not the file the run used"
            )
    return files


def store_run(
    session: Session,
    run_dir: Path,
    inputs: Sequence[Path],
    created_by: str,
    *,
    run: Run | None = None,
    run_id: int | None = None,
) -> Run:
    """Load a run folder into the database (commits) and return its Run.

    The inputs are the DOJ files the run read, in order: their names and sizes are checked
    against the run's summary and their SHA-256 is stored, so the run can later be tied to the
    exact files. Given `run` or `run_id` (a pending run of the web flow), that run is completed
    instead of a new one being made. The audit entry "run.stored" holds counts and hashes, no data.
    """
    run_dir = Path(run_dir)
    summary, policy_text, table, people = _read_run_folder(run_dir)
    files = _check_inputs(summary, [Path(p) for p in inputs])
    hashed = [sha256_file(Path(p)) for p in inputs]
    accounting = summary.get("input", {})
    as_of = date.fromisoformat(str(summary["as_of"]))
    policy_sha = text_sha256(policy_text)
    if run is None and run_id is not None:
        run = get_run(session, run_id)
        if run is None:
            raise StoreError(f"no run {run_id}")
    if run is None:
        run = Run(created_at=utcnow(), created_by=created_by)
        session.add(run)
    elif run.status == "done" or (
        run.policy_sha256 != policy_sha
        or run.as_of != as_of
        or normalize_county(run.county) != normalize_county(str(summary["county"]))
    ):
        raise StoreError(
            f"run {run.id}: the folder is not the output of this run "
            "(county, policy, as-of date or status differ)"
        )
    run.county = str(summary["county"])
    run.policy_name = str(summary.get("policy", {}).get("name", ""))
    run.policy_text = policy_text
    run.policy_sha256 = policy_sha
    run.as_of = as_of
    run.run_dir = str(run_dir.resolve())
    run.rows_read = accounting.get("rows_read")
    run.rows_loaded = accounting.get("rows_loaded")
    run.rows_quarantined = accounting.get("rows_quarantined")
    run.summary_json = json.dumps(summary, sort_keys=True)
    run.status = "done"
    run.error = None
    session.flush()
    for position, (path, recorded, (size, digest)) in enumerate(
        zip(inputs, files, hashed, strict=True)
    ):
        session.add(
            RunInput(
                run_id=run.id,
                position=position,
                name=Path(path).name,
                size=size,
                sha256=digest,
                rows_read=int(recorded.get("rows_read", 0)),
                rows_loaded=int(recorded.get("rows_loaded", 0)),
                rows_quarantined=int(recorded.get("rows_quarantined", 0)),
            )
        )
    session.flush()
    bulk_insert(
        session,
        Determination.__table__,  # type: ignore[arg-type]
        table.with_columns(
            pl.lit(run.id, dtype=pl.Int64).alias("run_id"),
            pl.lit("pending").alias("review_status"),
        ),
    )
    bulk_insert(
        session,
        Person.__table__,  # type: ignore[arg-type]
        people.with_columns(pl.lit(run.id, dtype=pl.Int64).alias("run_id")),
    )
    audit.append(
        session,
        created_by,
        "run.stored",
        f"run:{run.id}",
        {
            "county": run.county,
            "policy": run.policy_name,
            "policy_sha256": policy_sha,
            "as_of": as_of.isoformat(),
            "convictions": table.height,
            "people": people.height,
            "rows_read": run.rows_read,
            "rows_loaded": run.rows_loaded,
            "rows_quarantined": run.rows_quarantined,
            "inputs": [
                {"file": Path(p).name, "size": size, "sha256": digest}
                for p, (size, digest) in zip(inputs, hashed, strict=True)
            ],
        },
    )
    session.commit()
    return run


# --------------------------------------------------------------------------------------------
# Bulk loading


def bulk_insert(session: Session, table: Table, frame: pl.DataFrame) -> None:
    """Insert a whole table in the session's transaction, the fastest way the database allows."""
    if frame.height == 0:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        _copy_postgresql(connection.connection.dbapi_connection, table, frame)
        # Fresh statistics, or the planner meets the first page query blind (a 5x slower plan).
        connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    elif dialect == "sqlite":
        _executemany_sqlite(connection.connection.dbapi_connection, table, frame)
    else:
        for start in range(0, frame.height, _INSERT_ROWS):
            connection.execute(insert(table), frame.slice(start, _INSERT_ROWS).to_dicts())


def _copy_postgresql(dbapi: Any, table: Table, frame: pl.DataFrame) -> None:
    """COPY ... FROM STDIN as CSV: Polars writes it, the server parses it.

    In PostgreSQL's CSV an unquoted empty field is NULL and a quoted one ("") an empty string,
    which is exactly how Polars writes nulls and empty strings.
    """
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, frame.height, _COPY_ROWS):
            buffer = io.BytesIO()
            frame.slice(start, _COPY_ROWS).write_csv(buffer, include_header=False)
            copy.write(buffer.getvalue())


def _executemany_sqlite(dbapi: Any, table: Table, frame: pl.DataFrame) -> None:
    """One prepared INSERT for all rows, values in SQLAlchemy's SQLite storage formats.

    SQLAlchemy keeps a DATE on SQLite as 'YYYY-MM-DD' text and a BOOLEAN as 0/1; converting the
    columns in Polars first lets the rows go to the driver as plain tuples.
    """
    converted = frame.with_columns(
        *[pl.col(c).dt.to_string("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date],
        *[pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean],
    )
    columns = ", ".join(f'"{c}"' for c in converted.columns)
    marks = ", ".join("?" for _ in converted.columns)
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
    cursor = dbapi.cursor()
    try:
        cursor.executemany(statement, converted.iter_rows())
    finally:
        cursor.close()


# --------------------------------------------------------------------------------------------
# Finding counts


def determination_filters(
    run_id: int,
    *,
    decision: str | None = None,
    reason: str | None = None,
    section: str | None = None,
    court: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE conditions for a run's counts; empty filters are ignored.

    decision: the engine's decision. reason: a rule id among the count's reasons. section:
    'HS 11359' (any subsection), 'HS 11359(b)' (exactly) or '11359'. court: the county of the
    court or a court case number. status: the review status. search: a name, SUBJECT_ID, CII
    number, date of birth or part of a case number (`clearance.store.search`).
    """
    d = Determination
    conditions: list[ColumnElement[bool]] = [d.run_id == run_id]
    if decision:
        conditions.append(d.decision == decision)
    if reason:
        wrapped = literal(";") + d.reasons + literal(";")
        conditions.append(wrapped.like(f"%;{escape_like(reason.strip())};%", escape="\\"))
    if section:
        text = section.strip()
        conditions.append(
            or_(
                d.code_section == text,
                d.code_section.like(f"{escape_like(text)}(%", escape="\\"),
                d.section == text,
            )
        )
    if court:
        text = court.strip()
        conditions.append(
            or_(d.county == " ".join(text.replace("-", " ").upper().split()),
                d.court_case_number == text)
        )  # fmt: skip
    if status:
        conditions.append(d.review_status == status)
    found = search_condition(search or "")
    if found is not None:
        conditions.append(found)
    return conditions


def query_determinations(
    session: Session,
    run_id: int,
    *,
    decision: str | None = None,
    reason: str | None = None,
    section: str | None = None,
    court: str | None = None,
    status: str | None = None,
    search: str | None = None,
    sort: str = "subject_id",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Determination], int]:
    """One page of a run's counts matching the filters, and how many match in all.

    Offset paging over an index-backed order: with the (run_id, ...) indexes a page deep into
    a run of 100,000 counts costs milliseconds. `sort` must be a key of `SORTS` (ValueError
    otherwise); `per_page` is capped at `MAX_PER_PAGE`.
    """
    if sort not in SORTS:
        raise ValueError(f"sort by one of {', '.join(SORTS)}")
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    conditions = determination_filters(
        run_id,
        decision=decision,
        reason=reason,
        section=section,
        court=court,
        status=status,
        search=search,
    )
    total = session.execute(
        select(func.count()).select_from(Determination).where(and_(*conditions))
    ).scalar_one()
    order = []
    for i, name in enumerate((*SORTS[sort], "id")):
        column: InstrumentedAttribute[Any] = getattr(Determination, name)
        key = column.desc() if descending else column.asc()
        # Same place for unknown values on both databases; not on NOT NULL columns, where it
        # would only keep PostgreSQL from reading a descending order off the index.
        nullable = Determination.__table__.c[name].nullable
        order.append(key.nulls_last() if i == 0 and nullable else key)
    # The page's ids first: the database sorts narrow keys, not whole rows with their long
    # explanations, then only the page's rows are read.
    ids = list(
        session.execute(
            select(Determination.id)
            .where(and_(*conditions))
            .order_by(*order)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).scalars()
    )
    found = {
        row.id: row
        for row in session.execute(select(Determination).where(Determination.id.in_(ids))).scalars()
    }
    rows = [found[i] for i in ids if i in found]
    return rows, int(total)


def get_determination(session: Session, run_id: int, determination_id: int) -> Determination | None:
    """A count of a run (None if the id belongs to another run)."""
    if not valid_id(determination_id):
        return None
    found = session.get(Determination, determination_id)
    return found if found is not None and found.run_id == run_id else None


def people_of(session: Session, run_id: int, subject_ids: Iterable[str]) -> list[Person]:
    """people.csv rows of a run for the given subjects."""
    wanted = list(subject_ids)
    if not wanted:
        return []
    return list(
        session.execute(
            select(Person)
            .where(Person.run_id == run_id, Person.subject_id.in_(wanted))
            .order_by(Person.subject_id)
        ).scalars()
    )


def review_progress(session: Session, run_id: int) -> dict[str, dict[str, int]]:
    """{engine decision: {review status: counts}} of a run, every decision and status present."""
    rows = session.execute(
        select(Determination.decision, Determination.review_status, func.count())
        .where(Determination.run_id == run_id)
        .group_by(Determination.decision, Determination.review_status)
    ).all()
    result: dict[str, dict[str, int]] = {
        d: dict.fromkeys(("pending", "accepted", "overridden"), 0)
        for d in ("dismiss", "reduce", "not_eligible", "review")
    }
    for decision, status, n in rows:
        result.setdefault(str(decision), {})[str(status)] = int(n)
    return result


# --------------------------------------------------------------------------------------------
# Reviewed outputs

#: The stored columns read back, with the types record/determinations.parquet uses.
_FETCH_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    **{c: pl.String() for c in DETERMINATION_DATA_COLUMNS},
    "dob": pl.Date(),
    "offense_date": pl.Date(),
    "conviction_date": pl.Date(),
    "sentence_end": pl.Date(),
    "age_at_offense": pl.Int32(),
    "serving": pl.Boolean(),
    "source_line": pl.Int64(),
    "review_status": pl.String(),
    "reviewed_decision": pl.String(),
    "reviewed_new_level": pl.String(),
}


def _fetch(session: Session, run_id: int) -> pl.DataFrame:
    """Every stored count of a run, in the order the engine wrote them, review applied."""
    if get_run(session, run_id) is None:
        raise StoreError(f"no run {run_id}")
    names = list(_FETCH_SCHEMA)
    result = session.execute(
        select(*[getattr(Determination, n) for n in names])
        .where(Determination.run_id == run_id)
        .order_by(Determination.id)
    )
    frame = pl.DataFrame([tuple(row) for row in result], schema=_FETCH_SCHEMA, orient="row")
    overridden = pl.col("review_status") == "overridden"
    decision = pl.when(overridden).then(pl.col("reviewed_decision")).otherwise(pl.col("decision"))
    remedy = (
        pl.when(~overridden)
        .then(pl.col("remedy"))
        .when(decision == "not_eligible")
        .then(None)
        .when(pl.col("remedy").is_not_null())
        .then(pl.col("remedy"))
        .when(pl.col("serving").fill_null(False))
        .then(pl.lit(REMEDY_SERVING))
        .otherwise(pl.lit(REMEDY_COMPLETED))
    )
    was = pl.concat_str([pl.col("decision"), pl.format(" ({})", pl.col("new_level")).fill_null("")])
    now = pl.concat_str([decision, pl.format(" ({})", pl.col("reviewed_new_level")).fill_null("")])
    note = pl.format("Attorney review: decision changed from {} to {}", was, now)
    explanation = (
        pl.when(overridden & pl.col("explanation").is_not_null() & (pl.col("explanation") != ""))
        .then(pl.concat_str([pl.col("explanation"), pl.lit(" | "), note]))
        .when(overridden)
        .then(note)
        .otherwise(pl.col("explanation"))
    )
    return frame.with_columns(
        pl.col("decision").alias("engine_decision"),
        decision.alias("decision"),
        pl.when(overridden)
        .then(pl.col("reviewed_new_level"))
        .otherwise(pl.col("new_level"))
        .alias("new_level"),
        remedy.alias("remedy"),
        explanation.alias("explanation"),
    )


def _as_determinations(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns and types of record/determinations.parquet."""
    return frame.with_columns(
        pl.col("age_at_offense").alias("age"),
        pl.col("offense_level").alias("level"),
        pl.when(pl.col("reasons") == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("reasons").str.split(";"))
        .alias("reasons"),
    ).select(DETERMINATION_COLUMNS)


def reviewed_determinations(session: Session, run_id: int) -> pl.DataFrame:
    """A run's determinations (record/determinations.parquet) with the reviews applied."""
    return _as_determinations(_fetch(session, run_id))


def reviewed_table(session: Session, run_id: int) -> pl.DataFrame:
    """A run's convictions (convictions.parquet columns) with overridden decisions applied.

    Built from the database alone, so it works even when the run folder is gone. A count an
    attorney overrode carries the new decision and new level, the remedy that goes with it, and
    a sentence at the end of its explanation saying what was changed.
    """
    return _fetch(session, run_id).select(CONVICTION_COLUMNS).sort(["subject_id", "count_id"])


def _policy_from_text(text: str, name: str) -> Policy:
    """The run's policy back from its stored text (YAML, or the configurable tool's JSON)."""
    try:
        data = json.loads(text)
    except ValueError:
        return policy_from_yaml_text(text, name)
    if isinstance(data, dict):
        return policy_from_tool_options(data, name)
    return policy_from_yaml_text(text, name)


def _records_of(run_dir: Path, summary: dict[str, Any]) -> Records:
    """The canonical record a run folder keeps, enough to rebuild its tables."""
    record = run_dir / RECORD_DIR
    quarantine_file = run_dir / "quarantine.csv"
    quarantine = (
        pl.read_csv(quarantine_file, infer_schema=False)
        if quarantine_file.is_file() and quarantine_file.stat().st_size
        else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )
    accounting = summary.get("input", {})
    files = [
        FileStats(
            path=str(f.get("name", "")),
            bytes=int(f.get("bytes", 0)),
            rows_read=int(f.get("rows_read", 0)),
            rows_loaded=int(f.get("rows_loaded", 0)),
            rows_quarantined=int(f.get("rows_quarantined", 0)),
            blank_lines=int(f.get("blank_lines", 0)),
            header=bool(f.get("header", False)),
            encoding=str(f.get("encoding", "utf-8")),
        )
        for f in accounting.get("files", [])
    ]
    return Records(
        subjects=pl.read_parquet(record / "subjects.parquet"),
        counts=pl.read_parquet(record / "counts.parquet"),
        quarantine=quarantine,
        files=files,
        merged_duplicate_counts=int(accounting.get("counts_merged_across_files", 0)),
    )


def _inputs_for_results(
    run: Run, records: Records, decided: Decided, inputs: Sequence[Path] | None
) -> tuple[Records, Decided, list[Path]] | str:
    """The run's own input files (checked by SHA-256) for results.csv, or why they are not here;
    with the records and determinations pointing at the files where they are now."""
    stored = sorted(run.inputs, key=lambda i: i.position)
    recorded = records.counts["source_file"].unique(maintain_order=True).to_list()
    by_name: dict[str, str] = {}
    for path in recorded:
        base = Path(str(path)).name
        if base in by_name:
            return "two inputs share a file name"
        by_name[base] = str(path)
    candidates = (
        [Path(p) for p in inputs]
        if inputs is not None
        else [Path(by_name.get(i.name, i.name)) for i in stored]
    )
    if not stored or len(candidates) != len(stored):
        return "the input files were not given"
    for path, known in zip(candidates, stored, strict=True):
        if not path.is_file():
            return f"input {known.name} not found"
        if sha256_file(path) != (known.size, known.sha256):
            return f"input {path.name} is not the file the run read (SHA-256 differs)"
    mapping = {by_name[i.name]: str(p) for p, i in zip(candidates, stored, strict=True)
               if i.name in by_name}  # fmt: skip
    moved = pl.col("source_file").replace(mapping).alias("source_file")
    return (
        replace(records, counts=records.counts.with_columns(moved)),
        replace(decided, table=decided.table.with_columns(moved)),
        candidates,
    )


def _is_reviewed_export(folder: Path) -> bool:
    """Whether `folder` holds an earlier reviewed copy (its summary has a "review" block)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and isinstance(summary.get("review"), dict)


def _prepare_export_dir(out_dir: Path) -> None:
    """An empty folder for the copy; an earlier reviewed copy there is replaced, nothing else."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not _is_reviewed_export(out_dir):
            raise StoreError(f"{out_dir}: exists, is not empty and is not a reviewed copy")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def export_reviewed_run(
    session: Session,
    run_id: int,
    out_dir: Path,
    *,
    inputs: Sequence[Path] | None = None,
    actor: str = "system",
) -> Path:
    """Copy the run folder to `out_dir` with every table rebuilt from the reviewed decisions.

    Rewritten: convictions.csv/.parquet, record/determinations.parquet, people.csv and
    summary.json (decision figures recomputed; the what-if blocks do not depend on reviews and
    are kept; a "review" block says how many counts were accepted and overridden). results.csv
    is rebuilt when the input files are at hand (`inputs`, or the paths the run read) and match
    their stored SHA-256; otherwise it is removed rather than left with stale decisions, and the
    summary says why. The original folder is never changed. Only the run's own files are copied
    (not filings or other folders kept beside them), so `out_dir` may lie inside the run folder;
    an earlier reviewed copy in `out_dir` is replaced. Commits an audit entry.
    """
    run = get_run(session, run_id)
    if run is None:
        raise StoreError(f"no run {run_id}")
    if run.status != "done" or not run.run_dir:
        raise StoreError(f"run {run_id} has no outputs yet (status {run.status})")
    source = Path(run.run_dir)
    if not source.is_dir():
        raise StoreError(f"run {run_id}: its folder {source} is gone; reviewed_table() still works")
    out_dir = Path(out_dir)
    if out_dir.resolve() == source.resolve():
        raise StoreError("the reviewed copy must go to another folder than the run's own")
    _prepare_export_dir(out_dir)
    for name in COPIED_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, out_dir / name)
    # Not the person index: it describes the run's own tables, and determinations change here.
    shutil.copytree(
        source / RECORD_DIR, out_dir / RECORD_DIR, ignore=shutil.ignore_patterns(INDEX_FILE)
    )

    summary = run.summary
    fetched = _fetch(session, run_id)
    table = _as_determinations(fetched)
    records = _records_of(out_dir, summary)
    policy = _policy_from_text(run.policy_text, f"run {run_id} policy")
    decided = Decided(table=table, policy=policy, as_of=run.as_of, county=run.county, rules=())

    table.write_parquet(out_dir / RECORD_DIR / "determinations.parquet")
    # Which counts an attorney has reviewed: the filings hold the pending ones out.
    fetched.select("subject_id", "count_id", "review_status").write_parquet(
        out_dir / RECORD_DIR / REVIEWS_FILE
    )
    # Written as a run writes them, so a copy with nothing reviewed is the run's, byte for byte.
    write_convictions(
        decided, records, out_dir / "convictions.csv", out_dir / "convictions.parquet"
    )
    write_people_csv(people_table(decided, records), out_dir / "people.csv", keep=KEYS)

    found = _inputs_for_results(run, records, decided, inputs)
    results_note: str
    if isinstance(found, str):
        (out_dir / "results.csv").unlink(missing_ok=True)
        results_note = f"not rebuilt: {found}"
    else:
        with_paths, decided_here, paths = found
        write_results_csv(out_dir / "results.csv", decided_here, with_paths, paths)
        results_note = "rebuilt from the reviewed decisions"

    statuses = fetched["review_status"].value_counts()
    by_status = dict.fromkeys(("pending", "accepted", "overridden"), 0) | {
        str(k): int(v) for k, v in statuses.iter_rows()
    }
    changes = (
        fetched.filter(pl.col("review_status") == "overridden")
        .group_by("engine_decision", "decision")
        .len()
        .sort("engine_decision", "decision")
    )
    fresh = build_summary(decided, records, with_what_ifs=False)
    merged = summary | {k: v for k, v in fresh.items() if k not in ("input", "what_if")}
    merged["review"] = {
        "by_status": by_status,
        "overridden": {f"{a} -> {b}": int(n) for a, b, n in changes.iter_rows()},
        "results_csv": results_note,
        "run_id": run_id,
    }
    (out_dir / "summary.json").write_text(
        json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    audit.append(
        session,
        actor,
        "run.exported",
        f"run:{run_id}",
        {"folder": out_dir.name, "review": by_status, "results_csv": results_note},
    )
    session.commit()
    return out_dir
