from __future__ import annotations

import json
import time

import time_machine
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from accounts.models import SecurityEvent
from mfa import protocol, services
from mfa.models import PushChallenge, PushDevice

ENROL = "/mfa/api/push/enrol"


def _enrol(client, token, key=None, name="Pixel"):
    key = key or ed25519.Ed25519PrivateKey.generate()
    body = {"token": token, "name": name, "public_key": protocol.public_pem(key)}
    return client.post(ENROL, json.dumps(body), content_type="application/json")


def test_an_enrollment_token_creates_an_active_device_once(client, employee_a, mailoutbox):
    _enrollment, token = services.start_push_enrollment(employee_a, "Work phone")
    response = _enrol(client, token)
    assert response.status_code == 201
    device = PushDevice.objects.get(key_id=response.json()["device_id"])
    assert (device.user, device.name, device.confirmed) == (employee_a, "Work phone", True)
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.AUTHENTICATOR_ADDED
    ).exists()
    assert "was added" in mailoutbox[-1].body
    assert _enrol(client, token).status_code == 403


def test_an_enrollment_token_expires_after_ten_minutes(client, employee_a):
    _enrollment, token = services.start_push_enrollment(employee_a, "phone")
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=601)):
        assert _enrol(client, token).status_code == 403


def test_enrollment_accepts_ecdsa_p256_and_refuses_other_keys(client, employee_a):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    _e, token = services.start_push_enrollment(employee_a, "phone")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _enrol(client, token, key=rsa_key).status_code == 400
    assert _enrol(client, token, key=ec.generate_private_key(ec.SECP256R1())).status_code == 201


def test_enrollment_refuses_garbage(client):
    assert client.post(ENROL, "nope", content_type="application/json").status_code == 400
    assert client.get(ENROL).status_code == 405


def test_a_signed_request_lists_pending_challenges_with_the_attempt_details(
    client, employee_a, phone, to_token_step
):
    handset = phone(employee_a, algorithm="ecdsa-p256")
    to_token_step(employee_a)
    items = handset.pending(client).json()["challenges"]
    assert len(items) == 1
    assert {"portal", "browser", "ip", "created_at", "choices", "account"} <= set(items[0])
    assert items[0]["account"] == employee_a.username


def test_a_forged_signature_is_refused(client, employee_a, phone):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges"
    other_key = ed25519.Ed25519PrivateKey.generate()
    response = client.get(path, **handset.headers("GET", path, key=other_key))
    assert response.status_code == 401


def test_a_signature_over_another_body_is_refused(client, employee_a, phone, to_token_step):
    handset = phone(employee_a)
    response = to_token_step(employee_a)
    number = response.context["push_number"]
    challenge = handset.pending(client).json()["challenges"][0]
    path = f"/mfa/api/push/challenges/{challenge['id']}/answer"
    signed_body = json.dumps({"decision": "deny"}).encode()
    sent_body = json.dumps({"decision": "approve", "number": number}).encode()
    response = client.post(
        path,
        sent_body,
        content_type="application/json",
        **handset.headers("POST", path, signed_body),
    )
    assert response.status_code == 401


def test_a_replayed_request_is_refused(client, employee_a, phone):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges"
    headers = handset.headers("GET", path)
    assert client.get(path, **headers).status_code == 200
    assert client.get(path, **headers).status_code == 401


def test_an_old_timestamp_is_refused(client, employee_a, phone):
    handset = phone(employee_a)
    path = "/mfa/api/push/challenges"
    headers = handset.headers("GET", path, timestamp=int(time.time()) - 600)
    assert client.get(path, **headers).status_code == 401


def test_a_device_cannot_answer_another_users_challenge(
    client, employee_a, employee_b, phone, to_token_step
):
    mine = phone(employee_a)
    theirs = phone(employee_b)
    response = to_token_step(employee_a)
    challenge = mine.pending(client).json()["challenges"][0]
    assert theirs.pending(client).json()["challenges"] == []
    answer = theirs.answer(
        client, challenge["id"], {"decision": "approve", "number": response.context["push_number"]}
    )
    assert answer.status_code == 404


