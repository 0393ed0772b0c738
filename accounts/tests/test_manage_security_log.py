"""The company security log at /manage/log/."""

from __future__ import annotations

import importlib
from datetime import timedelta
from functools import partial

import pytest
from django.apps import apps
from django.utils import timezone

from accounts import services
from accounts.models import SecurityEvent, User
from conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/manage/log/"
Kind = SecurityEvent.Kind


def events(response):
    return list(response.context["page"].object_list)


def test_it_shows_only_the_companys_events(manager_client, employee_a, employee_b, manager_a):
    mine = services.record_event(Kind.BLOCKED, employee_a, actor=manager_a)
    services.record_event(Kind.BLOCKED, employee_b)
    response = manager_client.get(URL)
    assert events(response) == [mine]
    assert employee_b.username not in response.content.decode()
    assert manager_a.username in response.content.decode()  # who did it


def test_filters_by_kind_user_and_dates(manager_client, employee_a, employee_a2):
    blocked = services.record_event(Kind.BLOCKED, employee_a)
    signed_in = services.record_event(Kind.SIGNED_IN, employee_a2)
    old = services.record_event(Kind.SIGNED_IN, employee_a2)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert events(manager_client.get(URL, {"kind": "blocked"})) == [blocked]
    assert events(manager_client.get(URL, {"q": employee_a2.username})) == [signed_in, old]
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert old not in events(manager_client.get(URL, {"date_from": since}))
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert events(manager_client.get(URL, {"date_to": until})) == [old]


def test_the_search_is_named_as_the_column_it_searches(manager_client, employee_a):
    services.record_event(SecurityEvent.Kind.SIGNED_IN, employee_a)
    html = manager_client.get(URL).content.decode()
    assert '<label for="id_q">Account</label>' in html
    assert '<th scope="col">Account</th>' in html


def test_bad_filters_are_a_400_not_a_500(manager_client):
    assert manager_client.get(URL, {"date_from": "yesterday", "kind": "nope"}).status_code == 400


def test_a_to_date_before_the_from_date_is_named_not_answered_with_nothing(
    manager_client, employee_a
):
    services.record_event(Kind.BLOCKED, employee_a)
    response = manager_client.get(URL, {"date_from": "2026-11-23", "date_to": "2026-11-01"})
    assert response.status_code == 400
    assert response.context["filter_form"].errors["date_to"] == [
        "“To” is before “From”: choose a later date."
    ]
    # What was typed stays in the form.
    html = response.content.decode()
    assert 'value="2026-11-23"' in html and 'value="2026-11-01"' in html


