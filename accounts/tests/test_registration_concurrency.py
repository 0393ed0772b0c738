"""Two registrations of one address at once create one account (PostgreSQL's real locks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, connections

from accounts import services
from accounts.models import User

PARALLEL = 6


@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_of_one_address_create_one_account(mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: SQLite runs one writing transaction at once")
    details = {
        "first_name": "Jana",
        "last_name": "Novak",
        "email": "jana.novak@example.org",
        "phone": "",
        "time_zone": "Europe/Prague",
        "terms_version": "1",
        "terms_accepted_at": datetime.now(UTC).isoformat(),
    }
    hashes = [make_password(f"passphrase-number-{n}") for n in range(PARALLEL)]
    start = threading.Barrier(PARALLEL)
    errors = []

    def register(password_hash):
        try:
            start.wait()
            services.register_account(details, password_hash)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(h,)) for h in hashes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert User.objects.filter(email__iexact="jana.novak@example.org").count() == 1
    subjects = [mail.subject for mail in mailoutbox]
    assert len(subjects) == PARALLEL  # one verification email, the others the notice
    assert sorted(subjects.count(subject) for subject in set(subjects)) == [1, PARALLEL - 1]
