"""Alembic migrations of the store, run in-process by `clearance.store.db.upgrade`."""
