"""Reconciliations: each check of a run's relief against a newer state record, with its counts
and the court cases still pending, kept per run so the history shows the pending count fall.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_files", sa.Text(), nullable=False),
        sa.Column("since_kind", sa.String(16), nullable=True),
        sa.Column("since_date", sa.Date(), nullable=True),
        sa.Column("relieved", sa.BigInteger(), nullable=False),
        sa.Column("reflected", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("contradicting", sa.BigInteger(), nullable=False),
        sa.Column("gone", sa.BigInteger(), nullable=False),
        sa.Column("pending_cases", sa.BigInteger(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "source_kind IN ('doj', 'court')", name=op.f("ck_reconciliations_source_kind")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_reconciliations_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    op.create_index(op.f("ix_reconciliations_run_id"), "reconciliations", ["run_id"])
    op.create_table(
        "reconciliation_pending",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("reconciliation_id", sa.Integer(), nullable=False),
        sa.Column("court", sa.String(64), nullable=False),
        sa.Column("relief_group", sa.String(64), nullable=False),
        sa.Column("court_case_number", sa.Text(), nullable=True),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("counts", sa.Integer(), nullable=False),
        sa.Column("count_ids", sa.Text(), nullable=False),
        sa.Column("age_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_reconciliation_pending_reconciliation_id_reconciliations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_pending")),
    )
    op.create_index(
        op.f("ix_reconciliation_pending_reconciliation_id"),
        "reconciliation_pending",
        ["reconciliation_id"],
    )


def downgrade() -> None:
    op.drop_table("reconciliation_pending")
    op.drop_table("reconciliations")
