"""Registrations running at once create one account (PostgreSQL's real locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts import services
from accounts.models import PendingRegistration, User
from accounts.tests.helpers import pending_registration

PARALLEL = 6
EMAIL = "jana.novak@example.org"


def _pending(password: str) -> PendingRegistration:
    return pending_registration(
        password,
        first_name="Jana",
        last_name="Novak",
        email=EMAIL,
        time_zone="Europe/Prague",
        terms_version="1",
    )


def _run_at_once(registration_ids: list[str]) -> list[Exception]:
    start = threading.Barrier(len(registration_ids))
    errors = []

    def register(registration_id):
        try:
            start.wait()
            services.register_account(registration_id)
        except Exception as error:  # surfaced by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(pk,)) for pk in registration_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections: SQLite runs one writing transaction at once")


@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_of_one_address_create_one_account(postgresql, mailoutbox):
    rows = [_pending(f"passphrase-number-{n}") for n in range(PARALLEL)]

    assert _run_at_once([str(row.pk) for row in rows]) == []
    assert User.objects.filter(email__iexact=EMAIL).count() == 1
    subjects = [mail.subject for mail in mailoutbox]
    assert len(subjects) == PARALLEL  # one verification email, the others the notice
    assert sorted(subjects.count(subject) for subject in set(subjects)) == [1, PARALLEL - 1]
    assert not PendingRegistration.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_registration_delivered_to_several_workers_at_once_is_done_once(postgresql, mailoutbox):
    row = _pending("passphrase-number-1")

    assert _run_at_once([str(row.pk)] * PARALLEL) == []
    assert User.objects.filter(email__iexact=EMAIL).count() == 1
    assert [mail.subject for mail in mailoutbox] == ["Verify email"]
    assert not PendingRegistration.objects.exists()
