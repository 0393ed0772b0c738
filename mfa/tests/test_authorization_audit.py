"""Authorization audit of the two-factor pages and the device API: an enrolment link dies with
the account's right to it, another user's authenticator is a 404 whatever the method."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import company_services as cs
from mfa import protocol, services
from mfa.models import PushDevice

pytestmark = pytest.mark.django_db
ENROL = "/mfa/api/push/enrol"
INDEX = "/account/security/two-factor/"


def _enrol(client, token):
    key = ed25519.Ed25519PrivateKey.generate()
    body = {"token": token, "name": "Pixel", "public_key": protocol.public_pem(key)}
    return client.post(ENROL, json.dumps(body), content_type="application/json")


# --- A pending push enrolment ------------------------------------------------------------------


def test_a_reset_of_the_authenticators_kills_a_pending_push_enrolment(
    client, employee_a, manager_a, totp_device
):
    """The manager resets a lost or stolen phone's account: a QR code shown before the reset
    (to whoever had the session then) must not add a new phone after it."""
    totp_device(employee_a)
    _enrollment, token = services.start_push_enrollment(employee_a, "Phone")
    assert cs.reset_mfa([employee_a], actor=manager_a) == 1
    assert _enrol(client, token).status_code == 403
    assert not PushDevice.objects.filter(user=employee_a).exists()


@pytest.mark.parametrize("action", [cs.deactivate_employees, cs.block_employees])
def test_an_offboarded_or_blocked_account_enrols_no_phone(client, employee_a, manager_a, action):
    _enrollment, token = services.start_push_enrollment(employee_a, "Phone")
    action([employee_a], actor=manager_a)
    assert _enrol(client, token).status_code == 403
    assert not PushDevice.objects.filter(user=employee_a).exists()


# --- Another user's authenticator --------------------------------------------------------------


def test_another_users_authenticator_is_a_404_to_a_freshly_authenticated_post(
    client, employee_a, employee_b, totp_device, recent_auth
):
    device = totp_device(employee_b, name="Theirs")
    client.force_login(employee_a)
    recent_auth()
    for action in ("rename", "remove"):
        response = client.post(f"{INDEX}totp-{device.pk}/{action}/", {"name": "Mine now"})
        assert response.status_code == 404, action
    device.refresh_from_db()
    assert device.name == "Theirs"
    assert TOTPDevice.objects.filter(pk=device.pk, user=employee_b).exists()
