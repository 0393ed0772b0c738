"""The reference authenticator's pure functions (its HTTP use runs in tests/e2e)."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa import authenticator, services
from mfa.tests.conftest import current_code


def test_totp_code_matches_the_portals_verifier(employee_a):
    device = TOTPDevice.objects.create(user=employee_a, name="x", confirmed=True)
    uri = services.totp_uri(device)
    assert authenticator.totp_code(uri) == current_code(device)


def test_totp_code_refuses_other_uris():
    with pytest.raises(authenticator.AuthenticatorError):
        authenticator.totp_code("https://example.com")


def test_enroll_needs_a_token():
    with pytest.raises(authenticator.AuthenticatorError):
        authenticator.enroll("http://portal.test/mfa/api/push/enrol", path="/nonexistent")


def test_commands_without_enrolment_explain_themselves(tmp_path, capsys):
    assert authenticator.main(["--file", str(tmp_path / "keys.json"), "pending"]) == 1
    assert "run enroll first" in capsys.readouterr().err
