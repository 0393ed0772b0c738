from __future__ import annotations

import json
import secrets
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django_otp.oath import totp
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.reauth import AUTH_AT
from conftest import sign_in_step
from mfa import protocol
from mfa.models import PushDevice

LOGIN = "/account/login/"


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, offset)).zfill(6)


@pytest.fixture
def totp_device():
    def make(user, name="TOTP"):
        return TOTPDevice.objects.create(user=user, name=name, confirmed=True)

    return make


@pytest.fixture
def email_device():
    def make(user, name="Email"):
        return EmailDevice.objects.create(user=user, name=name, email=user.email, confirmed=True)

    return make


class Phone:
    """A push device with its private key; signs requests for the test client."""

    def __init__(self, device: PushDevice, key):
        self.device = device
        self.key = key

    def headers(self, method, path, body=b"", *, timestamp=None, nonce=None, key=None):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_urlsafe(18)
        message = protocol.canonical_request(method, path, timestamp, nonce, body)
        signature = protocol.b64encode(protocol.sign(key or self.key, message))
        return {
            "HTTP_X_PORTAL_DEVICE": self.device.key_id,
            "HTTP_X_PORTAL_TIMESTAMP": timestamp,
            "HTTP_X_PORTAL_NONCE": nonce,
            "HTTP_X_PORTAL_SIGNATURE": signature,
        }

    def pending(self, client):
        path = "/mfa/api/push/challenges"
        return client.get(path, **self.headers("GET", path))

    def answer(self, client, challenge_id, payload, **kwargs):
        path = f"/mfa/api/push/challenges/{challenge_id}/answer"
        body = json.dumps(payload).encode()
        return client.post(
            path,
            body,
            content_type="application/json",
            **self.headers("POST", path, body, **kwargs),
        )


@pytest.fixture
def phone():
    def make(user, name="push", algorithm="ed25519"):
        if algorithm == "ed25519":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        device = PushDevice.objects.create(
            user=user,
            name=name,
            key_id=secrets.token_urlsafe(12),
            public_key=protocol.public_pem(key),
            algorithm=algorithm,
            confirmed=True,
        )
        return Phone(device, key)

    return make


@pytest.fixture
def to_token_step(client, sign_in):
    """Identify + password; the response is the second-factor step."""

    def go(user, c=None, **kwargs):
        return sign_in(user, c=c or client, **kwargs)

    return go


def token_post(client, token, step="token"):
    return sign_in_step(
        client, LOGIN, {"login_view-current_step": step, f"{step}-otp_token": token}
    )


def choose_device(client, device, step="token"):
    return sign_in_step(
        client, LOGIN, {"login_view-current_step": step, "challenge_device": device.persistent_id}
    )


@pytest.fixture
def recent_auth(client):
    """Mark the client's session as freshly authenticated (sudo mode)."""

    def mark():
        session = client.session
        session[AUTH_AT] = time.time()
        session.save()

    return mark
