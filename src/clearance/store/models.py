"""The tables of the store, as typed SQLAlchemy 2 models.

The schema itself is created by the migrations (`clearance.store.migrations`); these models
must describe the same tables, which a test checks by comparing them with the migrated database.

Why the tables look like this:
- A determination row carries every column of convictions.csv (so the outputs of a run can be
  rebuilt from the database alone) and the engine's own columns of record/determinations.parquet
  (section, cycle, serving ...), plus the review of the count. The engine's decision is never
  overwritten: a review is stored beside it, so both are always visible.
- Times are stored in UTC and read back as aware datetimes on both SQLite (which has no time
  zones) and PostgreSQL.
- Constraint and index names follow one naming convention so migrations address them the same
  way on every database.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "attorney", "analyst", "viewer")
RUN_STATUSES = ("queued", "running", "done", "failed")
REVIEW_STATUSES = ("pending", "accepted", "overridden")
DECISIONS = ("dismiss", "reduce", "not_eligible", "review")
NEW_LEVELS = ("misdemeanor", "infraction")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (naive UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond (what both databases keep)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who signs in to review; never a person in the data."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def can_review(self) -> bool:
        """Only attorneys (and admins) decide counts."""
        return not self.disabled and self.role in ("admin", "attorney")

    def __repr__(self) -> str:
        return f"User(id={self.id}, username={self.username!r}, role={self.role!r})"


class Run(Base):
    """One run of the engine: what went in, under which policy, and what came out."""

    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    county: Mapped[str] = mapped_column(String(64))
    policy_name: Mapped[str] = mapped_column(String(128))
    policy_text: Mapped[str] = mapped_column(Text)
    policy_sha256: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    run_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    rows_read: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rows_loaded: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rows_quarantined: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    summary_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    inputs: Mapped[list[RunInput]] = relationship(
        back_populates="run", order_by="RunInput.position", cascade="all, delete-orphan"
    )

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json of the run ({} until the run is done)."""
        return dict(json.loads(self.summary_json)) if self.summary_json else {}

    def __repr__(self) -> str:
        return f"Run(id={self.id}, county={self.county!r}, status={self.status!r})"


class RunInput(Base):
    """One input file of a run: enough to prove later which file was used."""

    __tablename__ = "run_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(BigInteger)
    rows_loaded: Mapped[int] = mapped_column(BigInteger)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger)

    run: Mapped[Run] = relationship(back_populates="inputs")


