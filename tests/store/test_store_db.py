"""Where the database is, and that the migrations build exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from clearance.store import db
from clearance.store.models import Base


def test_url_from_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLEARANCE_DATABASE_URL", "postgresql+psycopg://u@h/d")
    assert db.database_url(tmp_path) == "postgresql+psycopg://u@h/d"


def test_sqlite_in_the_given_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLEARANCE_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLEARANCE_DATA_DIR", str(tmp_path / "from-env"))
    url = db.database_url(tmp_path / "given")
    assert url == f"sqlite:///{(tmp_path / 'given' / 'clearance.db').resolve()}"
    assert (tmp_path / "given").is_dir()
    assert db.database_url() == f"sqlite:///{(tmp_path / 'from-env' / 'clearance.db').resolve()}"


def test_default_data_folder_is_created(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLEARANCE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARANCE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert db.database_url() == f"sqlite:///{(tmp_path / 'data' / 'clearance.db').resolve()}"
    assert (tmp_path / "data").is_dir()


def test_password_is_masked() -> None:
    assert "secret" not in db.safe_url("postgresql+psycopg://u:secret@h/d")


def test_migrations_match_models_and_repeat(db_url: str) -> None:
    db.upgrade(db_url)
    db.upgrade(db_url)  # a second upgrade is a no-op
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == "0004"
            tables = set(inspect(connection).get_table_names())
            assert {"users", "runs", "run_inputs", "determinations", "people", "audit_log",
                    "audit_head"} <= tables  # fmt: skip
            indexes = {
                tuple(ix["column_names"])
                for ix in inspect(connection).get_indexes("determinations")
            }
            # The queue's filters and sorts each lead an index after the run.
            for wanted in ("decision", "subject_id", "review_status", "code_section"):
                assert any(ix[:2] == ("run_id", wanted) for ix in indexes), wanted
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_concurrent_upgrades_of_a_new_database(db_url: str) -> None:
    """Two processes starting at once (the web app and a command): one migrates, one waits."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(db.upgrade, [db_url] * 3))
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == "0004"
            assert connection.execute(text("SELECT entries FROM audit_head")).scalar() == 0
    finally:
        engine.dispose()


def test_failed_migration_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DDL runs inside the migration's transaction on SQLite too."""
    from alembic.operations import Operations

    url = f"sqlite:///{tmp_path / 'half.db'}"
    original = Operations.bulk_insert

    def broken(self: Operations, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Operations, "bulk_insert", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()
    monkeypatch.setattr(Operations, "bulk_insert", original)
    db.upgrade(url)
