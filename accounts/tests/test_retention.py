from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import company_services, retention, services
from accounts.models import (
    EmailChangeRequest,
    PasswordReminder,
    SecurityEvent,
    SecurityManagerRequest,
    User,
    UserSession,
)
from accounts.tasks import purge_expired_accounts_data
from accounts.tests.helpers import pending_registration
from portal.tests.retention_checks import assert_constant_queries_per_batch
from tickets import services as tickets_services
from tickets.models import Category, Ticket

Kind = SecurityEvent.Kind
DAY = timedelta(days=1)


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_the_purge_runs_daily_with_the_session_stores_own(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-retention"]
    assert entry["task"] == "accounts.tasks.purge_expired_accounts_data"
    assert entry["schedule"].hour == {3}
    assert "purge-expired-sessions" not in settings.CELERY_BEAT_SCHEDULE


# --- The security log -------------------------------------------------------------------------


def test_security_events_go_after_their_retention_and_younger_ones_stay(settings, employee_a):
    settings.SECURITY_EVENT_RETENTION_DAYS = 730
    with time_machine.travel(days_ago(731)):
        old = services.record_event(Kind.SIGNED_IN, employee_a)
    with time_machine.travel(days_ago(729)):
        young = services.record_event(Kind.SIGNED_IN, employee_a)
    deleted = purge_expired_accounts_data.delay().get()
    assert deleted["security events"] == 1
    assert list(SecurityEvent.objects.all()) == [young]
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_the_log_of_a_deleted_account_goes_after_the_retention_too(settings, employee_a):
    settings.SECURITY_EVENT_RETENTION_DAYS = 730
    with time_machine.travel(days_ago(800)):
        services.record_event(Kind.ACCOUNT_DEACTIVATED, employee_a)
    employee_a.delete()
    assert SecurityEvent.objects.get().username == "c10001.ea"
    retention.purge()
    assert not SecurityEvent.objects.exists()


def test_zero_keeps_the_security_log_forever(settings, employee_a):
    settings.SECURITY_EVENT_RETENTION_DAYS = 0
    with time_machine.travel(days_ago(5000)):
        services.record_event(Kind.SIGNED_IN, employee_a)
    assert "security events" not in retention.purge()
    assert SecurityEvent.objects.count() == 1


def test_more_security_events_than_one_batch_all_go(employee_a):
    with time_machine.travel(days_ago(1000)):
        for _ in range(5):
            services.record_event(Kind.SIGNED_IN, employee_a)
    assert retention.purge(batch_size=2)["security events"] == 5
    assert not SecurityEvent.objects.exists()


def test_security_events_cost_the_same_queries_per_batch(employee_a):
    before = days_ago(730)

    def old_event():
        SecurityEvent.objects.create(kind=Kind.SIGNED_IN, user=employee_a, created_at=before - DAY)

    assert_constant_queries_per_batch(old_event, lambda: retention.past_security_events(before))


# --- Sign-in records (UserSession) --------------------------------------------------------------


def _session(user, days: float, browser: str = "") -> UserSession:
    at = days_ago(days)
    return UserSession.objects.create(
        user=user,
        session_key_hash=uuid.uuid4().hex,
        browser_key_hash=browser,
        created_at=at,
        last_activity_at=at,
        ended_at=at + timedelta(hours=1),
    )


def test_old_sign_in_records_go_but_each_users_latest_known_browser_stays(
    settings, employee_a, employee_b
):
    settings.SESSION_HISTORY_RETENTION_DAYS = 400
    older = _session(employee_a, 500, browser="a" * 64)
    latest_known = _session(employee_a, 450, browser="b" * 64)
    by_link = _session(employee_a, 420)  # an emailed link's sign-in recognises no browser
    only_one = _session(employee_b, 900, browser="d" * 64)
    assert retention.purge()["sign-in records"] == 2
    assert set(UserSession.objects.all()) == {latest_known, only_one}
    assert not UserSession.objects.filter(pk__in=[older.pk, by_link.pk]).exists()

    # Once the user signs in again in a browser it recognises, the old record goes.
    young = _session(employee_a, 10, browser="c" * 64)
    assert retention.purge()["sign-in records"] == 1
    assert set(UserSession.objects.all()) == {young, only_one}


def test_a_sign_in_after_a_long_break_from_a_new_browser_still_warns(
    settings, client, sign_in, employee_a, mailoutbox
):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    with time_machine.travel(days_ago(900)):
        sign_in(employee_a)
    retention.purge()
    assert UserSession.objects.filter(user=employee_a).count() == 1
    sign_in(employee_a, c=Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    assert [m.subject for m in mailoutbox] == ["New sign-in to your account: was this you?"]


def test_sign_in_records_cost_the_same_queries_per_batch(employee_a):
    before = days_ago(400)
    assert_constant_queries_per_batch(
        lambda: _session(employee_a, 500), lambda: retention.past_sign_in_records(before)
    )


# --- Email changes, password reminders, Security Manager requests ------------------------------


def _email_change(user, days: float) -> EmailChangeRequest:
    return EmailChangeRequest.objects.create(
        user=user, new_email="new@example.com", key_hash="x" * 64, created_at=days_ago(days)
    )


def test_email_changes_go_a_while_after_their_link_stopped_working(settings, employee_a):
    settings.EMAIL_CHANGE_RETENTION_DAYS = 30
    expired_long_ago = _email_change(employee_a, 32)
    expired_lately = _email_change(employee_a, 30)
    pending = _email_change(employee_a, 0)
    assert retention.purge()["email changes"] == 1
    assert set(EmailChangeRequest.objects.all()) == {expired_lately, pending}
    assert not EmailChangeRequest.objects.filter(pk=expired_long_ago.pk).exists()


def test_email_changes_cost_the_same_queries_per_batch(employee_a):
    assert_constant_queries_per_batch(
        lambda: _email_change(employee_a, 40), lambda: retention.past_email_changes(days_ago(30))
    )


def _reminder(user, expires_in_days: float, threshold: int = 7) -> PasswordReminder:
    return PasswordReminder.objects.create(
        user=user,
        threshold_days=threshold,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
        run_id=uuid.uuid4(),
    )


def test_password_reminders_go_a_while_after_the_expiry_they_announced(settings, employee_a):
    settings.PASSWORD_REMINDER_RETENTION_DAYS = 30
    long_past = _reminder(employee_a, -31)
    lately_past = _reminder(employee_a, -29, threshold=3)
    coming = _reminder(employee_a, 5, threshold=1)
    assert retention.purge()["password reminders"] == 1
    assert set(PasswordReminder.objects.all()) == {lately_past, coming}
    assert not PasswordReminder.objects.filter(pk=long_past.pk).exists()


def test_password_reminders_cost_the_same_queries_per_batch(employee_a):
    thresholds = iter(range(1, 100))
    assert_constant_queries_per_batch(
        lambda: _reminder(employee_a, -40, threshold=next(thresholds)),
        lambda: retention.past_password_reminders(days_ago(30)),
    )


def _manager_request(status: str, decided_days_ago: float | None, **fields):
    return SecurityManagerRequest.objects.create(
        company_name="Gamma GmbH",
        customer_number="30003",
        nominee_first_name="Nina",
        nominee_last_name="Nominee",
        nominee_email="nina@example.com",
        requester_name="Rita Requester",
        requester_role="CEO",
        requester_email="rita@example.com",
        status=status,
        decided_at=None if decided_days_ago is None else days_ago(decided_days_ago),
        created_at=days_ago(1000),
        **fields,
    )


def test_decided_manager_requests_go_after_their_retention_pending_ones_stay(
    settings, client, provider_admin
):
    settings.MANAGER_REQUEST_RETENTION_DAYS = 730
    Status = SecurityManagerRequest.Status
    approved_long_ago = _manager_request(Status.APPROVED, 731, decided_by=provider_admin)
    rejected_long_ago = _manager_request(Status.REJECTED, 800)
    rejected_lately = _manager_request(Status.REJECTED, 700)
    pending = _manager_request(Status.PENDING, None)
    status_url = company_services.request_status_url(approved_long_ago)
    assert retention.purge()["manager requests"] == 2
    assert set(SecurityManagerRequest.objects.all()) == {rejected_lately, pending}
    assert not SecurityManagerRequest.objects.filter(pk=rejected_long_ago.pk).exists()
    # Its status link now answers as an unknown one.
    assert client.get(status_url.removeprefix("http://portal.test")).status_code == 404
    assert User.objects.filter(pk=provider_admin.pk).exists()


def test_manager_requests_cost_the_same_queries_per_batch(db):
    assert_constant_queries_per_batch(
        lambda: _manager_request(SecurityManagerRequest.Status.REJECTED, 800),
        lambda: retention.past_manager_requests(days_ago(730)),
    )


# --- Accounts registered but never verified ------------------------------------------------------


def _register(first_name: str, email: str) -> User:
    """A self-registration as its task does it: from the row the request stored."""
    pending = pending_registration(first_name=first_name, email=email, ip_address="198.51.100.7")
    return services.register_account(str(pending.pk))


@pytest.fixture
def registered_31_days_ago(db):
    """Self-registrations of 31 days ago: name -> account, none verified yet."""
    with time_machine.travel(days_ago(31)):
        return {name: _register(name, f"{name.lower()}@example.com") for name in NAMES}


NAMES = [
    "Abandoned",
    "Verified",
    "Signed",
    "Ticket",
    "Blocked",
    "Lockout",
    "Role",
    "Inactive",
    "Joined",
]


def test_accounts_never_verified_nor_used_go_after_30_days_and_leave_nothing(
    settings, registered_31_days_ago, agent, employee_a, company_a
):
    settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS = 30
    accounts = registered_31_days_ago
    services.verify_email(None, accounts["Verified"])
    User.objects.filter(pk=accounts["Signed"].pk).update(last_login=days_ago(20))
    Ticket.objects.create(
        requester=accounts["Ticket"],
        category=Category.objects.get(code="email"),
        subject="Cannot verify",
        description="No email came.",
        impact="low",
        urgency="low",
        priority=4,
    )
    User.objects.filter(pk=accounts["Blocked"].pk).update(
        blocked_at=timezone.now(), blocked_reason=User.BlockReason.STAFF
    )
    User.objects.filter(pk=accounts["Lockout"].pk).update(
        blocked_at=timezone.now(), blocked_reason=User.BlockReason.LOCKOUT
    )
    accounts["Role"].groups.add(*agent.groups.all())
    User.objects.filter(pk=accounts["Inactive"].pk).update(is_active=False)
    # Staff made a self-registered account an employee: the company decides about it now.
    User.objects.filter(pk=accounts["Joined"].pk).update(company=company_a)
    with time_machine.travel(days_ago(29)):
        recent = _register("Recent", "recent@example.com")
    # An employee whose Security Manager created the account never verified it either.
    with time_machine.travel(days_ago(60)):
        employee = company_services.create_employee(
            company_a, first_name="Emil", last_name="Employee", email="emil@example.com"
        ).user
    services.record_event(Kind.SIGN_IN_FAILED, accounts["Abandoned"], count=1)
    kept_event = services.record_event(Kind.SIGNED_IN, employee_a)

    events_before = SecurityEvent.objects.count()
    their_events = SecurityEvent.objects.filter(
        user__in=[accounts["Abandoned"], accounts["Lockout"]]
    ).count()

    deleted = retention.purge()

    assert deleted["unverified accounts"] == 2
    gone = [accounts.pop("Abandoned"), accounts.pop("Lockout")]
    assert not User.objects.filter(pk__in=[user.pk for user in gone]).exists()
    kept = [*accounts.values(), recent, employee]
    assert User.objects.filter(pk__in=[user.pk for user in kept]).count() == len(kept)
    # Nothing is kept about them, and nothing says they were deleted.
    assert their_events == 3
    assert SecurityEvent.objects.count() == events_before - their_events
    assert not SecurityEvent.objects.filter(username__in=[user.username for user in gone]).exists()
    assert SecurityEvent.objects.filter(pk=kept_event.pk).exists()
    assert Ticket.objects.get().requester == accounts["Ticket"]
    # The address is free again: registering it creates an account.
    assert _register("Abandoned", "abandoned@example.com") is not None


def _help_request(email: str, status: str = "new") -> None:
    """A "cannot sign in" request, made without signing in, as its page makes it."""
    ticket = tickets_services.create_sign_in_help_ticket(
        name="Someone", email=email, username="", description="I cannot sign in."
    )
    Ticket.objects.filter(pk=ticket.pk).update(status=status)


def test_an_account_whose_address_an_open_help_request_names_stays(settings, db):
    settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS = 30
    with time_machine.travel(days_ago(31)):
        helped = {
            status: _register(status.title(), f"{status}@example.com")
            for status in ("new", "in_progress", "waiting", "resolved", "closed")
        }
    for status, account in helped.items():
        # The address as the person typed it, in other letters' case.
        _help_request(account.email.upper(), status)
    _help_request("someone.else@example.com")

    deleted = retention.purge()

    assert deleted["unverified accounts"] == 2  # those whose request is resolved or closed
    kept = User.objects.filter(pk__in=[user.pk for user in helped.values()])
    assert set(kept.values_list("email", flat=True)) == {
        "new@example.com",
        "in_progress@example.com",
        "waiting@example.com",
    }


def test_unverified_accounts_with_help_requests_cost_the_same_queries_per_batch(db):
    """Open requests for other addresses and closed ones for these: one query per batch."""
    before = days_ago(30)
    count = iter(range(100))

    def abandoned_with_a_closed_request():
        number = next(count)
        with time_machine.travel(before - DAY):
            _register("Gone", f"gone{number}@example.com")
        _help_request(f"gone{number}@example.com", "closed")
        _help_request(f"other{number}@example.com")

    assert_constant_queries_per_batch(
        abandoned_with_a_closed_request,
        lambda: retention.abandoned_registrations(before),
        before_delete=retention._forget_their_log,
    )


def test_an_account_verified_while_the_purge_runs_stays(registered_31_days_ago):
    account = registered_31_days_ago["Abandoned"]
    verified = []

    def verify_after_the_batch_is_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not verified and 'FROM "accounts_user"' in sql:
            verified.append(True)
            User.objects.filter(pk=account.pk).update(email_verified=True)
        return result

    with connection.execute_wrapper(verify_after_the_batch_is_read):
        deleted = retention.purge()
    assert verified
    assert deleted["unverified accounts"] == len(NAMES) - 1
    assert User.objects.filter(pk=account.pk).exists()
    assert SecurityEvent.objects.filter(user=account, kind=Kind.REGISTERED).exists()


def test_unverified_accounts_cost_the_same_queries_per_batch(db):
    before = days_ago(30)
    count = iter(range(100))

    def abandoned():
        with time_machine.travel(before - DAY):
            _register("Gone", f"gone{next(count)}@example.com")

    assert_constant_queries_per_batch(
        abandoned,
        lambda: retention.abandoned_registrations(before),
        before_delete=retention._forget_their_log,
    )


def test_zero_keeps_unverified_accounts(settings, registered_31_days_ago):
    settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS = 0
    assert "unverified accounts" not in retention.purge()
    assert User.objects.filter(email_verified=False).count() == len(NAMES)