class Determination(Base):
    """One decided cannabis conviction of a run, with its review."""

    __tablename__ = "determinations"
    __table_args__ = (
        CheckConstraint(_in("review_status", REVIEW_STATUSES), name="review_status"),
        # The review queue's indexes (migration 0004): each holds what its filters test and
        # its sort orders by, so a page and its counts never read the wide rows.
        Index(
            "ix_determinations_queue_order",
            "run_id",
            "subject_id",
            "count_id",
            "review_status",
            "name",
            "cii_number",
            "court_case_number",
            "dob",
        ),
        Index(
            "ix_determinations_run_id_decision_status",
            "run_id",
            "decision",
            "review_status",
            "subject_id",
            "count_id",
        ),
        Index(
            "ix_determinations_run_id_status_order",
            "run_id",
            "review_status",
            "subject_id",
            "count_id",
        ),
        Index(
            "ix_determinations_run_id_section", "run_id", "code_section", "section", "review_status"
        ),
        Index(
            "ix_determinations_run_id_conviction_date",
            "run_id",
            "conviction_date",
            "subject_id",
            "count_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    # convictions.csv, in its order
    subject_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    dob: Mapped[date | None] = mapped_column(Date)
    cii_number: Mapped[str | None] = mapped_column(String(32))
    county: Mapped[str | None] = mapped_column(String(64))
    court_case_number: Mapped[str | None] = mapped_column(Text)
    count_id: Mapped[str] = mapped_column(String(32))
    offense_date: Mapped[date | None] = mapped_column(Date)
    conviction_date: Mapped[date | None] = mapped_column(Date)
    age_at_offense: Mapped[int | None] = mapped_column(Integer)
    code_section: Mapped[str | None] = mapped_column(String(64))
    offense_level: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    new_level: Mapped[str | None] = mapped_column(String(16))
    remedy: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    # the engine's other columns (record/determinations.parquet)
    cycle_id: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    offense_raw: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(String(32))
    subsection: Mapped[str | None] = mapped_column(String(32))
    serving: Mapped[bool | None] = mapped_column(Boolean)
    sentence_end: Mapped[date | None] = mapped_column(Date)
    source_file: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(BigInteger)
    # the review
    review_status: Mapped[str] = mapped_column(String(16), default="pending")
    reviewed_decision: Mapped[str | None] = mapped_column(String(16))
    reviewed_new_level: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def reason_list(self) -> list[str]:
        """The rule ids that applied, in the engine's order."""
        return [r for r in self.reasons.split(";") if r]

    @property
    def final_decision(self) -> str:
        """The decision the outputs use: the attorney's if overridden, else the engine's."""
        if self.review_status == "overridden" and self.reviewed_decision:
            return self.reviewed_decision
        return self.decision

    @property
    def final_new_level(self) -> str | None:
        if self.review_status == "overridden":
            return self.reviewed_new_level
        return self.new_level

    def __repr__(self) -> str:
        return f"Determination(id={self.id}, run_id={self.run_id}, decision={self.decision!r})"


class Person(Base):
    """people.csv of a run: what each person's record looks like before and after."""

    __tablename__ = "people"
    __table_args__ = (Index("ix_people_run_id_subject_id", "run_id", "subject_id", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    dob: Mapped[date | None] = mapped_column(Date)
    cii_number: Mapped[str | None] = mapped_column(String(32))
    convictions_before: Mapped[int | None] = mapped_column(Integer)
    convictions_after: Mapped[int | None] = mapped_column(Integer)
    felonies_before: Mapped[int | None] = mapped_column(Integer)
    felonies_after: Mapped[int | None] = mapped_column(Integer)
    no_conviction_left: Mapped[bool | None] = mapped_column(Boolean)
    no_felony_left: Mapped[bool | None] = mapped_column(Boolean)
    conviction_last_7_years_before: Mapped[bool | None] = mapped_column(Boolean)
    conviction_last_7_years_after: Mapped[bool | None] = mapped_column(Boolean)


class WebSession(Base):
    """One signed-in browser of the review workspace.

    The cookie carries a random token; the row is keyed by its SHA-256, so a copy of the
    database does not hold usable sessions. Deleting the row ends the session at once: logout,
    a password change, disabling an account and changing its role delete its rows.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One entry of the append-only audit log, chained to the one before by its hash.

    `id` is assigned by `clearance.store.audit.append` from the head counter (1, 2, 3 ...), not
    by the database, so a gap is itself evidence of a deleted entry.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    details_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def details(self) -> dict[str, Any]:
        return dict(json.loads(self.details_json))


class AuditHead(Base):
    """The one row that holds the number of entries and the last hash of the audit log.

    Appending updates it first, which serialises writers (a row lock on PostgreSQL, the write
    lock on SQLite) so two entries can never claim the same predecessor, and it lets `verify`
    notice entries deleted from the end, which the chain alone cannot show.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


#: Columns of Determination loaded from a run folder, in table order.
DETERMINATION_DATA_COLUMNS = (
    "subject_id", "name", "dob", "cii_number", "county", "court_case_number", "count_id",
    "offense_date", "conviction_date", "age_at_offense", "code_section", "offense_level",
    "decision", "new_level", "remedy", "reasons", "explanation", "source", "cycle_id",
    "event_id", "kind", "offense_raw", "section", "subsection", "serving", "sentence_end",
    "source_file", "source_line",
)  # fmt: skip

#: Columns of Person loaded from people.csv.
PERSON_DATA_COLUMNS = (
    "subject_id", "name", "dob", "cii_number", "convictions_before", "convictions_after",
    "felonies_before", "felonies_after", "no_conviction_left", "no_felony_left",
    "conviction_last_7_years_before", "conviction_last_7_years_after",
)  # fmt: skip


RECONCILE_SOURCES = ("doj", "court")


class Reconciliation(Base):
    """One check of a run's relief against a newer DOJ file or a court's response
    (`outputs/reconcile.py`): its counts, and the summary it wrote. Kept per run, oldest first,
    so the history shows how the pending count fell."""

    __tablename__ = "reconciliations"
    __table_args__ = (CheckConstraint(_in("source_kind", RECONCILE_SOURCES), name="source_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_files: Mapped[str] = mapped_column(Text)
    since_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    since_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    relieved: Mapped[int] = mapped_column(BigInteger)
    reflected: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[int] = mapped_column(BigInteger)
    contradicting: Mapped[int] = mapped_column(BigInteger)
    gone: Mapped[int] = mapped_column(BigInteger)
    pending_cases: Mapped[int] = mapped_column(BigInteger)
    summary_json: Mapped[str] = mapped_column(Text)
    folder: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def summary(self) -> dict[str, Any]:
        """reconcile.json of this reconciliation."""
        return dict(json.loads(self.summary_json))


class PendingCase(Base):
    """One court case a reconciliation found still pending, for follow-up (pending.csv)."""

    __tablename__ = "reconciliation_pending"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        ForeignKey("reconciliations.id", ondelete="CASCADE"), index=True
    )
    court: Mapped[str] = mapped_column(String(64))
    relief_group: Mapped[str] = mapped_column(String(64))
    court_case_number: Mapped[str | None] = mapped_column(Text, nullable=True)
    subject_id: Mapped[str] = mapped_column(String(32))
    counts: Mapped[int] = mapped_column(Integer)
    count_ids: Mapped[str] = mapped_column(Text)
    age_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
