"""A lock by name for the length of a transaction, across every web and worker process.

For a check-then-create with no row to lock yet (the address of a new registration): two
processes holding the same name run one after the other. PostgreSQL's transaction-level
advisory lock; SQLite needs none, as it runs each transaction as BEGIN IMMEDIATE (one writer
at a time, settings.DATABASES)."""

from __future__ import annotations

import hashlib

from django.db import connection


def lock_for_transaction(name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called ``name``."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_for_transaction() needs a transaction (transaction.atomic)")
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
