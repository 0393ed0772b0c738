"""Actions on one or many employees: POST /manage/employees/actions/."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import company_services as cs
from accounts.models import SecurityEvent
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
URL = "/manage/employees/actions/"
ACTIONS = [
    "block",
    "unblock",
    "send_password_reset",
    "initial_password",
    "reset_mfa",
    "deactivate",
    "reactivate",
]


def test_block_many(manager_client, employee_a, employee_a2, manager_a):
    response = manager_client.post(URL, {"action": "block", "ids": [employee_a.pk, employee_a2.pk]})
    assert response.status_code == 302 and response["Location"] == "/manage/"
    for user in (employee_a, employee_a2):
        user.refresh_from_db()
        assert user.is_blocked
    assert SecurityEvent.objects.filter(kind="blocked", actor=manager_a).count() == 2


def test_unblock_one_goes_back_to_the_employee(manager_client, employee_a):
    from django.utils import timezone

    employee_a.blocked_at = timezone.now()
    employee_a.failed_login_count = 5
    employee_a.save()
    response = manager_client.post(URL, {"action": "unblock", "ids": [employee_a.pk]})
    assert response["Location"] == f"/manage/employees/{employee_a.pk}/"
    employee_a.refresh_from_db()
    assert not employee_a.is_blocked and employee_a.failed_login_count == 0


def test_send_password_reset(manager_client, employee_a, mailoutbox):
    manager_client.post(URL, {"action": "send_password_reset", "ids": [employee_a.pk]})
    assert mailoutbox[-1].to == [employee_a.email]


def test_new_initial_password_is_shown_once(manager_client, employee_a):
    response = manager_client.post(URL, {"action": "initial_password", "ids": [employee_a.pk]})
    assert response.status_code == 200
    password = response.context["issued"][0].initial_password
    employee_a.refresh_from_db()
    assert employee_a.check_password(password) and not employee_a.check_password(PASSWORD)


def test_reset_mfa(manager_client, employee_a, mailoutbox):
    TOTPDevice.objects.create(user=employee_a, name="default", confirmed=True)
    manager_client.post(URL, {"action": "reset_mfa", "ids": [employee_a.pk]})
    assert not TOTPDevice.objects.filter(user=employee_a).exists()
    assert mailoutbox[-1].to == [employee_a.email]


def test_deactivate_ends_the_employees_sessions_then_reactivate(
    manager_client, employee_a, sign_in
):
    employee_client = Client()
    sign_in(employee_a, c=employee_client)
    assert employee_client.get("/dashboard/").status_code == 200
    manager_client.post(URL, {"action": "deactivate", "ids": [employee_a.pk]})
    employee_a.refresh_from_db()
    assert not employee_a.is_active
    assert employee_client.get("/dashboard/").status_code == 302
    manager_client.post(URL, {"action": "reactivate", "ids": [employee_a.pk]})
    employee_a.refresh_from_db()
    assert employee_a.is_active


@pytest.mark.parametrize("action", ACTIONS)
def test_another_companys_id_is_404_and_nothing_changes(
    manager_client, employee_a, employee_b, action
):
    sessions_before = Session.objects.count()
    response = manager_client.post(URL, {"action": action, "ids": [employee_a.pk, employee_b.pk]})
    assert response.status_code == 404
    employee_b.refresh_from_db()
    assert employee_b.is_active and not employee_b.is_blocked
    assert employee_b.check_password(PASSWORD)
    assert not SecurityEvent.objects.filter(user__in=[employee_a, employee_b]).exists()
    assert Session.objects.count() == sessions_before


@pytest.mark.parametrize("action", ACTIONS)
def test_staff_ids_are_404(manager_client, agent, action):
    assert manager_client.post(URL, {"action": action, "ids": [agent.pk]}).status_code == 404


def test_the_manager_is_left_out_of_their_own_bulk_action(manager_client, manager_a, employee_a):
    manager_client.post(URL, {"action": "deactivate", "ids": [manager_a.pk, employee_a.pk]})
    manager_a.refresh_from_db()
    employee_a.refresh_from_db()
    assert manager_a.is_active and not employee_a.is_active


@pytest.mark.parametrize(
    "data",
    [{"action": "block"}, {"action": "explode", "ids": ["1"]}, {"action": "block", "ids": ["x"]}],
)
def test_bad_input_changes_nothing(manager_client, employee_a, data):
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert not employee_a.is_blocked


def test_posted_privilege_fields_are_ignored(manager_client, employee_a):
    manager_client.post(
        URL, {"action": "reactivate", "ids": [employee_a.pk], "is_staff": "1", "is_superuser": "1"}
    )
    employee_a.refresh_from_db()
    assert not employee_a.is_staff and not employee_a.is_superuser


def test_employees_cannot_post_actions(client, employee_a, employee_a2):
    from accounts.tests.manage_helpers import sign_in_verified

    sign_in_verified(client, employee_a)
    assert client.post(URL, {"action": "block", "ids": [employee_a2.pk]}).status_code == 403


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    "action, expected",
    [
        ("block", ["2 employees blocked."]),
        ("unblock", ["2 employees were not blocked and were skipped."]),
        ("send_password_reset", ["A password reset email has been sent to 2 employees."]),
        ("reset_mfa", ["2 employees had no authenticator and were skipped."]),
        ("deactivate", ["2 employees deactivated."]),
        ("reactivate", ["2 employees were already active and were skipped."]),
    ],
)
def test_a_bulk_action_says_in_a_sentence_what_it_did(
    manager_client, employee_a, employee_a2, action, expected
):
    ids = [employee_a.pk, employee_a2.pk]
    response = manager_client.post(URL, {"action": action, "ids": ids}, follow=True)
    assert _messages(response) == expected


def test_a_bulk_action_counts_the_employees_it_skipped(
    manager_client, manager_a, employee_a, employee_a2, company_a
):
    third = make_user("c10001.ec", company=company_a)
    cs.block_employees([employee_a], actor=manager_a)
    ids = [employee_a.pk, employee_a2.pk, third.pk]
    response = manager_client.post(URL, {"action": "block", "ids": ids}, follow=True)
    assert _messages(response) == [
        "2 employees blocked.",
        "1 employee was already blocked and was skipped.",
    ]


def test_an_action_on_one_employee_names_them(manager_client, employee_a):
    employee_a.first_name, employee_a.last_name = "Anna", "Berg"
    employee_a.save(update_fields=["first_name", "last_name"])
    data = {"action": "block", "ids": [employee_a.pk]}
    response = manager_client.post(URL, data, follow=True)
    assert _messages(response) == ["Anna Berg (c10001.ea) is blocked."]
    response = manager_client.post(URL, data, follow=True)
    assert _messages(response) == ["Anna Berg (c10001.ea) was already blocked."]
