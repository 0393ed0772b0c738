"""The security log keeps its history: a deleted account's events stay (with its user name),
and password attempts on an account that refuses every password are logged too."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import company_services as cs
from accounts import roles, services
from accounts.models import SecurityEvent, User
from conftest import make_user

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


def test_every_event_keeps_the_user_name(employee_a):
    event = services.record_event(Kind.SIGNED_IN, employee_a)
    event.refresh_from_db()
    assert event.username == employee_a.username


def test_deleting_a_user_keeps_their_events(employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    services.record_event(Kind.SIGNED_IN, employee_a)
    username, company_id = employee_a.username, employee_a.company_id
    employee_a.delete()
    events = SecurityEvent.objects.filter(username=username)
    assert sorted(events.values_list("kind", flat=True)) == [Kind.BLOCKED, Kind.SIGNED_IN]
    assert all(e.user_id is None and e.company_id == company_id for e in events)
    blocked = events.get(kind=Kind.BLOCKED)
    assert blocked.actor == manager_a
    assert username in str(blocked)


def test_deleting_the_manager_keeps_what_they_did(employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    manager_a.delete()
    event = SecurityEvent.objects.get(kind=Kind.BLOCKED)
    assert event.user == employee_a and event.actor is None


def test_a_deleted_managers_actions_stay_theirs_in_the_employees_log(employee_a, manager_a):
    """Not the employee's own doing, with the manager's browser and address as theirs."""
    cs.block_employees([employee_a], actor=manager_a, request=None)
    manager_a.delete()
    services.record_event(Kind.SIGNED_IN, employee_a)
    own, blocked = services.recent_events(employee_a)
    assert blocked.actor_id is None and blocked.actor_username == "c10001.ma"
    assert blocked.done_by_someone_else == "by your company's Security Manager"
    assert own.done_by_someone_else == ""


def test_the_company_log_names_a_deleted_manager(manager_client, manager_a, employee_a):
    """Who blocked the account stays in the log when that account is gone."""
    colleague = make_user("c10001.mb", company=manager_a.company, group=roles.SECURITY_MANAGERS)
    cs.block_employees([employee_a], actor=colleague)
    colleague.delete()
    html = manager_client.get("/manage/log/").content.decode()
    assert '<td data-label="Done by">c10001.mb</td>' in html


def test_the_company_log_still_lists_a_deleted_users_events(manager_client, employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    employee_a.delete()
    response = manager_client.get("/manage/log/")
    assert response.status_code == 200
    [event] = [e for e in response.context["page"].object_list if e.kind == Kind.BLOCKED]
    assert event.user is None
    assert "Account blocked" in response.content.decode()
    assert f'<td data-label="Account">{event.username}</td>' in response.content.decode()
    # and the log's search still finds it by the user name
    found = manager_client.get("/manage/log/", {"q": event.username}).context["page"].object_list
    assert event in list(found)


def test_the_admin_lists_and_shows_a_deleted_users_events(admin_client_verified, employee_a):
    event = services.record_event(Kind.SIGNED_IN, employee_a)
    employee_a.delete()
    listing = admin_client_verified.get("/admin/accounts/securityevent/")
    assert listing.status_code == 200
    assert (
        admin_client_verified.get(f"/admin/accounts/securityevent/{event.pk}/change/").status_code
        == 200
    )


# --- Password attempts on accounts that refuse every password ------------------------------


def _attempts(user):
    return SecurityEvent.objects.filter(user=user, kind=Kind.SIGN_IN_FAILED)


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"blocked_at": timezone.now(), "blocked_reason": User.BlockReason.MANAGER}, "blocked"),
        ({"blocked_at": timezone.now(), "blocked_reason": User.BlockReason.LOCKOUT}, "blocked"),
        ({"is_active": False}, "deactivated"),
        (
            {
                "must_change_password": True,
                "initial_password_expires_at": timezone.now() - timedelta(days=1),
            },
            "initial_password_expired",
        ),
    ],
)
def test_a_password_attempt_on_a_refusing_account_is_logged(
    client, sign_in, employee_a, password, change, refused
):
    User.objects.filter(pk=employee_a.pk).update(failed_login_count=2, **change)
    response = sign_in(employee_a, password=password)  # even the right password is refused
    assert response.status_code == 400
    [event] = _attempts(employee_a)
    assert event.data == {"count": 3, "refused": refused}
    assert event.ip_address == "127.0.0.1"
    assert event.company_id == employee_a.company_id  # the manager's log shows it


def test_each_refused_attempt_is_one_entry(sign_in, employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    for _ in range(3):
        sign_in(employee_a, password="wrong-password-1")
    counts = [e.data["count"] for e in _attempts(employee_a).order_by("created_at", "id")]
    assert counts == [1, 2, 3]


# --- The migrations that keep the actors' names ---------------------------------------------

FILLING = "accounts.migrations.0014_security_event_actor_username_fill"


def _fill_actor_names() -> list[str]:
    """Run the data migration on the test's connection; returns its UPDATE statements."""
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The one thing it uses of its schema editor (a real one cannot open inside a test's
    # transaction on SQLite).
    editor = SimpleNamespace(connection=connection)
    with CaptureQueriesContext(connection) as queries:
        importlib.import_module(FILLING).keep_actor_names(apps, editor)
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_the_migration_keeps_the_names_of_existing_actors(employee_a, manager_a):
    by_manager = services.record_event(Kind.BLOCKED, employee_a, actor=manager_a)
    by_nobody = services.record_event(Kind.SIGNED_IN, employee_a)
    SecurityEvent.objects.update(actor_username="")

    _fill_actor_names()

    by_manager.refresh_from_db(), by_nobody.refresh_from_db()
    assert (by_manager.actor_username, by_nobody.actor_username) == ("c10001.ma", "")


def test_adding_the_actors_name_column_writes_no_rows_under_the_tables_lock():
    """On PostgreSQL a migration's transaction holds the table's exclusive lock from the new
    column to its commit: an UPDATE of every event in it (millions) would hold up every
    sign-in and every log page until it is done. The rows are filled by the next migration,
    which runs outside one transaction."""
    from django.db.migrations import RunPython, RunSQL

    adding = importlib.import_module("accounts.migrations.0013_security_event_actor_username")
    assert not [op for op in adding.Migration.operations if isinstance(op, RunPython | RunSQL)]
    assert importlib.import_module(FILLING).Migration.atomic is False


def test_the_actors_names_are_filled_in_short_transactions(monkeypatch, employee_a, manager_a):
    monkeypatch.setattr(importlib.import_module(FILLING), "BATCH", 2)
    for _ in range(5):
        services.record_event(Kind.SIGNED_IN, employee_a, actor=employee_a)
    SecurityEvent.objects.update(actor_username="")
    SecurityEvent.objects.filter(pk=SecurityEvent.objects.order_by("pk").last().pk).update(
        actor_username="kept"  # filled already (a run cut short): left alone
    )

    updates = _fill_actor_names()

    assert len(updates) == 2  # four names to fill, two a batch, each its own transaction
    assert sorted(SecurityEvent.objects.values_list("actor_username", flat=True)) == [
        *[employee_a.username] * 4,
        "kept",
    ]


def test_the_code_before_the_actors_name_still_writes_the_log(employee_a):
    """Web and worker processes running the previous release go on signing people in while
    the migrations run: their INSERT does not name the new column."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_securityevent"
            " (kind, user_id, username, user_agent, data, created_at, done_by_provider)"
            " VALUES (%s, %s, %s, '', '{}', %s, %s)",
            [Kind.SIGNED_IN, employee_a.pk, employee_a.username, timezone.now(), False],
        )
    [event] = SecurityEvent.objects.filter(user=employee_a)
    assert (event.actor_username, event.done_by_someone_else) == ("", "")
