"""Correcting an employee's name and phone at /manage/employees/<id>/edit/."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent
from accounts.tests.manage_helpers import sign_in_verified

pytestmark = pytest.mark.django_db


def url(user) -> str:
    return f"/manage/employees/{user.pk}/edit/"


def test_the_employee_page_links_to_the_edit_page(manager_client, employee_a):
    content = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert f'href="{url(employee_a)}"' in content


def test_it_shows_the_current_values_and_keeps_the_user_name(manager_client, employee_a):
    employee_a.phone = "+49301234567"
    employee_a.save(update_fields=["phone"])
    response = manager_client.get(url(employee_a))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="C10001"' in content and 'value="Tester"' in content
    assert "+49" in content
    assert f"The user name stays {employee_a.username}" in content
    assert 'name="email"' not in content  # the employee's own, changed with confirmation
    assert "belongs to the employee" in content


def test_it_saves_the_new_name_and_logs_the_change(manager_client, employee_a, manager_a):
    username, email = employee_a.username, employee_a.email
    response = manager_client.post(
        url(employee_a), {"first_name": " Anna ", "last_name": "Berg-Meier", "phone": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/manage/employees/{employee_a.pk}/"
    employee_a.refresh_from_db()
    assert (employee_a.first_name, employee_a.last_name) == ("Anna", "Berg-Meier")
    assert (employee_a.username, employee_a.email) == (username, email)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PROFILE_CHANGED)
    assert event.user == employee_a and event.actor == manager_a
    assert event.company_id == employee_a.company_id
    assert event.data["fields"] == ["first_name", "last_name"]
    page = manager_client.get(response["Location"]).content.decode()
    assert "Anna Berg-Meier" in page and "have been saved" in page
    assert "Berg-Meier" in manager_client.get("/manage/").content.decode()


def test_the_phone_number_can_be_set_and_cleared(manager_client, employee_a):
    manager_client.post(
        url(employee_a), {"first_name": "C10001", "last_name": "Tester", "phone": "+49 30 1234567"}
    )
    employee_a.refresh_from_db()
    assert employee_a.phone.as_e164 == "+49301234567"
    manager_client.post(url(employee_a), {"first_name": "C10001", "last_name": "Tester"})
    employee_a.refresh_from_db()
    assert not employee_a.phone


def test_posted_email_username_or_company_are_ignored(
    manager_client, employee_a, company_b, manager_a
):
    before = (employee_a.username, employee_a.email, employee_a.company_id)
    manager_client.post(
        url(employee_a),
        {
            "first_name": "C10001",
            "last_name": "Tester",
            "email": "attacker@example.com",
            "username": "c10001.xx",
            "company": company_b.pk,
            "is_staff": "on",
        },
    )
    employee_a.refresh_from_db()
    assert (employee_a.username, employee_a.email, employee_a.company_id) == before
    assert not employee_a.is_staff


def test_nothing_changed_writes_no_event(manager_client, employee_a):
    employee_a.phone = "+49301234567"
    employee_a.save(update_fields=["phone"])
    response = manager_client.post(
        url(employee_a), {"first_name": "C10001", "last_name": "Tester", "phone": "+49 30 1234567"}
    )
    assert response.status_code == 302
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PROFILE_CHANGED).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "", "last_name": "Tester"},
        {"first_name": "   ", "last_name": "Tester"},
        {"first_name": "Anna", "last_name": "x" * 151},
        {"first_name": "Anna", "last_name": "Berg", "phone": "12"},
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(manager_client, employee_a, data):
    response = manager_client.post(url(employee_a), data)
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert employee_a.first_name == "C10001"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PROFILE_CHANGED).exists()


def test_another_companys_employee_is_404(manager_client, employee_b):
    assert manager_client.get(url(employee_b)).status_code == 404
    response = manager_client.post(url(employee_b), {"first_name": "X", "last_name": "Y"})
    assert response.status_code == 404
    employee_b.refresh_from_db()
    assert employee_b.first_name != "X"


def test_staff_accounts_are_404(manager_client, agent):
    assert manager_client.get(url(agent)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, employee_a):
    response = client.post(url(employee_a), {"first_name": "X", "last_name": "Y"})
    assert response.status_code == 302 and response["Location"].startswith("/account/login/")


def test_employees_get_403(client, employee_a, employee_a2):
    sign_in_verified(client, employee_a)
    assert client.get(url(employee_a2)).status_code == 403
