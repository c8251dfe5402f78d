"""Alembic migrations of mailbot's database (run by store.open_store)."""
