"""'If this was not you': the security emails lead to one help card with a support path for
a signed-in person and for one who cannot sign in any more."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.emails import send_email_to_user

from .helpers import both_parts

pytestmark = pytest.mark.django_db

SECURITY_EMAILS = [
    "email_change_requested",
    "email_changed",
    "mfa_authenticator_added",
    "mfa_authenticator_removed",
    "mfa_backup_code_used",
    "mfa_backup_codes_created",
    "mfa_push_denied",
    "password_changed",
]


@pytest.mark.parametrize("template", SECURITY_EMAILS)
def test_security_emails_link_to_what_to_do_if_it_was_not_you(template, employee_a, mailoutbox):
    context = {"device_name": "Phone", "new_email": "n@example.com", "remaining": 3}
    send_email_to_user(employee_a, template, context)
    [mail] = mailoutbox
    for part in both_parts(mail):
        assert "What to do if it was not you" in part
        assert "http://portal.test/account/login/help/#not-you" in part


def _card(html: str) -> str:
    return re.search(r'<section class="card" id="not-you">(.*?)</section>', html, re.S)[1]


def test_signed_out_the_card_offers_a_reset_and_the_cannot_sign_in_form():
    card = _card(Client().get("/account/login/help/").text)
    assert 'href="/account/password/forgot/"' in card
    assert 'href="/tickets/cannot-sign-in/"' in card
    assert "/tickets/new/" not in card
    # After an email change a reset link goes to the new address: support is the way out.
    assert "If your email address was changed, a reset link goes to the new address" in card


def test_signed_in_the_card_offers_password_security_and_an_incident(client, sign_in, employee_a):
    sign_in(employee_a)
    card = _card(client.get("/account/login/help/").text)
    assert 'href="/account/security/password/"' in card
    assert 'href="/account/security/"' in card
    assert 'href="/tickets/new/?category=login_identity"' in card


def test_the_incident_form_preselects_the_category_from_the_link(client, sign_in, employee_a):
    sign_in(employee_a)
    html = client.get("/tickets/new/?category=login_identity").text
    assert re.search(r'<option value="\d+" selected>Login and identity</option>', html)
    for unknown in ("nonsense", "x" * 5000, "\x00"):
        response = client.get("/tickets/new/", {"category": unknown})
        assert response.status_code == 200
        assert " selected>" not in response.text.split('name="category"')[1].split("</select>")[0]


@pytest.mark.parametrize("template", SECURITY_EMAILS)
def test_the_text_part_has_no_double_blank_lines(template, employee_a, mailoutbox):
    context = {"device_name": "Phone", "new_email": "n@example.com", "remaining": 3}
    send_email_to_user(employee_a, template, {**context, "ip": "192.0.2.1", "user_agent": "x"})
    assert "\n\n\n" not in mailoutbox[0].body


def test_the_no_login_card_is_for_visitors_only(client, sign_in, employee_a):
    assert 'id="no-login"' in Client().get("/account/login/help/").text
    sign_in(employee_a)
    assert 'id="no-login"' not in client.get("/account/login/help/").text
