"""Reconciliations kept in the store: each one's counts and pending cases, per run, audited.

A reconciliation is written to its folder first (`outputs/reconcile.py`); `record` then keeps
its summary and its pending cases (pending.csv) so the workspace can show, per run, how the
pending count fell over time, the cases still to follow up, and a tile on the dashboard.
Every reconciliation recorded is an audit entry (who, which run, what was compared, the
counts), in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearance.store import audit
from clearance.store.models import PendingCase, Reconciliation
from clearance.store.runs import bulk_insert


def record(
    session: Session,
    run_id: int,
    summary: dict[str, Any],
    pending: pl.DataFrame,
    actor: str,
    folder: Path | None = None,
) -> Reconciliation:
    """Keep one reconciliation (reconcile.json's `summary`, pending.csv's rows) and audit it.
    Flushed, not committed: the caller commits, so the row and its audit entry land together."""
    totals = summary["totals"]
    since = summary.get("since") or {}
    newer = summary.get("newer") or {}
    entry = Reconciliation(
        run_id=run_id,
        created_by=actor,
        as_of=date.fromisoformat(summary["as_of"]),
        source_kind=str(newer.get("kind", "doj")),
        source_files=json.dumps(list(newer.get("files", []))),
        since_kind=since.get("kind"),
        since_date=date.fromisoformat(since["date"]) if since.get("date") else None,
        relieved=int(summary["relieved"]),
        reflected=int(totals["reflected"]),
        pending=int(totals["pending"]),
        contradicting=int(totals["contradicting"]),
        gone=int(totals["gone"]),
        pending_cases=pending.height,
        summary_json=json.dumps(summary, sort_keys=True),
        folder=str(folder) if folder is not None else None,
    )
    session.add(entry)
    session.flush()
    if pending.height:
        rows = pending.select(
            pl.lit(entry.id).alias("reconciliation_id"),
            pl.col("court").cast(pl.String),
            pl.col("relief_group").cast(pl.String),
            pl.col("court_case_number").cast(pl.String),
            pl.col("subject_id").cast(pl.String),
            pl.col("counts").cast(pl.Int64),
            pl.col("count_ids").cast(pl.String),
            pl.col("age_days").cast(pl.Int64),
        )
        bulk_insert(session, PendingCase.__table__, rows)  # type: ignore[arg-type]
    audit.append(
        session,
        actor,
        "reconcile",
        f"run:{run_id}",
        {
            "reconciliation": entry.id,
            "as_of": summary["as_of"],
            "source": entry.source_kind,
            "files": list(newer.get("files", [])),
            "relieved": entry.relieved,
            "reflected": entry.reflected,
            "pending": entry.pending,
            "contradicting": entry.contradicting,
            "gone": entry.gone,
        },
    )
    return entry


def history(session: Session, run_id: int) -> list[Reconciliation]:
    """A run's reconciliations, oldest first (by the date each speaks for, then when made)."""
    query = (
        select(Reconciliation)
        .where(Reconciliation.run_id == run_id)
        .order_by(Reconciliation.as_of, Reconciliation.id)
    )
    return list(session.scalars(query))


def latest(session: Session, run_id: int) -> Reconciliation | None:
    """The reconciliation that speaks for the latest date (the last made, on a tie)."""
    found = history(session, run_id)
    return found[-1] if found else None


@dataclass(frozen=True)
class PendingPage:
    rows: list[PendingCase]
    total: int
    page: int
    pages: int


def pending_cases(
    session: Session, reconciliation_id: int, page: int = 1, per_page: int = 100
) -> PendingPage:
    """The pending cases of one reconciliation, oldest first, a page at a time."""
    total = session.scalar(
        select(func.count())
        .select_from(PendingCase)
        .where(PendingCase.reconciliation_id == reconciliation_id)
    )
    pages = max(1, -(-int(total or 0) // per_page))
    page = min(max(1, page), pages)
    query = (
        select(PendingCase)
        .where(PendingCase.reconciliation_id == reconciliation_id)
        .order_by(
            PendingCase.age_days.desc().nulls_last(),
            PendingCase.court,
            PendingCase.court_case_number,
            PendingCase.subject_id,
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return PendingPage(list(session.scalars(query)), int(total or 0), page, pages)
