"""Email codes are never enough for security managers, provider staff and admins: neither at
sign-in nor for /manage/ and the admin (/support/ is in tickets/tests)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa import services
from mfa.models import MfaSettings
from mfa.tests.conftest import choose_device, current_code, token_post

pytestmark = pytest.mark.django_db

SETUP = "/account/security/two-factor/setup/"
NOT_ENOUGH = "A code sent by email is not enough."
STRONG_REQUIRED = "/account/security/two-factor/strong-factor-required/"


def _make_default(device) -> None:
    MfaSettings.objects.update_or_create(
        user=device.user, defaults={"default_device": device.persistent_id}
    )


def _verified_by(client, device):
    """A session of the device's user, verified by that device (as after its sign-in step)."""
    client.force_login(device.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# --- At sign-in ---------------------------------------------------------------------------


def test_a_manager_is_offered_totp_and_not_the_email_authenticator(
    client, manager_a, email_device, to_token_step, mailoutbox
):
    email = email_device(manager_a, name="Old mailbox")
    _make_default(email)  # chosen before the promotion
    response = to_token_step(manager_a)
    assert response.status_code == 200
    assert response.context["device"] == TOTPDevice.objects.get(user=manager_a)
    assert response.context["other_devices"] == []
    assert "Old mailbox" not in response.content.decode()
    assert "emailed" not in response.content.decode()
    assert mailoutbox == []


def test_a_manager_cannot_choose_the_email_authenticator_by_a_crafted_post(
    client, manager_a, email_device, to_token_step, mailoutbox
):
    email = email_device(manager_a)
    to_token_step(manager_a)
    response = choose_device(client, email)
    assert response.context["device"] == TOTPDevice.objects.get(user=manager_a)
    assert mailoutbox == []
    # Even a valid emailed code (sent some other way) does not sign in. It differs from every
    # TOTP code the step accepts, so that only the email device could take it.
    totp = TOTPDevice.objects.get(user=manager_a)
    accepted = {current_code(totp, offset) for offset in (-1, 0, 1)}
    code = next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)
    EmailDevice.objects.filter(pk=email.pk).update(
        token=code, valid_until=timezone.now() + timedelta(minutes=5)
    )
    response = token_post(client, code)
    assert response.status_code == 400
    assert "This code is not valid." in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_manager_signs_in_with_totp_and_opens_manage(
    client, manager_a, email_device, to_token_step
):
    _make_default(email_device(manager_a))
    to_token_step(manager_a)
    assert (
        token_post(client, current_code(TOTPDevice.objects.get(user=manager_a))).status_code == 302
    )
    assert client.get("/manage/").status_code == 200


def test_customers_are_still_offered_email_codes(
    client, employee_a, totp_device, email_device, to_token_step, mailoutbox
):
    totp_device(employee_a)
    email = email_device(employee_a)
    _make_default(email)
    response = to_token_step(employee_a)
    assert response.context["device"] == email
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    assert token_post(client, code).status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY] == email.persistent_id


def test_a_manager_with_only_an_email_authenticator_must_enrol_a_strong_one(
    client, manager_a, email_device, to_token_step, mailoutbox
):
    # The email code still guards the account, but opens nothing but enrolment.
    TOTPDevice.objects.filter(user=manager_a).delete()
    email_device(manager_a)
    to_token_step(manager_a)
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].body).group(1)
    assert token_post(client, code).status_code == 302
    assert client.get("/dashboard/")["Location"] == SETUP
    assert client.get("/manage/")["Location"] == SETUP
    page = client.get(SETUP).content.decode()
    assert "Add email" not in page and "Add authenticator app" in page


# --- /manage/ and the admin ---------------------------------------------------------------


def test_a_manager_verified_by_email_is_told_manage_needs_a_stronger_factor(
    client, manager_a, email_device
):
    _verified_by(client, email_device(manager_a))
    # Every page, not only /manage/: the role's company-wide views (tickets) too.
    for path in ("/manage/", "/tickets/", "/dashboard/", "/admin/"):
        assert client.get(path)["Location"] == STRONG_REQUIRED, path
    response = client.get(STRONG_REQUIRED)
    assert response.status_code == 403
    content = response.content.decode()
    assert "Second factor required" in content and NOT_ENOUGH in content
    assert 'action="/account/logout/"' in content
    # Signing out stays possible.
    assert client.post("/account/logout/").status_code == 302


def test_a_manager_verified_by_totp_opens_manage(client, manager_a):
    _verified_by(client, TOTPDevice.objects.get(user=manager_a))
    assert client.get("/manage/").status_code == 200


def test_an_admin_verified_by_email_is_told_so_at_the_admin_without_a_loop(
    client, provider_admin, email_device
):
    _verified_by(client, email_device(provider_admin))
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert NOT_ENOUGH in response.content.decode()
    assert [url for url, _status in response.redirect_chain] == [STRONG_REQUIRED]


def test_an_admin_verified_by_totp_opens_the_admin(client, provider_admin):
    _verified_by(client, TOTPDevice.objects.get(user=provider_admin))
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_counts_only_in_place_of_a_strong_authenticator(
    client, manager_a, email_device
):
    services.regenerate_backup_codes(None, manager_a)
    _verified_by(client, services.backup_device(manager_a))
    assert client.get("/manage/").status_code == 200
    # Without TOTP or push, backup codes stand in for the email authenticator only.
    TOTPDevice.objects.filter(user=manager_a).delete()
    email_device(manager_a)
    services.forget_authenticator_state(manager_a)
    manager_a.otp_device = services.backup_device(manager_a)
    manager_a.is_verified = lambda: True
    assert not services.verified_with_strong_factor(manager_a)


def test_an_unverified_session_is_not_strong(manager_a):
    manager_a.otp_device = None
    manager_a.is_verified = lambda: False
    assert not services.verified_with_strong_factor(manager_a)
