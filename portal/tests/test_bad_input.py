"""Bad input found by an audit that used to answer 500: now a 4xx with the form's message."""

from __future__ import annotations

import pytest

from accounts.tests.manage_helpers import sign_in_verified

pytestmark = pytest.mark.django_db

# A valid address of 300 characters: Django's EmailField allows 320, our columns hold 254.
LONG_EMAIL = ("a" * 60 + ".") * 3 + "b" * 50 + "@" + "c" * 20 + ".example.com"
HUGE_ID = str(2**70)


def test_a_manager_creating_an_employee_with_an_overlong_email_gets_the_form_back(
    manager_client,
):
    response = manager_client.post(
        "/manage/employees/new/",
        {"first_name": "Jana", "last_name": "Doe", "email": LONG_EMAIL, "language": "en"},
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.text


def test_a_help_request_with_an_overlong_email_gets_the_form_back(client):
    response = client.post(
        "/tickets/cannot-sign-in/",
        {"name": "X", "email": LONG_EMAIL, "username": "c10001.xx", "description": "help"},
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.text


@pytest.mark.parametrize("bad_id", [HUGE_ID, "0", "-3"])
def test_employee_actions_on_ids_no_row_can_have_are_refused(manager_client, employee_a, bad_id):
    response = manager_client.post(
        "/manage/employees/actions/", {"action": "block", "ids": [bad_id, str(employee_a.pk)]}
    )
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert employee_a.blocked_at is None


@pytest.mark.parametrize("bad_id", [HUGE_ID, "-3", "x"])
def test_bulk_triage_of_ids_no_row_can_have_is_refused(client, agent, bad_id):
    sign_in_verified(client, agent)
    response = client.post(
        "/support/", {"action": "status", "status": "resolved", "tickets": [bad_id]}
    )
    # The queue's bulk bar answers like any form: the queue again, with why.
    assert response.status_code == 400
    assert "A selected ticket no longer exists." in response.text


def test_a_nul_in_the_user_agent_or_a_malformed_address_is_logged_without_them(
    client, sign_in, employee_a
):
    """PostgreSQL refuses NUL in text and non-addresses in inet columns: every signed-in
    page (the session row, the audit events) would have been a 500 there."""
    from accounts.models import SecurityEvent, UserSession

    client.defaults.update(HTTP_USER_AGENT="Mozilla/5.0\x00 (X11)", REMOTE_ADDR="not-an-ip")
    sign_in(employee_a)
    assert client.get("/dashboard/").status_code == 200

    session = UserSession.objects.get(user=employee_a)
    event = SecurityEvent.objects.filter(user=employee_a).latest("created_at")
    assert session.user_agent == event.user_agent == "Mozilla/5.0 (X11)"
    assert session.ip_address is None and event.ip_address is None
