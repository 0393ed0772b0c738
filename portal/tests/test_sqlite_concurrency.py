"""The embedded SQLite database must not answer "database is locked" when two requests write at once."""

import contextlib
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import ConnectionHandler

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite's locking only",
)


def test_two_transactions_that_read_then_write_both_commit(
    tmp_path, monkeypatch, django_db_blocker
):
    # Like a sign-in step: read the account, then record a failure, in one transaction. In SQLite's
    # default deferred mode the second writer fails at once instead of waiting for the first.
    config = {**settings.DATABASES["default"], "NAME": str(tmp_path / "db.sqlite3")}
    handler = ConnectionHandler({"default": config})
    monkeypatch.setattr(transaction, "connections", handler)
    with django_db_blocker.unblock():
        _race(handler)


def _race(handler):
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    handler["default"].close()

    both_have_read = threading.Barrier(2, timeout=10)
    errors = []

    def read_then_write():
        connection = handler["default"]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                # When the other transaction waits for ours there is nothing to line up.
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_have_read.wait(timeout=1)
                cursor.execute("UPDATE counter SET n = n + 1")
        except Exception as error:  # noqa: BLE001 - the test reports whatever broke
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read_then_write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone() == (2,)
    handler["default"].close()
