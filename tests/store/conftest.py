"""Store tests run on SQLite and on PostgreSQL (`db_url` is parametrised over both).

PostgreSQL: each test gets a fresh schema on the server named by CLEARANCE_TEST_POSTGRES_URL
(default: the local server, database `test`), dropped afterwards, so reruns start clean. When
the server cannot be reached the PostgreSQL tests fail under CI (the CI variable is set) and are
skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from store_helpers import PASSWORD, SAMPLE, SampleRun, make_run

from clearance.store.db import session_factory
from clearance.store.models import User

POSTGRES_URL = os.environ.get(
    "CLEARANCE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _plain_postgres(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(_plain_postgres(POSTGRES_URL), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at {POSTGRES_URL} unreachable: {str(exc).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clearance.db'}"
        return
    import psycopg

    _postgres_or_skip()
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_plain_postgres(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_plain_postgres(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on a migrated, empty database."""
    factory = session_factory(db_url)
    with factory() as s:
        yield s
    engine = factory.kw["bind"]
    engine.dispose()


@pytest.fixture(autouse=True)
def no_login_delay(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Failed sign-ins sleep; tests record the delays instead of waiting."""
    slept: list[float] = []
    monkeypatch.setattr("clearance.store.users.sleep", slept.append)
    return slept


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """The bundled 20k-row sample, decided once (tests must not change the folder)."""
    base = tmp_path_factory.mktemp("sample")
    data = base / SAMPLE.name
    shutil.copy(SAMPLE, data)
    return make_run(base / "run", [data])


@pytest.fixture
def attorney(session: Session) -> User:
    from clearance.store.users import add_user

    return add_user(session, "attorney1", PASSWORD, "attorney")
