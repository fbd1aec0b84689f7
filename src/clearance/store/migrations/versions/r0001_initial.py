"""The first schema: users, runs and their inputs, determinations with reviews, people, audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'attorney', 'analyst', 'viewer')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("county", sa.String(64), nullable=False),
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_dir", sa.Text(), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), nullable=True),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=True),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=True),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "run_inputs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_inputs")),
    )
    op.create_index(op.f("ix_run_inputs_run_id"), "run_inputs", ["run_id"])
    op.create_table(
        "determinations",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("cii_number", sa.String(32), nullable=True),
        sa.Column("county", sa.String(64), nullable=True),
        sa.Column("court_case_number", sa.Text(), nullable=True),
        sa.Column("count_id", sa.String(32), nullable=False),
        sa.Column("offense_date", sa.Date(), nullable=True),
        sa.Column("conviction_date", sa.Date(), nullable=True),
        sa.Column("age_at_offense", sa.Integer(), nullable=True),
        sa.Column("code_section", sa.String(64), nullable=True),
        sa.Column("offense_level", sa.String(16), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("new_level", sa.String(16), nullable=True),
        sa.Column("remedy", sa.String(16), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("cycle_id", sa.String(32), nullable=True),
        sa.Column("event_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("offense_raw", sa.Text(), nullable=True),
        sa.Column("section", sa.String(32), nullable=True),
        sa.Column("subsection", sa.String(32), nullable=True),
        sa.Column("serving", sa.Boolean(), nullable=True),
        sa.Column("sentence_end", sa.Date(), nullable=True),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_line", sa.BigInteger(), nullable=True),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("reviewed_decision", sa.String(16), nullable=True),
        sa.Column("reviewed_new_level", sa.String(16), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.CheckConstraint(
            "review_status IN ('pending', 'accepted', 'overridden')",
            name=op.f("ck_determinations_review_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_determinations_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_determinations")),
    )
    for columns in (
        ["run_id", "decision"],
        ["run_id", "subject_id"],
        ["run_id", "review_status"],
        ["run_id", "code_section"],
    ):
        op.create_index(f"ix_determinations_{'_'.join(columns)}", "determinations", columns)
    op.create_table(
        "people",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("cii_number", sa.String(32), nullable=True),
        sa.Column("convictions_before", sa.Integer(), nullable=True),
        sa.Column("convictions_after", sa.Integer(), nullable=True),
        sa.Column("felonies_before", sa.Integer(), nullable=True),
        sa.Column("felonies_after", sa.Integer(), nullable=True),
        sa.Column("no_conviction_left", sa.Boolean(), nullable=True),
        sa.Column("no_felony_left", sa.Boolean(), nullable=True),
        sa.Column("conviction_last_7_years_before", sa.Boolean(), nullable=True),
        sa.Column("conviction_last_7_years_after", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_people_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_index("ix_people_run_id_subject_id", "people", ["run_id", "subject_id"], unique=True)
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "entries": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    for table in ("audit_head", "audit_log", "people", "determinations", "run_inputs", "runs"):
        op.drop_table(table)
    op.drop_table("users")
