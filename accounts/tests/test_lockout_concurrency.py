"""The failure count is exact under concurrency and a blocked account evaluates no password."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts import services
from accounts.models import User
from conftest import make_user

PARALLEL = 50


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_counted_exactly(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks (select_for_update is a no-op)")
    user = make_user("c77777.pc")
    evaluated = []
    lock = threading.Lock()
    real_check = User.check_password

    def counting_check(self, raw_password):
        with lock:
            evaluated.append(self.pk)
        return real_check(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting_check)
    start = threading.Barrier(PARALLEL)
    errors = []

    def attempt():
        try:
            start.wait()
            services.check_sign_in_password(None, user.username, "wrong-password-1")
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    user.refresh_from_db()
    assert user.failed_login_count == PARALLEL
    assert user.is_blocked
    assert len(evaluated) == settings.LOGIN_FAILURE_LIMIT
