"""The hourly job for registrations whose task was lost: do the recent, drop the old."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import services
from accounts.models import PendingRegistration, User
from accounts.tests.helpers import pending_registration

pytestmark = pytest.mark.django_db


def _pending(email: str, age: timedelta, first_name: str = "Lena") -> PendingRegistration:
    return pending_registration(
        first_name=first_name,
        last_name="Late",
        email=email,
        language="de",
        created_at=timezone.now() - age,
    )


def test_it_does_a_missed_registration_and_deletes_one_too_old_undone(mailoutbox):
    max_age = timedelta(seconds=settings.PENDING_REGISTRATION_MAX_AGE)
    _pending("missed@example.org", max_age - timedelta(minutes=1))
    _pending("too.old@example.org", max_age + timedelta(minutes=1))
    queued_now = _pending("just.sent@example.org", timedelta(minutes=1))

    assert services.process_pending_registrations() == (1, 1)

    user = User.objects.get(email="missed@example.org")
    assert user.check_password("a-long-and-fine-passphrase") and not user.email_verified
    assert [(m.to[0], m.subject) for m in mailoutbox] == [
        ("missed@example.org", "E-Mail-Adresse bestätigen")
    ]
    assert not User.objects.filter(email="too.old@example.org").exists()
    # Its own task is probably still on the way.
    assert list(PendingRegistration.objects.all()) == [queued_now]


def test_a_failing_registration_does_not_hold_up_the_others(mailoutbox, monkeypatch):
    first = _pending("first@example.org", timedelta(hours=2), first_name="Failing")
    _pending("second@example.org", timedelta(hours=1))
    real_generate = services.generate_username

    def fail_for_the_first(first_name, last_name):
        if first_name == "Failing":
            raise RuntimeError("no free user name")
        return real_generate(first_name, last_name)

    monkeypatch.setattr(services, "generate_username", fail_for_the_first)
    assert services.process_pending_registrations() == (1, 0)
    assert User.objects.filter(email="second@example.org").exists()
    assert list(PendingRegistration.objects.all()) == [first]  # tried again in an hour


def test_the_tasks_time_limit_stops_the_job_rather_than_one_row(mailoutbox, monkeypatch):
    """Celery's soft limit is an exception too: caught like a failing row, the job would run
    on into the hard limit, which kills the worker's process."""
    from celery.exceptions import SoftTimeLimitExceeded

    _pending("first@example.org", timedelta(hours=2))
    _pending("second@example.org", timedelta(hours=1))

    def out_of_time(*names):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "generate_username", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        services.process_pending_registrations()
    assert PendingRegistration.objects.count() == 2  # both left for the next run


def test_the_row_and_its_hash_are_gone_a_day_later_whatever_happened(mailoutbox, monkeypatch):
    _pending("never.works@example.org", timedelta(minutes=20))
    monkeypatch.setattr(services, "generate_username", lambda *names: 1 / 0)
    services.process_pending_registrations()
    assert PendingRegistration.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.process_pending_registrations() == (0, 1)
    assert not PendingRegistration.objects.exists()


def test_the_job_runs_every_hour(settings):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["process-pending-registrations"]
    assert entry["task"] == "accounts.tasks.process_pending_registrations"
    assert entry["schedule"] == crontab(minute=29)
    from accounts.tasks import process_pending_registrations as task

    assert task.run() == (0, 0)


def test_a_message_of_the_release_before_is_still_done(mailoutbox):
    """Queued by a web process of the release before (its five arguments) and delivered to a
    worker of this one during the deploy: the registration is not lost."""
    from django.contrib.auth.hashers import make_password

    from accounts.tasks import register_account

    details = {
        "first_name": "Ada",
        "last_name": "Early",
        "email": "ada.early@example.org",
        "phone": "",
        "time_zone": "Europe/Berlin",
        "terms_version": settings.TERMS_VERSION,
        "terms_accepted_at": timezone.now().isoformat(),
    }
    password_hash = make_password("a-long-and-fine-passphrase")
    register_account.delay(details, password_hash, "198.51.100.9", "Firefox", "de")

    user = User.objects.get(email="ada.early@example.org")
    assert user.check_password("a-long-and-fine-passphrase") and user.preferred_language == "de"
    assert user.time_zone == "Europe/Berlin"
    assert [m.subject for m in mailoutbox] == ["E-Mail-Adresse bestätigen"]
    assert not PendingRegistration.objects.exists()
