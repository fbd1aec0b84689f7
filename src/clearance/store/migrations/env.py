"""Alembic's entry point: migrate the connection `clearance.store.db.upgrade` hands over.

Run from `alembic` on the command line it connects to `sqlalchemy.url` itself, so a developer can
still write a new revision with `alembic -x ... revision --autogenerate` against a scratch database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from clearance.store.db import make_engine
from clearance.store.models import Base

config = context.config
target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url or pass a connection")
    engine = make_engine(url)
    try:
        with engine.begin() as own:
            _migrate(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run()
