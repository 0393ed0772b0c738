from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from accounts.models import PasswordReminder, User
from accounts.reminders import due_threshold, send_password_reminders
from conftest import make_user

NOW = datetime(2026, 3, 10, 6, 5, tzinfo=UTC)


def expiring_in(user: User, delta: timedelta) -> User:
    """Make the user's password expire ``delta`` after NOW (90-day policy)."""
    user.password_changed_at = NOW + delta - timedelta(days=90)
    user.save()
    return user


@pytest.mark.parametrize(
    ("left", "threshold"),
    [
        (timedelta(days=15), None),
        (timedelta(days=14, seconds=1), None),
        (timedelta(days=14), 14),
        (timedelta(days=8), 14),
        (timedelta(days=7), 7),
        (timedelta(days=3), 3),
        (timedelta(days=1, seconds=1), 3),
        (timedelta(days=1), 1),
        (timedelta(seconds=1), 1),
        (timedelta(0), None),
        (timedelta(days=-1), None),
    ],
)
def test_the_nearest_threshold_applies(left, threshold):
    assert due_threshold(NOW + left, NOW, [14, 7, 3, 1]) == threshold


def test_it_emails_a_user_whose_password_expires_within_a_threshold(employee_a, mailoutbox):
    expiring_in(employee_a, timedelta(days=6, hours=1))
    assert send_password_reminders(now=NOW) == 1
    [mail] = mailoutbox
    assert mail.to == [employee_a.email]
    assert "expires within 7 days" in mail.subject
    assert "http://portal.test/account/security/password/" in mail.body
    reminder = PasswordReminder.objects.get()
    assert (reminder.user, reminder.threshold_days) == (employee_a, 7)


def test_running_twice_sends_once(employee_a, mailoutbox):
    expiring_in(employee_a, timedelta(days=2))
    assert send_password_reminders(now=NOW) == 1
    assert send_password_reminders(now=NOW + timedelta(hours=3)) == 0
    assert len(mailoutbox) == 1


def test_each_threshold_is_sent_once_per_expiry(employee_a, mailoutbox):
    expiring_in(employee_a, timedelta(days=13))
    for day in range(14):
        send_password_reminders(now=NOW + timedelta(days=day))
    thresholds = list(
        PasswordReminder.objects.order_by("created_at").values_list("threshold_days", flat=True)
    )
    assert thresholds == [14, 7, 3, 1]
    assert len(mailoutbox) == 4


def test_a_new_expiry_date_gets_new_reminders(employee_a, mailoutbox):
    expiring_in(employee_a, timedelta(days=1))
    send_password_reminders(now=NOW)
    expiring_in(employee_a, timedelta(days=1, hours=2))  # password changed, new expiry
    send_password_reminders(now=NOW)
    assert len(mailoutbox) == 2


def test_it_skips_users_without_usable_email_or_far_from_expiry(
    employee_a, employee_a2, employee_b, mailoutbox
):
    expiring_in(employee_a, timedelta(days=2))
    employee_a.email = ""
    employee_a.save()
    expiring_in(employee_a2, timedelta(days=2))
    employee_a2.email_verified = False
    employee_a2.save()
    expiring_in(employee_b, timedelta(days=30))
    assert send_password_reminders(now=NOW) == 0
    assert mailoutbox == []


def test_it_skips_passwords_that_never_expire(employee_a, mailoutbox):
    employee_a.company.password_max_age_days = 0
    employee_a.company.save()
    expiring_in(employee_a, timedelta(days=2))
    assert send_password_reminders(now=NOW) == 0


def test_the_email_uses_the_users_language_and_time_zone(employee_a, mailoutbox):
    employee_a.preferred_language = "de"
    employee_a.time_zone = "America/New_York"
    employee_a.save()
    expiring_in(employee_a, timedelta(days=2))
    send_password_reminders(now=NOW)
    [mail] = mailoutbox
    expires_local = (NOW + timedelta(days=2)).astimezone(
        __import__("zoneinfo").ZoneInfo("America/New_York")
    )
    assert "(EDT)" in mail.body  # the zone is named
    assert f"{expires_local:%H:%M}" in mail.body  # 01:05 in New York, not 06:05 UTC
    assert "März" in mail.body  # German month name


def test_queries_per_batch_do_not_grow_with_users(company_a, django_assert_max_num_queries):
    for index in range(12):
        expiring_in(make_user(f"c10001.r{index:02d}"[:10], company=company_a), timedelta(days=2))
    # 12 users, batch size 5: batches of 5, 5, 2 and a last empty one; 3 queries per batch.
    with django_assert_max_num_queries(3 * 3 + 1):
        assert send_password_reminders(now=NOW, batch_size=5) == 12


def test_the_management_command_runs_the_job(employee_a, mailoutbox, capsys):
    expiring_in(employee_a, timedelta(days=2))
    with __import__("time_machine").travel(NOW, tick=False):
        call_command("send_password_reminders")
    assert "sent: 1" in capsys.readouterr().out
    assert len(mailoutbox) == 1


def test_the_task_is_scheduled_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-password-reminders"]
    assert entry["task"] == "accounts.tasks.send_password_reminders"
    from accounts.tasks import send_password_reminders as task

    assert task.acks_late


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_never_send_twice(mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent connections (PostgreSQL)")
    Group.objects.get_or_create(name="unused")
    users = [make_user(f"c10001.t{index:02d}"[:10]) for index in range(30)]
    for user in users:
        expiring_in(user, timedelta(days=2))
    barrier = threading.Barrier(4)
    results: list[int] = []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.append(send_password_reminders(now=NOW, batch_size=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 30
    assert len(mailoutbox) == 30
    assert len({mail.to[0] for mail in mailoutbox}) == 30
    assert PasswordReminder.objects.count() == 30
