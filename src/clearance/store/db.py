"""Where the database is, how to connect, and bringing its schema to the latest migration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

#: Environment variables, named in the README.
URL_ENV = "CLEARANCE_DATABASE_URL"
DATA_DIR_ENV = "CLEARANCE_DATA_DIR"
DEFAULT_DATA_DIR = Path("data")
DB_FILE = "clearance.db"

#: Alembic finds the migrations as package resources, so an installed wheel carries them.
MIGRATIONS = "clearance.store:migrations"


def database_url(data_dir: Path | None = None) -> str:
    """The database to use: `CLEARANCE_DATABASE_URL` if set, else a SQLite file in the data folder.

    The data folder is `data_dir`, else `CLEARANCE_DATA_DIR`, else `./data`; it is created so a
    first run needs no setup step.
    """
    configured = os.environ.get(URL_ENV, "").strip()
    if configured:
        return configured
    folder = data_dir or Path(os.environ.get(DATA_DIR_ENV, "") or DEFAULT_DATA_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / DB_FILE).resolve()}"


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on (SQLite leaves them off), WAL so readers do not block the writer."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, connections: int | None = None) -> Engine:
    """An engine for `url`, set up for the dialect.

    SQLite waits up to 30 s for a lock instead of failing at once, and its connections may be
    used by the web server's worker threads. PostgreSQL connections are checked before use, so
    a restarted server does not fail the first request. `connections` sizes the pool (the web
    server: one per request thread, so no request ever waits for one); default SQLAlchemy's 15.
    """
    pool: dict[str, Any] = {}
    if connections is not None:
        pool = {"pool_size": connections, "max_overflow": 0}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def alembic_config(url: str) -> Config:
    """An Alembic configuration built in code (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    # ConfigParser interpolation would read a '%' in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


#: Key of the PostgreSQL advisory lock that serialises schema upgrades.
_UPGRADE_LOCK = 0x636C6561


def _migration_engine(url: str) -> Engine:
    """An engine whose transactions really enclose DDL, taking the write lock at the start.

    Python's sqlite3 module runs DDL outside any transaction unless told otherwise, so a failed
    migration would leave half a schema, and two processes starting at once would both find no
    tables. Here SQLite transactions begin with BEGIN IMMEDIATE (the second process waits, then
    finds the schema current); PostgreSQL's DDL is transactional and an advisory lock does the
    waiting.
    """
    if make_url(url).get_backend_name() != "sqlite":
        return make_engine(url)
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False, "isolation_level": None}
    )
    event.listen(engine, "connect", _sqlite_pragmas)

    def begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "begin", begin_immediate)
    return engine


def upgrade(url: str) -> None:
    """Bring the database at `url` to the latest migration (a no-op when it is there).

    All revisions run in one transaction: either the schema reaches head or nothing changes.
    """
    from alembic import command

    engine = _migration_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def session_factory(url: str, connections: int | None = None) -> sessionmaker[Session]:
    """Sessions on an up-to-date database.

    The schema is upgraded first, so a caller never meets a missing table. Objects stay usable
    after commit (`expire_on_commit=False`): the web app renders them after the transaction
    that changed them has ended.
    """
    upgrade(url)
    return sessionmaker(bind=make_engine(url, connections), expire_on_commit=False)
