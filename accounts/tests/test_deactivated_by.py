"""Who may reactivate an account: the company's Security Manager only what the company
deactivated; a deactivation by provider staff is staff's to undo (as a staff block is)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts import company_services as cs
from accounts import services
from accounts.models import SecurityEvent, User
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user

from .test_provider_admin import _change_form_data

pytestmark = pytest.mark.django_db
By = User.DeactivatedBy
Kind = SecurityEvent.Kind
ACTIONS = "/manage/employees/actions/"
STAFF_NOTE = "Deactivated by the provider: only our support team can reactivate it."


@pytest.fixture
def staff_deactivated(employee_a, provider_admin):
    cs.deactivate_employees([employee_a], actor=provider_admin)
    employee_a.refresh_from_db()
    return employee_a


@pytest.fixture
def manager_deactivated(employee_a2, manager_a):
    cs.deactivate_employees([employee_a2], actor=manager_a)
    employee_a2.refresh_from_db()
    return employee_a2


def test_a_deactivation_records_who_did_it(staff_deactivated, manager_deactivated):
    assert staff_deactivated.deactivated_by == By.STAFF and staff_deactivated.deactivated_by_staff
    assert manager_deactivated.deactivated_by == By.MANAGER
    assert not manager_deactivated.deactivated_by_staff


def test_a_security_managers_reactivation_leaves_a_staff_deactivation(staff_deactivated, manager_a):
    assert cs.reactivate_employees([staff_deactivated], actor=manager_a) == 0
    staff_deactivated.refresh_from_db()
    assert not staff_deactivated.is_active
    assert "reactivate" not in cs.applicable_actions(staff_deactivated)


def test_provider_staff_reactivate_what_anyone_deactivated(
    staff_deactivated, manager_deactivated, agent
):
    users = [staff_deactivated, manager_deactivated]
    assert cs.reactivate_employees(users, actor=agent) == 2
    for user in users:
        user.refresh_from_db()
        assert user.is_active and user.deactivated_by == ""


def test_the_bulk_reactivation_leaves_staff_deactivations_out_with_a_warning(
    client, manager_a, staff_deactivated, manager_deactivated
):
    sign_in_verified(client, manager_a)
    ids = [staff_deactivated.pk, manager_deactivated.pk]
    response = client.post(ACTIONS, {"action": "reactivate", "ids": ids}, follow=True)
    assert response.redirect_chain == [("/manage/", 302)]
    body = response.content.decode()
    assert "Accounts deactivated by our staff were left out" in body
    assert f"{manager_deactivated.username}) is active again." in body
    staff_deactivated.refresh_from_db()
    manager_deactivated.refresh_from_db()
    assert not staff_deactivated.is_active and manager_deactivated.is_active
    reactivated = SecurityEvent.objects.filter(kind=Kind.ACCOUNT_REACTIVATED)
    assert list(reactivated.values_list("user_id", flat=True)) == [manager_deactivated.pk]


def test_the_employee_page_offers_no_reactivation_of_a_staff_deactivation(
    client, manager_a, staff_deactivated, manager_deactivated
):
    sign_in_verified(client, manager_a)
    body = client.get(f"/manage/employees/{staff_deactivated.pk}/").content.decode()
    assert 'value="reactivate"' not in body and STAFF_NOTE in body
    body = client.get(f"/manage/employees/{manager_deactivated.pk}/").content.decode()
    assert 'value="reactivate"' in body and STAFF_NOTE not in body


def test_the_admins_deactivate_action_is_staffs(admin_client_verified, employee_a):
    admin_client_verified.post(
        "/admin/accounts/user/",
        {"action": "deactivate_employees", ACTION_CHECKBOX_NAME: [employee_a.pk]},
    )
    employee_a.refresh_from_db()
    assert not employee_a.is_active and employee_a.deactivated_by == By.STAFF


def test_staff_deactivating_a_managers_deactivation_take_it_over(
    admin_client_verified, manager_deactivated, manager_a, provider_admin
):
    admin_client_verified.post(
        "/admin/accounts/user/",
        {"action": "deactivate_employees", ACTION_CHECKBOX_NAME: [manager_deactivated.pk]},
    )
    manager_deactivated.refresh_from_db()
    assert manager_deactivated.deactivated_by == By.STAFF
    event = SecurityEvent.objects.filter(user=manager_deactivated).order_by("-id").first()
    assert event.kind == Kind.ACCOUNT_DEACTIVATED and event.actor == provider_admin
    # The Security Manager can no longer undo it.
    assert cs.reactivate_employees([manager_deactivated], actor=manager_a) == 0
    manager_deactivated.refresh_from_db()
    assert not manager_deactivated.is_active


def test_deactivating_again_changes_nothing_for_the_same_side(
    staff_deactivated, manager_deactivated, manager_a, agent
):
    assert cs.deactivate_employees([manager_deactivated], actor=manager_a) == 0
    assert cs.deactivate_employees([staff_deactivated], actor=agent) == 0
    manager_deactivated.refresh_from_db()
    assert manager_deactivated.deactivated_by == By.MANAGER


def test_unticking_active_in_the_admins_form_is_staffs_and_ticking_it_clears_it(
    admin_client_verified, employee_a
):
    url = f"/admin/accounts/user/{employee_a.pk}/change/"
    data = _change_form_data(admin_client_verified, employee_a)
    data.pop("is_active")
    assert admin_client_verified.post(url, data).status_code == 302
    employee_a.refresh_from_db()
    assert not employee_a.is_active and employee_a.deactivated_by == By.STAFF
    data = _change_form_data(admin_client_verified, employee_a)
    data["is_active"] = "on"
    assert admin_client_verified.post(url, data).status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.is_active and employee_a.deactivated_by == ""


migration = importlib.import_module("accounts.migrations.0010_deactivated_by")


def test_the_migration_credits_the_company_only_when_its_event_says_so(
    company_a, manager_a, agent, employee_b
):
    by_manager, by_staff, no_event, actor_gone = (
        make_user(f"c10001.d{letter}", company=company_a, is_active=False) for letter in "abcd"
    )
    services.record_event(Kind.ACCOUNT_DEACTIVATED, by_manager, actor=manager_a)
    services.record_event(Kind.ACCOUNT_DEACTIVATED, by_staff, actor=agent)
    services.record_event(Kind.ACCOUNT_DEACTIVATED, actor_gone, actor=None)
    # Another company's "manager" cannot have deactivated company A's account for it.
    other = make_user("c10001.de", company=company_a, is_active=False)
    services.record_event(Kind.ACCOUNT_DEACTIVATED, other, actor=employee_b)
    User.objects.update(deactivated_by="")

    migration.infer_deactivations(apps, None)

    found = dict(User.objects.filter(is_active=False).values_list("pk", "deactivated_by"))
    assert found == {
        by_manager.pk: By.MANAGER,
        by_staff.pk: By.STAFF,
        no_event.pk: By.STAFF,
        actor_gone.pk: By.STAFF,
        other.pk: By.STAFF,
    }
    assert set(User.objects.filter(is_active=True).values_list("deactivated_by", flat=True)) == {""}


def test_the_account_report_tells_whom_to_ask_for_a_reactivation(
    client, staff_deactivated, manager_deactivated, mailoutbox
):
    client.post("/account/unblock/", {"identifier": staff_deactivated.username})
    client.post("/account/unblock/", {"identifier": manager_deactivated.username})
    by_staff, by_manager = mailoutbox
    assert "deactivated by our staff" in by_staff.body
    assert "http://portal.test/account/login/help/" in by_staff.body
    assert "/account/login/help/" in by_staff.alternatives[0][0]
    assert "Security Manager" not in by_staff.body
    assert "reactivated by your company's Security Manager" in by_manager.body
    assert "deactivated by our staff" not in by_manager.body
