"""Case-insensitive comparisons fold every letter on both databases, as PostgreSQL does: on
SQLite (portal.sqlite) LOWER() and __iexact too, not only A to Z."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Lower, Upper
from django.db.utils import ConnectionHandler

from accounts.models import User
from conftest import make_user

pytestmark = pytest.mark.django_db


def test_lower_and_upper_fold_letters_beyond_ascii():
    make_user("c10001.mm", last_name="MÜLLER-Ærø")
    folded = User.objects.annotate(lower=Lower("last_name"), upper=Upper("last_name")).get()
    assert (folded.lower, folded.upper) == ("müller-ærø", "MÜLLER-ÆRØ")
    assert User.objects.annotate(key=Lower("last_name")).filter(key="müller-ærø").exists()


def test_iexact_finds_an_address_and_a_user_name_in_another_case():
    make_user("c10001.öz", email="anna@münchen.example")
    assert User.objects.filter(email__iexact="ANNA@MÜNCHEN.EXAMPLE").count() == 1
    assert User.objects.filter(username__iexact="C10001.ÖZ").count() == 1
    assert User.objects.find_by_identifier("Anna@MÜNCHEN.example").username == "c10001.öz"
    assert User.objects.find_by_identifier("C10001.ÖZ").username == "c10001.öz"


def test_iexact_still_takes_wildcards_literally():
    make_user("c10001.ab", email="ab@example.com")
    assert not User.objects.filter(email__iexact="a_@example.com").exists()
    assert not User.objects.filter(email__iexact="%@example.com").exists()
    make_user("c10001.pc", email="100%_sure@example.com")
    assert User.objects.filter(email__iexact="100%_SURE@example.com").count() == 1


def test_searches_fold_letters_beyond_ascii_and_take_wildcards_literally():
    make_user("c10001.mm", first_name="ÜLL", last_name="MÜLLER-Ærø", email="100%_sure@example.com")
    make_user("c10001.mx", first_name="X_L", last_name="Mxller")
    users = User.objects.values_list("username", flat=True)
    assert list(users.filter(last_name__icontains="müller")) == ["c10001.mm"]
    assert list(users.filter(last_name__istartswith="mÜl")) == ["c10001.mm"]
    assert list(users.filter(last_name__iendswith="ÆRØ")) == ["c10001.mm"]
    assert list(users.filter(email__icontains="0%_S")) == ["c10001.mm"]
    assert not users.filter(last_name__icontains="m_ller").exists()
    # Against another column (the pattern operators): the same folding on both sides.
    assert list(users.filter(last_name__icontains=F("first_name"))) == ["c10001.mm"]


def test_user_names_differing_only_in_case_beyond_ascii_are_one_name():
    make_user("c10001.öz")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user("c10001.ÖZ", email="other@example.com")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's indexes only")
def test_the_migration_rebuilds_indexes_built_with_sqlites_own_lower(tmp_path, django_db_blocker):
    """A database file from before portal.sqlite holds ASCII-folded index entries: without the
    rebuild the address is not found, and changing its row fails as a corrupt index."""
    from importlib import import_module

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # SQLite's own LOWER(), as before
        old.execute("CREATE TABLE accounts_user (username text, email text)")
        old.execute(
            'CREATE UNIQUE INDEX user_username_ci_unique ON accounts_user (LOWER("username"))'
        )
        old.execute('CREATE INDEX user_email_ci_idx ON accounts_user (LOWER("email"))')
        old.execute("INSERT INTO accounts_user VALUES ('c1.öz', 'ANNA@MÜNCHEN.EXAMPLE')")
    old.close()
    config = {**connection.settings_dict, "NAME": str(path)}
    handler = ConnectionHandler({"default": config})
    migration = import_module("accounts.migrations.0008_reindex_case_insensitive_indexes")
    with django_db_blocker.unblock():
        database = handler["default"]
        with database.schema_editor() as editor:
            migration.reindex(None, editor)
        with database.cursor() as cursor:
            cursor.execute(
                "SELECT username FROM accounts_user WHERE LOWER(email) = %s",
                ["anna@münchen.example"],
            )
            assert cursor.fetchall() == [("c1.öz",)]
            cursor.execute("UPDATE accounts_user SET email = 'b@example.com'")
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchall() == [("ok",)]
        database.close()
