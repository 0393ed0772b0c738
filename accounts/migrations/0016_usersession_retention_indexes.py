"""Indexes for the daily retention job's sign-in records (accounts.retention.past_sign_in_records).

Measured with EXPLAIN ANALYZE on PostgreSQL 15 at 2,000,000 UserSession rows (10,000 users):
- Without ``usersession_created_idx`` every batch query walks the primary key from the last
  row it deleted and filters on created_at, so a daily run, which finds only a day's records,
  ends by reading every record of the last 400 days: 0.3 to 0.6 s per run at 2M rows (plus
  0.2 to 0.3 s of JIT compilation that the overestimated plan triggers), growing with the
  table. With it: 5 to 30 ms.
- Without ``usersession_known_browser_idx`` "a newer record of the same user in a known
  browser" (the EXISTS that keeps each user's latest recognised browser) reads the user's
  rows through the user_id index, dead ones of the batches just deleted included. With it,
  the EXISTS is one index-only probe. A first run on 1,000,000 records past their retention
  took 361 s without the indexes and 26 s with them.

Building them takes about 1.0 s and 1.4 s at 2M rows on a 2-core machine (43 and 54 MB), and
grows with the table. A plain CREATE INDEX blocks every write to the table while it runs:
each sign-in inserts a row here and signed-in requests update theirs, so a big deployment
(tens of millions of rows: a minute or more) would stop sign-ins for that long. On
PostgreSQL they are therefore built CONCURRENTLY (outside a transaction; writes go on, the
build takes about as long again). Should a concurrent build fail, PostgreSQL leaves an
INVALID index behind: drop it (DROP INDEX CONCURRENTLY <name>) and migrate again. The
embedded SQLite builds them plainly.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("accounts", "0015_provider_staff_leave_companies"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="usersession",
            index=models.Index(fields=["created_at"], name="usersession_created_idx"),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="usersession",
            index=models.Index(
                condition=~models.Q(browser_key_hash=""),
                fields=["user", "id"],
                name="usersession_known_browser_idx",
            ),
        ),
    ]