def test_a_challenge_is_answered_only_once(client, employee_a, phone, to_token_step):
    handset = phone(employee_a)
    number = to_token_step(employee_a).context["push_number"]
    challenge = handset.pending(client).json()["challenges"][0]
    ok = {"decision": "approve", "number": number}
    assert handset.answer(client, challenge["id"], ok).status_code == 200
    assert handset.answer(client, challenge["id"], ok).status_code == 409


def test_deny_refuses_logs_and_emails(client, employee_a, phone, to_token_step, mailoutbox):
    handset = phone(employee_a)
    to_token_step(employee_a)
    challenge = handset.pending(client).json()["challenges"][0]
    assert handset.answer(client, challenge["id"], {"decision": "deny"}).json() == {
        "status": "denied"
    }
    event = SecurityEvent.objects.get(user=employee_a, kind=SecurityEvent.Kind.PUSH_DENIED)
    assert event.data["reason"] == "denied"
    assert mailoutbox[-1].to == [employee_a.email]


def test_a_denied_push_is_logged_with_the_address_and_browser_of_the_sign_in_attempt(
    client, employee_a, phone, to_token_step
):
    """The log's columns show where the refused sign-in came from, as the email does (they
    showed "—": the phone's answer has no browser, and the attempt's went into details)."""
    handset = phone(employee_a)
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"
    client.defaults.update(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=chrome)
    to_token_step(employee_a)
    client.defaults.update(REMOTE_ADDR="198.51.100.2", HTTP_USER_AGENT="PortalApp/1.0")
    challenge = handset.pending(client).json()["challenges"][0]
    handset.answer(client, challenge["id"], {"decision": "deny"})
    event = SecurityEvent.objects.get(user=employee_a, kind=SecurityEvent.Kind.PUSH_DENIED)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", chrome)


def test_at_most_three_pending_and_five_per_fifteen_minutes(employee_a, phone, rf):
    handset = phone(employee_a)

    def attempt():
        request = rf.get("/")
        request.session = {}
        services.new_login_attempt(request)
        return services.start_push_challenge(request, employee_a, handset.device)

    for _ in range(3):
        attempt()
    try:
        attempt()
        raise AssertionError("a fourth pending challenge was created")
    except services.PushLimitReached:
        pass
    PushChallenge.objects.update(status=PushChallenge.Status.DENIED)
    attempt()
    attempt()
    try:
        attempt()
        raise AssertionError("a sixth challenge within 15 minutes was created")
    except services.PushLimitReached:
        pass
    assert PushChallenge.objects.count() == 5


def test_the_number_shown_is_among_three_distinct_choices(employee_a, phone, rf):
    handset = phone(employee_a)
    request = rf.get("/")
    request.session = {}
    services.new_login_attempt(request)
    challenge = services.start_push_challenge(request, employee_a, handset.device)
    assert 10 <= challenge.number <= 99
    assert challenge.number in challenge.choices
    assert len(set(challenge.choices)) == 3


def test_the_default_backend_is_the_polling_backend(settings):
    from mfa.delivery import PollingBackend, get_backend

    assert isinstance(get_backend(), PollingBackend)


def test_a_phone_is_logged_and_emailed_as_added_in_the_browser_that_showed_its_code(
    client, employee_a, recent_auth, mailoutbox
):
    """The enrolling request is the phone app's: the log and the email named the reference
    app's HTTP client ("Python-urllib 3") as the browser."""
    from django.test import Client

    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"
    client.defaults.update(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=chrome)
    client.force_login(employee_a)
    recent_auth()
    setup = "/account/security/two-factor/setup/push/"
    client.post(setup, {"name": "Work phone"})
    token = client.get(setup).context["uri"].split("token=")[1]
    app = Client(REMOTE_ADDR="198.51.100.2", HTTP_USER_AGENT="Python-urllib/3.11")
    assert _enrol(app, token).status_code == 201
    event = SecurityEvent.objects.get(user=employee_a, kind=SecurityEvent.Kind.AUTHENTICATOR_ADDED)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", chrome)
    email = mailoutbox[-1].body
    assert "203.0.113.7" in email and "Chrome 120 on Windows" in email
    assert "urllib" not in email and "198.51.100.2" not in email
