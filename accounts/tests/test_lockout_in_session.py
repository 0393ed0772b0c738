"""A lockout reached from a signed-in form (re-authentication, the current password of a
password change) signs that session out, as a blocked sign-in would stop it, and shows how
to unblock the account; the account's other sessions stay signed in, whoever caused it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import SecurityEvent, UserSession
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind

WRONG = "wrong-password-123"
NEW = "violet-harbour-lantern-77"
SIGNED_OUT_TEXT = "Your account is blocked after too many wrong passwords"


def _reauthenticate(client, password):
    return client.post("/account/security/confirm/", {"password": password, "next": "/"})


def _confirm_for_two_factor(client, password):
    return client.post(
        "/account/security/two-factor/setup/confirm-password/", {"password": password}
    )


def _change_password(client, password):
    return client.post(
        "/account/security/password/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )


def _change_initial_password(client, password):
    return client.post(
        "/account/password/initial/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )


FORMS = [_reauthenticate, _confirm_for_two_factor, _change_password]


def _signed_in(client) -> bool:
    return client.get("/dashboard/").status_code == 200


def _lock_out_from(client, post) -> object:
    """Wrong passwords in a signed-in form until the account locks; the last answer."""
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        response = post(client, WRONG)
        if attempt < settings.LOGIN_FAILURE_LIMIT - 1:
            assert response.status_code == 400  # below the limit: the form, still signed in
    return response


@pytest.mark.parametrize("post", FORMS)
def test_the_failure_that_locks_the_account_signs_that_session_out(
    client, sign_in, employee_a, post
):
    sign_in(employee_a)
    response = _lock_out_from(client, post)
    assert response.status_code == 302
    assert response.url == "/account/login/"
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out
    assert not _signed_in(client)
    row = UserSession.objects.get(user=employee_a)
    assert row.ended_at is not None and row.end_reason == "locked_out"
    kinds = list(
        SecurityEvent.objects.filter(user=employee_a).order_by("id").values_list("kind", flat=True)
    )
    assert kinds[-2:] == [Kind.BLOCKED, Kind.SIGNED_OUT]
    signed_out = SecurityEvent.objects.filter(user=employee_a, kind=Kind.SIGNED_OUT).get()
    assert signed_out.data == {"reason": "locked_out"}


def test_the_sign_in_page_then_says_how_to_unblock_the_account(client, sign_in, employee_a):
    sign_in(employee_a)
    response = _lock_out_from(client, _reauthenticate)
    page = client.get(response.url).text
    assert SIGNED_OUT_TEXT in page
    assert 'href="/account/unblock/"' in page  # "Check and unblock your account"
    assert "Check and unblock your account" in page


def test_the_current_password_of_a_required_change_locks_and_signs_out_too(
    client, sign_in, employee_a
):
    employee_a.must_change_password = True
    employee_a.save(update_fields=["must_change_password"])
    sign_in(employee_a)
    session = client.session
    session.pop("portal_auth_at")  # an older session: the current password is asked for
    session.save()
    response = _lock_out_from(client, _change_initial_password)
    assert response.url == "/account/login/"
    assert not _signed_in(client)
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out and employee_a.check_password(PASSWORD)


@pytest.mark.parametrize("post", FORMS)
def test_a_session_that_meets_a_lockout_is_signed_out_whatever_was_typed(
    client, sign_in, employee_a, post
):
    """Locked out meanwhile from the sign-in page: no password is checked, and the session
    that asked for one is sent to the page that says how to unblock the account."""
    sign_in(employee_a)
    guesser = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(employee_a, password=WRONG, c=guesser)
    assert _signed_in(client)  # the lockout alone leaves the session alone
    response = post(client, PASSWORD)
    assert response.status_code == 302 and response.url == "/account/login/"
    assert not _signed_in(client)
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out and employee_a.check_password(PASSWORD)
    assert not SecurityEvent.objects.filter(user=employee_a, kind=Kind.REAUTHENTICATED).exists()


def test_a_lockout_from_a_signed_in_form_leaves_the_other_sessions_signed_in(
    client, sign_in, employee_a
):
    other = Client()
    sign_in(employee_a, c=other)
    sign_in(employee_a)
    _lock_out_from(client, _change_password)
    assert not _signed_in(client)
    assert _signed_in(other)
    assert UserSession.objects.filter(user=employee_a, ended_at__isnull=True).count() == 1


def test_a_lockout_from_the_sign_in_page_leaves_every_session_signed_in(
    client, sign_in, employee_a
):
    """Anyone who knows a user name can lock the account: it must not sign its owner out."""
    sign_in(employee_a)
    guesser = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(employee_a, password=WRONG, c=guesser)
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out
    assert _signed_in(client)
    assert not UserSession.objects.filter(user=employee_a, ended_at__isnull=False).exists()
