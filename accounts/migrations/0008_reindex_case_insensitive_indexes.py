"""SQLite only: rebuild the LOWER(...) indexes with the folding portal.sqlite gives LOWER().

An existing database built them with SQLite's own ASCII-only LOWER(): an entry for "MÜLLER@..."
would not be found, and SQLite reports the index as corrupt when the row changes.
"""

from django.db import migrations


def reindex(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("REINDEX user_username_ci_unique")
        schema_editor.execute("REINDEX user_email_ci_idx")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_block_reason_staff")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop, elidable=True)]
