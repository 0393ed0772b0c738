"""Whatever is typed or sent as a code or signature header, the answer is a normal refusal:
the form's message with status 400 (the API's 401/400), never a 500."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.http import Http404

from conftest import sign_in_step
from mfa import protocol, services
from mfa.tests.conftest import LOGIN, current_code, token_post

pytestmark = pytest.mark.django_db

SETUP = "/account/security/two-factor/setup/"
NON_ASCII = ["é" * 6, "²" * 6, "١٢٣٤٥٦", "ß😀" * 3]
INVALID = "This code is not valid."


@pytest.fixture(autouse=True)
def _errors_as_responses(client):
    client.raise_request_exception = False


@pytest.mark.parametrize("code", NON_ASCII)
def test_a_non_ascii_email_code_at_sign_in_is_a_wrong_code(
    client, employee_a, email_device, to_token_step, code
):
    email_device(employee_a)
    to_token_step(employee_a)  # emails a code: the device has a token to compare with
    response = token_post(client, code)
    assert response.status_code == 400
    assert INVALID in response.content.decode()
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("code", NON_ASCII)
def test_a_non_ascii_totp_code_at_sign_in_is_a_wrong_code(
    client, employee_a, totp_device, to_token_step, code
):
    totp_device(employee_a)
    to_token_step(employee_a)
    response = token_post(client, code)
    assert response.status_code == 400
    assert INVALID in response.content.decode()


@pytest.mark.parametrize("code", ["é" * 10, "²" * 10])
def test_a_non_ascii_backup_code_is_a_wrong_code(
    client, employee_a, totp_device, to_token_step, code
):
    totp_device(employee_a)
    services.regenerate_backup_codes(None, employee_a)
    to_token_step(employee_a)
    sign_in_step(client, LOGIN, {"login_view-current_step": "token", "wizard_goto_step": "backup"})
    response = token_post(client, code, step="backup")
    assert response.status_code == 400
    assert INVALID in response.content.decode()


@pytest.mark.parametrize("code", NON_ASCII)
def test_a_non_ascii_code_at_email_setup_is_a_form_error(
    client, employee_a, recent_auth, mailoutbox, code
):
    client.force_login(employee_a)
    recent_auth()
    client.post(f"{SETUP}email/", {"name": "Mail", "email": employee_a.email})
    response = client.post(f"{SETUP}email/", {"code": code})
    assert response.status_code == 400
    assert INVALID in response.content.decode()


@pytest.mark.parametrize("code", NON_ASCII)
def test_a_non_ascii_code_at_totp_setup_is_a_form_error(client, employee_a, recent_auth, code):
    client.force_login(employee_a)
    recent_auth()
    client.post(f"{SETUP}totp/", {"name": "App"})
    response = client.post(f"{SETUP}totp/", {"code": code})
    assert response.status_code == 400
    assert INVALID in response.content.decode()


@pytest.mark.parametrize("timestamp", ["²", "²" * 10, "1" * 5000, "", "12.5", "-1"])
def test_a_malformed_push_timestamp_is_a_401(client, employee_a, phone, timestamp):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges"
    headers = handset.headers("GET", path)
    headers["HTTP_X_PORTAL_TIMESTAMP"] = timestamp
    response = client.get(path, **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or malformed signature headers"}


@pytest.mark.parametrize("name", ["\ud800", "My\x00phone"])
def test_characters_no_column_takes_in_the_enrollment_body_are_a_400(client, employee_a, name):
    """A lone surrogate, or NUL (PostgreSQL refuses it in text), escaped in the JSON."""
    _enrollment, token = services.start_push_enrollment(employee_a, "")
    pem = protocol.public_pem(ed25519.Ed25519PrivateKey.generate())
    body = json.dumps({"token": token, "name": name, "public_key": pem})
    response = client.post("/mfa/api/push/enrol", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "body must be JSON"}


def test_a_deeply_nested_enrollment_body_is_a_400(client):
    body = '{"a": ' * 100_000 + "1" + "}" * 100_000
    response = client.post("/mfa/api/push/enrol", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "body must be JSON"}


@pytest.mark.parametrize("header", ["HTTP_X_PORTAL_DEVICE", "HTTP_X_PORTAL_NONCE"])
def test_a_nul_in_a_push_signature_header_is_a_401(client, employee_a, phone, header):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges"
    headers = handset.headers("GET", path)
    headers[header] = headers[header][:-1] + "\x00"
    response = client.get(path, **headers)
    assert response.status_code == 401


def test_a_malformed_challenge_id_is_no_such_challenge(client, employee_a, phone):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges/abc%00def/answer"
    body = json.dumps({"decision": "deny"})
    headers = handset.headers("POST", "/mfa/api/push/challenges/abc\x00def/answer", body.encode())
    response = client.post(path, body, content_type="application/json", **headers)
    assert response.status_code == 404


@pytest.mark.parametrize("ref", ["totp-²", "totp-١", "totp-", "email-1x", "totp-" + "1" * 5000])
def test_an_authenticator_reference_with_other_digits_is_a_404(employee_a, ref):
    with pytest.raises(Http404):
        services.get_authenticator(employee_a, ref)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "variant", [lambda c: c.translate(ARABIC_INDIC), lambda c: f"{c[:3]}_{c[3:]}"]
)
def test_a_totp_code_counts_only_in_ascii_digits(employee_a, totp_device, variant):
    device = totp_device(employee_a)
    code = current_code(device)
    assert not services.verify_code(device, variant(code))
    type(device).objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert services.verify_code(device, code)


def test_an_email_authenticator_address_longer_than_the_column_is_a_form_error(db):
    """Django's EmailField allows 320 characters, the device's column 254."""
    from django_otp.plugins.otp_email.models import EmailDevice

    from mfa.forms import EmailSetupForm

    address = ("a" * 60 + ".") * 4 + "b@example.com"
    form = EmailSetupForm({"name": "Mailbox", "email": address}, user=None)
    assert not form.is_valid() and "email" in form.errors
    assert form.fields["email"].max_length <= EmailDevice._meta.get_field("email").max_length
