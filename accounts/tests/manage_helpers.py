"""Helpers for the security manager tests: a client signed in with a verified second factor."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def sign_in_verified(client: Client, user) -> Client:
    """Sign ``user`` in as if they had passed the TOTP step (django_otp marks the session)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def manager_client(client, manager_a) -> Client:
    return sign_in_verified(client, manager_a)


@pytest.fixture
def admin_client_verified(client, provider_admin) -> Client:
    return sign_in_verified(client, provider_admin)
