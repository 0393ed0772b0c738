"""Creating an employee at /manage/employees/new/."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent, User

pytestmark = pytest.mark.django_db
URL = "/manage/employees/new/"


def test_with_email_it_creates_the_account_and_sends_the_activation_link(
    manager_client, company_a, manager_a, mailoutbox
):
    response = manager_client.post(
        URL,
        {
            "first_name": "Jana",
            "last_name": "Doe",
            "email": "jana@example.com",
            "phone": "+49 30 1234567",
            "language": "de",
        },
    )
    user = User.objects.get(username="c10001.jd")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/employees/{user.pk}/"
    assert user.company == company_a
    assert user.preferred_language == "de"
    assert user.phone.as_e164 == "+49301234567"
    assert mailoutbox[-1].to == ["jana@example.com"]
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.ACCOUNT_CREATED, user=user, actor=manager_a
    ).exists()


def test_without_email_the_initial_password_is_shown_once(manager_client, mailoutbox):
    response = manager_client.post(
        URL, {"first_name": "Jana", "last_name": "Doe", "language": "en"}
    )
    assert response.status_code == 200
    password = response.context["issued"][0].initial_password
    assert password in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    user = User.objects.get(username="c10001.jd")
    assert user.check_password(password) and user.must_change_password
    assert mailoutbox == []


def test_posted_privilege_fields_are_ignored(manager_client, company_b):
    manager_client.post(
        URL,
        {
            "first_name": "Jana",
            "last_name": "Doe",
            "language": "en",
            "is_staff": "on",
            "is_superuser": "on",
            "company": company_b.pk,
            "groups": "1",
            "username": "admin",
        },
    )
    user = User.objects.get(last_name="Doe")
    assert (user.is_staff, user.is_superuser, user.company.customer_number) == (
        False,
        False,
        "10001",
    )
    assert user.username == "c10001.jd"
    assert not user.groups.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "", "last_name": "Doe", "language": "en"},
        {"first_name": "Jana", "last_name": "Doe", "language": "xx"},
        {"first_name": "Jana", "last_name": "Doe", "language": "en", "email": "not-an-email"},
        {"first_name": "Jana", "last_name": "Doe", "language": "en", "phone": "12"},
    ],
)
def test_bad_input_is_a_400_with_the_form(manager_client, data):
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert not User.objects.filter(last_name="Doe").exists()


def test_an_email_already_used_in_the_company_is_refused(manager_client, employee_a):
    response = manager_client.post(
        URL, {"first_name": "Jana", "last_name": "Doe", "language": "en", "email": employee_a.email}
    )
    assert response.status_code == 400
    assert "already uses this email" in response.content.decode()
