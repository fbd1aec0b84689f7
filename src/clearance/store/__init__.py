"""The database of runs, determinations, reviews, users and the audit log.

SQLite in a data folder by default, so one machine needs nothing else; PostgreSQL when
`CLEARANCE_DATABASE_URL` is set, for an office that shares a server. The schema is created and
changed only by the Alembic migrations in `clearance.store.migrations`, run in-process by
`clearance.store.db.upgrade`, so no alembic.ini is needed.

Functions that change data commit their own transaction, together with the audit entry that
records the change: an action and its audit entry land together or not at all.
"""
