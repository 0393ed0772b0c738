"""The per-IP throttle of the password step: it says how long is left, keeps the account
named, and cannot be skipped with a made-up step name."""

from __future__ import annotations

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import services
from conftest import PASSWORD, sign_in_step

pytestmark = pytest.mark.django_db
URL = "/account/login/"


@pytest.fixture
def throttled_ip(rf):
    for _ in range(settings.LOGIN_IP_FAILURE_LIMIT):
        services._count_ip_failure(rf.post("/", REMOTE_ADDR="127.0.0.1"))


def _identify(client, user):
    sign_in_step(
        client, URL, {"login_view-current_step": "identify", "identify-username": user.username}
    )


def _password(client, password, **extra):
    data = {"login_view-current_step": "auth", "auth-password": password, **extra}
    return sign_in_step(client, URL, data)


@pytest.mark.parametrize("goto", ["x", "", "token", "backup", "auth "])
def test_a_goto_step_that_names_no_step_is_still_throttled(client, outsider, throttled_ip, goto):
    _identify(client, outsider)
    response = _password(client, PASSWORD, wizard_goto_step=goto)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "_auth_user_id" not in client.session  # the right password did not sign in


def test_a_wrong_password_with_a_bogus_goto_step_is_throttled_too(client, outsider, throttled_ip):
    _identify(client, outsider)
    assert _password(client, "wrong", wizard_goto_step="x").status_code == 429
    outsider.refresh_from_db()
    assert outsider.failed_login_count == 0  # the password was never checked


def test_going_back_to_the_first_step_works_while_throttled(client, outsider, throttled_ip):
    _identify(client, outsider)
    response = _password(client, "", wizard_goto_step="identify")
    assert response.status_code == 200
    assert response.context["wizard"]["steps"].current == "identify"


def test_without_the_throttle_a_bogus_goto_step_signs_in_as_usual(client, outsider):
    _identify(client, outsider)
    response = _password(client, PASSWORD, wizard_goto_step="x")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_no_burst_of_failures_gets_through_around_the_end_of_the_window(client, outsider, settings):
    """One failure, then two in the last second of its window: the next second lets one
    more through, but then the limit holds for the two (a fixed window started anew)."""
    settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_WINDOW = 3, 600
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        _identify(client, outsider)
        assert _password(client, "wrong").status_code == 400
        traveller.shift(599)
        assert _password(client, "wrong").status_code == 400
        assert _password(client, "wrong").status_code == 400
        traveller.shift(1)
        assert _password(client, "wrong").status_code == 400
        response = _password(client, PASSWORD)
        assert response.status_code == 429
        assert response["Retry-After"] == "599"
        assert "_auth_user_id" not in client.session


def test_the_429_says_the_time_left_and_keeps_the_account_named(
    client, outsider, settings, django_assert_max_num_queries
):
    settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_WINDOW = 3, 600
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        _identify(client, outsider)
        for _ in range(3):
            assert _password(client, "wrong").status_code == 400
        traveller.shift(240)
        # The session only (a database table in tests): no account is read, let alone locked.
        with django_assert_max_num_queries(4):
            response = _password(client, PASSWORD)
        assert response.status_code == 429
        assert response["Retry-After"] == "360"  # what is left of the 600 s, not 600
        text = response.text
        assert (
            "There were too many failed sign-ins from your network. "
            "Please try again in six minutes."
        ) in text
        # The password page again, for the account typed on the first page.
        assert f"Signing in as <strong>{outsider.username}</strong>" in text
        assert 'name="auth-password"' in text
        assert "_auth_user_id" not in client.session
        traveller.shift(359)
        assert _password(client, PASSWORD)["Retry-After"] == "1"
        traveller.shift(1)
        response = _password(client, PASSWORD)
        assert (response.status_code, response["Location"]) == (302, "/dashboard/")
