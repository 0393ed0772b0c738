"""Confirming the password in the two-factor settings works as accounts' re-authentication:
a new session key and an entry in the security log."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db

URL = "/account/security/two-factor/setup/confirm-password/"
NEXT = "/account/security/two-factor/setup/totp/"


def test_the_right_password_rotates_the_session_key_and_is_logged(client, employee_a, password):
    client.force_login(employee_a)
    before = client.session.session_key
    response = client.post(URL, {"password": password, "next": NEXT})
    assert response.status_code == 302 and response["Location"] == NEXT
    assert client.session.session_key != before
    assert client.get(NEXT).status_code == 200  # still signed in, now recently authenticated
    event = SecurityEvent.objects.get(user=employee_a, kind=SecurityEvent.Kind.REAUTHENTICATED)
    assert event.company == employee_a.company


def test_a_wrong_password_keeps_the_session_key_and_logs_no_confirmation(client, employee_a):
    client.force_login(employee_a)
    before = client.session.session_key
    response = client.post(URL, {"password": "wrong", "next": NEXT})
    assert response.status_code == 400
    assert client.session.session_key == before
    assert not SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.REAUTHENTICATED
    ).exists()
    assert client.get(NEXT).status_code == 302
