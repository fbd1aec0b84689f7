"""The review queue's queries read indexes, never a run's whole table (SQLite's query plans).

Every request of the queue counts its matches twice (all, and the pending ones a bulk accept
would take) and reads one page in its sort order. Over a run of 100,000 counts a query that
reads the rows themselves (wide: explanations) costs a second; one answered from an index,
milliseconds. The plans are checked, not the time, which a busy machine would blur.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from store_helpers import SampleRun

from clearance.store.db import session_factory
from clearance.store.reviews import pending_matching
from clearance.store.runs import query_determinations, store_run

#: Filters of the queue (those of the load test and the search box), each with sorts.
CASES: tuple[dict[str, Any], ...] = (
    {},
    {"page": 20},
    {"decision": "reduce"},
    {"status": "pending", "sort": "conviction_date"},
    {"section": "HS 11359(b)", "descending": True},
    {"search": "SMITH"},
)


@pytest.fixture
def stored(sample_run: SampleRun, tmp_path: Path) -> Iterator[tuple[Session, int]]:
    factory = session_factory(f"sqlite:///{tmp_path / 'clearance.db'}")
    with factory() as session:
        run = store_run(session, sample_run.run_dir, sample_run.inputs, "analyst")
        yield session, run.id
    factory.kw["bind"].dispose()


def plans(session: Session, case: dict[str, Any], run_id: int) -> list[tuple[str, list[str]]]:
    """(SQL, query plan lines) of every statement a queue request with `case` runs."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        filters = {k: v for k, v in case.items() if k not in ("sort", "descending", "page")}
        query_determinations(session, run_id, **case)
        pending_matching(session, run_id, **filters)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    found = []
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    for statement, parameters in seen:
        rows = connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
        found.append((statement, [str(row[-1]) for row in rows]))
    return found


def test_the_queue_reads_indexes_only(stored: tuple[Session, int]) -> None:
    """Counts are answered from a covering index; a page's ids are found through an index
    (the default order read off it, never a sort of the whole run); rows are then read by id."""
    session, run_id = stored
    for case in CASES:
        for statement, lines in plans(session, case, run_id):
            assert lines, statement
            for line in lines:
                if "determinations" not in line:
                    continue
                assert ("USING" in line and "INDEX" in line) or "PRIMARY KEY" in line, (case, line)
            if statement.lstrip().upper().startswith("SELECT COUNT"):
                assert any("COVERING INDEX" in line for line in lines), (case, lines)
            if not case and "LIMIT" in statement:
                # Only ties of (SUBJECT_ID, count) are put in order, as the page is read.
                assert "USE TEMP B-TREE FOR ORDER BY" not in lines, lines
