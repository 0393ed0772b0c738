"""Confirming the password (re-authentication, in accounts and in the two-factor settings)
and the current password of a password change count failed sign-ins of the network, and
are refused like the sign-in's password step, unchecked, while it is over its limit."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts import services
from accounts.models import SecurityEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "violet-harbour-lantern-77"
TOO_MANY = "There were too many failed sign-ins from your network."
CONFIRM_URLS = [
    "/account/security/confirm/",
    "/account/security/two-factor/setup/confirm-password/",
]


@pytest.fixture
def throttle_ip(rf):
    """Use up the network's failures, after the test has signed in."""

    def _throttle():
        for _ in range(settings.LOGIN_IP_FAILURE_LIMIT):
            services._count_ip_failure(rf.post("/", REMOTE_ADDR="127.0.0.1"))

    return _throttle


def _reauthenticated(user) -> bool:
    return SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.REAUTHENTICATED).exists()


@pytest.mark.parametrize("url", CONFIRM_URLS)
@pytest.mark.parametrize("typed", [PASSWORD, "wrong-password-123"])
def test_confirming_the_password_is_refused_unchecked_over_the_limit(
    client, sign_in, employee_a, throttle_ip, url, typed
):
    sign_in(employee_a)
    throttle_ip()
    response = client.post(url, {"password": typed, "next": "/account/security/"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert TOO_MANY in response.text
    assert not _reauthenticated(employee_a)
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 0  # the password was never checked


def test_changing_the_password_is_refused_unchecked_over_the_limit(
    client, sign_in, employee_a, throttle_ip
):
    sign_in(employee_a)
    throttle_ip()
    for old in (PASSWORD, "wrong-password-123"):
        response = client.post(
            "/account/security/password/",
            {"old_password": old, "new_password1": NEW, "new_password2": NEW},
        )
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert TOO_MANY in response.text
    employee_a.refresh_from_db()
    assert employee_a.check_password(PASSWORD)
    assert employee_a.failed_login_count == 0


def test_the_required_change_asking_for_the_current_password_is_refused_too(
    client, sign_in, employee_a, throttle_ip
):
    employee_a.must_change_password = True
    employee_a.save(update_fields=["must_change_password"])
    sign_in(employee_a)
    session = client.session
    session.pop("portal_auth_at")  # an older session: the current password is asked for
    session.save()
    throttle_ip()
    response = client.post(
        "/account/password/initial/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 429
    assert TOO_MANY in response.text
    employee_a.refresh_from_db()
    assert employee_a.check_password(PASSWORD)


@pytest.mark.parametrize("url", CONFIRM_URLS)
def test_below_the_limit_confirming_works_as_before(client, sign_in, employee_a, url):
    sign_in(employee_a)
    response = client.post(url, {"password": PASSWORD, "next": "/account/security/"})
    assert response.status_code == 302
    assert _reauthenticated(employee_a)


def test_wrong_passwords_there_count_toward_the_lockout(client, sign_in, employee_a):
    sign_in(employee_a)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/account/security/confirm/", {"password": "wrong-password-123"})
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out