def test_query_count_is_constant(manager_client, employee_a, django_assert_max_num_queries):
    services.record_event(Kind.BLOCKED, employee_a)
    manager_client.get(URL)
    with django_assert_max_num_queries(8) as small:
        manager_client.get(URL)
    for _ in range(30):
        services.record_event(Kind.SIGNED_IN, employee_a, actor=employee_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        manager_client.get(URL)


# --- What provider staff did on the company's accounts ------------------------------------------

STAFF_ORIGIN = ("198.51.100.7", "StaffBrowser/9.9")


def _policy_changed_in_the_admin(admin, company, **data):
    """The admin logs a policy change as the staff member's own event on the company."""
    services.record_event(
        Kind.POLICY_CHANGED, admin, actor=admin, company=company, origin=STAFF_ORIGIN, **data
    )


def test_staff_actions_name_the_provider_not_the_staff_member_or_their_address(
    manager_client, employee_a, agent, provider_admin, company_a
):
    services.record_event(Kind.BLOCKED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    services.record_event(Kind.ROLE_CHANGED, employee_a, actor=provider_admin, origin=STAFF_ORIGIN)
    _policy_changed_in_the_admin(provider_admin, company_a)
    html = manager_client.get(URL).content.decode()
    assert html.count("The provider") == 3
    for secret in (agent.username, provider_admin.username, *STAFF_ORIGIN):
        assert secret not in html


def test_the_managers_and_the_employees_own_events_keep_their_address(
    manager_client, manager_a, employee_a
):
    services.record_event(Kind.BLOCKED, employee_a, actor=manager_a, origin=("192.0.2.1", "M"))
    services.record_event(Kind.SIGNED_IN, employee_a, actor=employee_a, origin=("192.0.2.2", "E"))
    services.record_event(Kind.SIGN_IN_FAILED, employee_a, origin=("192.0.2.3", "X"))
    html = manager_client.get(URL).content.decode()
    assert "The provider" not in html
    for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        assert ip in html
    assert manager_a.username in html


def test_the_employee_page_hides_staff_too(manager_client, employee_a, agent, manager_a):
    services.record_event(Kind.BLOCKED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    services.record_event(Kind.UNBLOCKED, employee_a, actor=manager_a, origin=("192.0.2.1", "M"))
    html = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert "The provider" in html
    assert agent.username not in html and STAFF_ORIGIN[0] not in html
    assert "192.0.2.1" in html and manager_a.username in html


# Not "page": that name is pytest-playwright's browser page, which would make these browser
# tests and reorder the suite (the browser tests' flush then ran before database tests).
@pytest.mark.parametrize(
    ("log_page", "limit", "more"), [("log", 8, 30), ("employee", 20, 20)], ids=["log", "employee"]
)
def test_staff_events_add_no_query_per_row(
    manager_client, employee_a, agent, django_assert_max_num_queries, log_page, limit, more
):
    url = URL if log_page == "log" else f"/manage/employees/{employee_a.pk}/"
    services.record_event(Kind.BLOCKED, employee_a, actor=agent)
    manager_client.get(url)
    with django_assert_max_num_queries(limit) as small:
        manager_client.get(url)
    for _ in range(more):
        services.record_event(Kind.ROLE_CHANGED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    with django_assert_max_num_queries(len(small.captured_queries)):
        manager_client.get(url)


def test_a_deleted_staff_members_events_still_name_the_provider(
    manager_client, employee_a, agent, provider_admin, company_a
):
    services.record_event(Kind.BLOCKED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    _policy_changed_in_the_admin(provider_admin, company_a, via="admin")
    agent.delete()
    provider_admin.delete()
    html = manager_client.get(URL).content.decode()
    assert html.count("The provider") == 2
    assert employee_a.username in html  # whose account it was stays
    for secret in (agent.username, provider_admin.username, *STAFF_ORIGIN):
        assert secret not in html


migration = importlib.import_module("accounts.migrations.0011_security_event_done_by_provider")


def test_the_migration_marks_the_providers_events_from_actor_or_admin_mark(
    company_a, company_b, manager_a, employee_a, employee_b, agent, provider_admin, outsider
):
    record = partial(services.record_event, Kind.BLOCKED, employee_a)
    by_manager, by_self, by_nobody = record(actor=manager_a), record(actor=employee_a), record()
    providers = [
        record(actor=agent),  # a support agent: a group, not is_staff
        record(actor=provider_admin),
        record(actor=make_user("portal.root", is_superuser=True)),
        record(actor=make_user("c10001.st", company=company_a, is_staff=True)),
        record(actor=employee_b),  # another company's
        record(actor=outsider),  # no company
    ]
    gone_via_admin = record(actor=None, via="admin")
    gone_elsewhere = record(actor=None, via="activation")
    SecurityEvent.objects.update(done_by_provider=False)

    migration.mark_provider_events(apps, None)

    marked = set(SecurityEvent.objects.filter(done_by_provider=True).values_list("pk", flat=True))
    assert marked == {event.pk for event in [*providers, gone_via_admin]}
    for event in (by_manager, by_self, by_nobody, gone_elsewhere):
        assert event.pk not in marked


def test_the_search_finds_no_staff_user_name_the_page_does_not_show(
    manager_client, employee_a, provider_admin, company_a
):
    User.objects.filter(pk=provider_admin.pk).update(last_name="Staffmember")
    on_employee = services.record_event(Kind.BLOCKED, employee_a, actor=provider_admin)
    _policy_changed_in_the_admin(provider_admin, company_a, via="admin")
    assert events(manager_client.get(URL, {"q": provider_admin.username})) == []
    assert events(manager_client.get(URL, {"q": "Staffmember"})) == []
    # The employee's account, shown, is still found.
    assert events(manager_client.get(URL, {"q": employee_a.username})) == [on_employee]
    provider_admin.delete()
    assert events(manager_client.get(URL, {"q": provider_admin.username})) == []


def test_the_search_keeps_the_query_count(
    manager_client, employee_a, agent, django_assert_max_num_queries
):
    services.record_event(Kind.BLOCKED, employee_a, actor=agent)
    manager_client.get(URL, {"q": employee_a.username})
    with django_assert_max_num_queries(8) as small:
        manager_client.get(URL, {"q": employee_a.username})
    for _ in range(30):
        services.record_event(Kind.ROLE_CHANGED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    with django_assert_max_num_queries(len(small.captured_queries)):
        manager_client.get(URL, {"q": employee_a.username})


backup_codes_migration = importlib.import_module(
    "accounts.migrations.0017_backup_codes_created_event"
)


def test_the_migration_relabels_only_past_new_backup_codes(employee_a):
    """Logged as "Authenticator changed" before they had a kind of their own."""
    record = partial(services.record_event, Kind.AUTHENTICATOR_CHANGED, employee_a)
    codes = record(type="backup", regenerated=True)
    renamed, default = record(type="totp", name="Authy", old="TOTP"), record(default=True)
    editor = type("SchemaEditor", (), {"connection": type("C", (), {"alias": "default"})})

    backup_codes_migration.relabel_backup_codes_created(apps, editor)

    kinds = dict(SecurityEvent.objects.values_list("pk", "kind"))
    assert kinds == {
        codes.pk: Kind.BACKUP_CODES_CREATED,
        renamed.pk: Kind.AUTHENTICATOR_CHANGED,
        default.pk: Kind.AUTHENTICATOR_CHANGED,
    }
