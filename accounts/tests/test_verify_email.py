from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, tokens
from accounts.models import SecurityEvent
from conftest import make_user, sign_in_step

from .helpers import link_in

# A self-registration, as the form posts it.
MAX_REGISTERS = {
    "first_name": "Max",
    "last_name": "Muster",
    "email": "max@example.org",
    "password1": "a-long-and-fine-passphrase",
    "password2": "a-long-and-fine-passphrase",
    "accept_terms": "on",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(db):
    return make_user("c55555.nn", email="newcomer@example.org", email_verified=False)


def _link(user) -> str:
    return f"/account/verify/{tokens.encode_uid(user)}/{tokens.email_verification_token.make_token(user)}/"


def test_the_link_opens_a_confirmation_page_that_changes_nothing(client, newcomer):
    response = client.get(_link(newcomer))
    assert response.status_code == 200
    assert b"Verify email" in response.content
    newcomer.refresh_from_db()
    assert not newcomer.email_verified
    assert "_auth_user_id" not in client.session


def test_confirming_verifies_signs_in_and_shows_the_user_name(client, newcomer, mailoutbox):
    response = client.post(_link(newcomer))
    assert response.status_code == 302
    assert response["Location"] == "/account/verify/done/"
    newcomer.refresh_from_db()
    assert newcomer.email_verified
    assert client.session["_auth_user_id"] == str(newcomer.pk)
    page = client.get("/account/verify/done/")
    assert newcomer.username in page.content.decode()
    welcome = mailoutbox[-1]
    assert welcome.to == ["newcomer@example.org"]
    assert newcomer.username in welcome.body
    kinds = set(SecurityEvent.objects.filter(user=newcomer).values_list("kind", flat=True))
    assert {"email_verified", "signed_in"} <= kinds


def test_the_link_works_once(client, newcomer):
    link = _link(newcomer)
    client.post(link)
    client.post("/account/logout/")
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400


def test_the_link_expires_after_24_hours(client, newcomer):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        link = _link(newcomer)
        traveller.shift(timedelta(hours=23, minutes=59))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.get(link).status_code == 400
        assert client.post(link).status_code == 400
    newcomer.refresh_from_db()
    assert not newcomer.email_verified


@pytest.mark.parametrize(
    "link", ["/account/verify/xx/1-abc/", "/account/verify/MQ/zzzz/", "/account/verify/!!/a-b/"]
)
def test_a_forged_link_is_refused(client, newcomer, link):
    response = client.post(link)
    assert response.status_code == 400
    assert b"invalid or has expired" in response.content


def test_a_link_for_another_purpose_is_refused(client, newcomer):
    token = tokens.password_reset_token.make_token(newcomer)
    response = client.post(f"/account/verify/{tokens.encode_uid(newcomer)}/{token}/")
    assert response.status_code == 400


def test_a_user_with_a_second_factor_is_not_signed_in_by_the_link(client, newcomer):
    TOTPDevice.objects.create(user=newcomer, name="default", confirmed=True)
    response = client.post(_link(newcomer))
    assert response["Location"] == "/account/login/"
    newcomer.refresh_from_db()
    assert newcomer.email_verified
    assert "_auth_user_id" not in client.session


def test_a_blocked_user_is_verified_but_not_signed_in(client, newcomer):
    newcomer.blocked_at = timezone.now()
    newcomer.save()
    response = client.post(_link(newcomer))
    assert response["Location"] == "/account/login/"
    assert "_auth_user_id" not in client.session


def test_register_then_verify_end_to_end(client, mailoutbox):
    client.post("/account/register/", MAX_REGISTERS)
    link = link_in(mailoutbox[0], "/account/verify/")
    client.post(link)
    response = client.get("/dashboard/")
    assert response.status_code == 200


# --- the required action after sign-in ---------------------------------------------------------


def test_an_unverified_user_must_verify_after_signing_in(client, newcomer, sign_in):
    sign_in(newcomer)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/account/verify/required/"
    page = client.get("/account/verify/required/")
    assert b"Verify your email address" in page.content
    assert b"newcomer@example.org" in page.content


def test_the_unverified_address_is_not_mentioned_before_a_correct_password(client, newcomer):
    sign_in_step(
        client,
        "/account/login/",
        {"login_view-current_step": "identify", "identify-username": newcomer.username},
    )
    response = sign_in_step(
        client,
        "/account/login/",
        {"login_view-current_step": "auth", "auth-password": "wrong-one-123"},
    )
    text = response.content.decode().lower()
    assert "verif" not in text
    assert "invalid user name or password" in text


def test_the_required_action_page_sends_a_throttled_link(client, newcomer, sign_in, mailoutbox):
    sign_in(newcomer)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post("/account/verify/required/")
        traveller.shift(45)
        second = client.post("/account/verify/required/")
        assert second.status_code == 429
        assert second["Retry-After"] == "15"
        assert "Please wait 15 seconds before asking again." in second.content.decode()
        assert len(mailoutbox) == 1
        client.post(link_in(mailoutbox[0], "/account/verify/"))
    newcomer.refresh_from_db()
    assert newcomer.email_verified
    assert client.get("/dashboard/").status_code == 200


def test_the_required_action_page_claims_no_email_it_did_not_send(
    client, agent, verified_login, mailoutbox
):
    """Provider staff created in the admin were never sent a verification email: the page
    offers one rather than pointing to it, says it sent one (not "again") and, as they belong
    to no company, sends them to no Security Manager."""
    agent.email_verified = False
    agent.save(update_fields=["email_verified"])
    verified_login(agent)
    page = client.get("/account/verify/required/").content.decode()
    assert "message we sent you" not in page
    assert "None in your inbox or your spam folder? Send one:" in page
    assert "Security Manager" not in page
    assert "Wrong address? Ask our support to correct it." in page
    response = client.post("/account/verify/required/", follow=True)
    assert f"We have sent a verification email to {agent.email}." in response.content.decode()
    assert "We have sent the email again." not in response.content.decode()
    assert [m.to for m in mailoutbox] == [[agent.email]]


def test_an_employee_may_ask_their_security_manager_to_correct_the_address(
    client, employee_a, sign_in
):
    employee_a.email_verified = False
    employee_a.save(update_fields=["email_verified"])
    sign_in(employee_a)
    page = client.get("/account/verify/required/").content.decode()
    assert "Wrong address? Ask your company" in page and "Security Manager or our support" in page


def test_a_signed_in_user_with_a_second_factor_stays_signed_in_when_verifying(
    client, newcomer, sign_in
):
    sign_in(newcomer)
    response = client.post(_link(newcomer))
    assert response["Location"] == "/account/verify/done/"
    assert client.session["_auth_user_id"] == str(newcomer.pk)


def test_a_verified_user_on_the_required_page_goes_to_the_dashboard(client, outsider, sign_in):
    sign_in(outsider)
    assert client.get("/account/verify/required/")["Location"] == "/dashboard/"


def test_the_required_page_needs_sign_in(client):
    response = client.get("/account/verify/required/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_the_initial_password_change_comes_before_verification(client, newcomer, sign_in):
    newcomer.must_change_password = True
    newcomer.save()
    sign_in(newcomer)
    assert client.get("/dashboard/")["Location"] == "/account/password/initial/"


def test_the_welcome_email_is_only_sent_to_new_accounts(newcomer, mailoutbox):
    newcomer.last_login = timezone.now()
    newcomer.save()
    services.verify_email(None, newcomer)
    assert mailoutbox == []


# --- the email's last line: who entered the address ----------------------------------------

REGISTERED_LINE = "If you did not register, ignore this email"
ENTERED_LINE = "This address was entered for your account on the Cloud Service Portal."


def test_a_self_registered_account_is_told_to_ignore_it_if_they_did_not_register(
    client, mailoutbox
):
    client.post("/account/register/", MAX_REGISTERS)
    (email,) = mailoutbox
    html = email.alternatives[0][0]
    assert REGISTERED_LINE in email.body and REGISTERED_LINE in html
    assert ENTERED_LINE not in email.body and ENTERED_LINE not in html


def test_an_account_created_in_the_admin_is_not_told_it_registered(
    client, agent, verified_login, mailoutbox
):
    """Staff created in the admin never registered: the resend on the required page tells
    them whose address it is instead."""
    agent.email_verified = False
    agent.save(update_fields=["email_verified"])
    verified_login(agent)
    client.post("/account/verify/required/")
    (email,) = mailoutbox
    html = email.alternatives[0][0]
    assert ENTERED_LINE in email.body and ENTERED_LINE in html
    assert "register" not in email.body and "register" not in html


def test_an_employee_is_not_told_they_registered(client, employee_a, sign_in, mailoutbox):
    employee_a.email_verified = False
    employee_a.save(update_fields=["email_verified"])
    sign_in(employee_a)
    client.post("/account/verify/required/")
    (email,) = mailoutbox
    assert ENTERED_LINE in email.body
    assert "register" not in email.body
