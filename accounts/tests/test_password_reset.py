"""Forgotten password: same answer always, reset link, Reset password page."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tokens
from accounts.models import SecurityEvent, User
from conftest import make_user

from .helpers import link_in, page_text

pytestmark = pytest.mark.django_db

URL = "/account/password/forgot/"
NEW = "a-brand-new-passphrase-7"


def _reset_link(user) -> str:
    token = tokens.password_reset_token.make_token(user)
    return f"/account/password/reset/{tokens.encode_uid(user)}/{token}/"


def _new_password(client, link, password=NEW, confirm=None):
    return client.post(link, {"new_password1": password, "new_password2": confirm or password})


def test_known_and_unknown_addresses_get_the_same_page_and_an_email_each(
    client, outsider, mailoutbox
):
    known = client.post(URL, {"identifier": outsider.email}, follow=True)
    unknown = client.post(URL, {"identifier": "nobody@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert (
        known.redirect_chain == unknown.redirect_chain == [("/account/password/forgot/sent/", 302)]
    )
    assert page_text(known, outsider.email) == page_text(unknown, "nobody@example.org")
    assert [m.to for m in mailoutbox] == [[outsider.email], ["nobody@example.org"]]
    assert mailoutbox[0].subject == "Reset password"
    assert mailoutbox[1].subject == "No account uses this email address"
    assert link_in(mailoutbox[0], "/account/password/reset/")
    assert "/account/password/reset/" not in mailoutbox[1].body
    assert SecurityEvent.objects.filter(user=outsider, kind="password_reset_requested").exists()


def test_the_sent_page_shows_the_address_and_fits_every_account(client, outsider):
    for address in (outsider.email, "nobody@example.org"):
        page = unescape(client.post(URL, {"identifier": address}, follow=True).content.decode())
        assert f"We have sent an email to <strong>{address}</strong>." in page
        assert "If an account uses this email address, the email contains a link" in page
        assert "If your company's Security Manager created your account" in page
        assert "If you registered yourself, our support team can help" in page
    assert "no-store" in client.get("/account/password/forgot/sent/")["Cache-Control"]


@pytest.mark.parametrize("identifier", ["not@an@address", "   ", "x" * 255])
def test_bad_input_is_a_form_error(client, mailoutbox, identifier):
    response = client.post(URL, {"identifier": identifier})
    assert response.status_code == 400
    assert mailoutbox == []


def test_it_asks_for_the_user_name_or_email_address(client):
    content = client.get(URL).content.decode()
    assert "User name or email address" in content and 'name="identifier"' in content
    assert 'autocomplete="username"' in content


def test_a_user_name_gets_a_link_at_the_accounts_address(client, outsider, mailoutbox):
    response = client.post(URL, {"identifier": f" {outsider.username.upper()} "}, follow=True)
    assert response.redirect_chain == [("/account/password/forgot/sent/", 302)]
    assert [m.to for m in mailoutbox] == [[outsider.email]]
    assert link_in(mailoutbox[0], "/account/password/reset/")
    event = SecurityEvent.objects.get(user=outsider, kind="password_reset_requested")
    assert event.ip_address == "127.0.0.1"


def test_known_and_unknown_user_names_get_the_same_page_without_the_address(
    client, outsider, mailoutbox
):
    known = client.post(URL, {"identifier": outsider.username}, follow=True)
    unknown = client.post(URL, {"identifier": "c99999.zz"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert page_text(known) == page_text(unknown)
    page = unescape(known.content.decode())
    assert outsider.email not in page
    assert "If the account exists and has an email address on file" in page
    assert [m.to for m in mailoutbox] == [[outsider.email]]  # nowhere to write for c99999.zz


def test_a_user_name_after_an_address_does_not_show_the_earlier_address(client, outsider):
    """The sent page shows the address only of the request that typed it: an earlier one's,
    left in the session when its redirect was not followed, is not shown for a user name."""
    client.post(URL, {"identifier": "someone.else@example.org"})  # redirect not followed
    response = client.post(URL, {"identifier": outsider.username}, follow=True)
    page = unescape(response.content.decode())
    assert "someone.else@example.org" not in page
    assert "If the account exists and has an email address on file" in page


def test_a_user_name_resets_only_that_account_of_a_shared_address(client, company_a, mailoutbox):
    make_user("c10001.xa", company=company_a, email="shared@example.org")
    make_user("c10001.xb", company=company_a, email="shared@example.org")
    client.post(URL, {"identifier": "c10001.xb"})
    assert len(mailoutbox) == 1 and "c10001.xb" in mailoutbox[0].body
    assert "c10001.xa" not in mailoutbox[0].body


def test_a_deactivated_or_addressless_account_gets_nothing(client, company_a, mailoutbox):
    make_user("c10001.xc", company=company_a, is_active=False)
    make_user("c10001.xd", company=company_a, email="")
    for username in ("c10001.xc", "c10001.xd"):
        assert client.post(URL, {"identifier": username}).status_code == 302
    assert mailoutbox == []


def test_the_limit_per_address_holds_by_user_name_and_address_together(
    client, outsider, mailoutbox
):
    for identifier in [outsider.username, outsider.email] * 4:
        client.post(URL, {"identifier": identifier})
    assert len(mailoutbox) == 5


def test_requests_per_address_are_limited(client, outsider, mailoutbox):
    for _ in range(7):
        assert client.post(URL, {"identifier": outsider.email}).status_code == 302
    assert len(mailoutbox) == 5


def test_the_link_shows_the_reset_password_page(client, outsider):
    response = client.get(_reset_link(outsider))
    assert response.status_code == 200
    assert b"Reset password" in response.content
    assert outsider.username.encode() in response.content


def test_the_confirmation_asks_for_the_new_password_again_not_the_old_one(client, outsider):
    """Django's "Enter the same password as before" reads in Spanish as "the same previous
    password": the confirmation says it wants the new one."""
    text = page_text(client.get(_reset_link(outsider)))
    assert "Type the new password again, to rule out a typing mistake." in text
    assert "same password as before" not in text


def test_updating_sets_the_password_notifies_and_signs_in(client, outsider, mailoutbox):
    response = _new_password(client, _reset_link(outsider))
    assert response["Location"] == "/dashboard/"
    outsider.refresh_from_db()
    assert outsider.check_password(NEW)
    assert client.session["_auth_user_id"] == str(outsider.pk)
    assert mailoutbox[-1].subject == "Your password was changed"
    kinds = set(SecurityEvent.objects.filter(user=outsider).values_list("kind", flat=True))
    assert {"password_reset", "signed_in"} <= kinds


def test_updating_ends_every_other_session(client, outsider, sign_in):
    other = Client()
    sign_in(outsider, c=other)
    assert other.get("/dashboard/").status_code == 200
    outsider.refresh_from_db()
    assert _new_password(client, _reset_link(outsider)).status_code == 302
    response = other.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_updating_lifts_a_lockout(client, outsider):
    outsider.blocked_at = timezone.now()
    outsider.blocked_reason = User.BlockReason.LOCKOUT
    outsider.failed_login_count = 7
    outsider.save()
    _new_password(client, _reset_link(outsider))
    outsider.refresh_from_db()
    assert not outsider.is_blocked
    assert outsider.failed_login_count == 0
    assert SecurityEvent.objects.filter(user=outsider, kind="unblocked").exists()


def test_a_user_with_a_second_factor_must_still_pass_it(client, outsider):
    TOTPDevice.objects.create(user=outsider, name="default", confirmed=True)
    response = _new_password(client, _reset_link(outsider))
    assert response["Location"] == "/account/login/"
    assert "_auth_user_id" not in client.session
    outsider.refresh_from_db()
    assert outsider.check_password(NEW)


def test_an_initial_password_flag_is_cleared(client, outsider):
    outsider.must_change_password = True
    outsider.save()
    _new_password(client, _reset_link(outsider))
    outsider.refresh_from_db()
    assert not outsider.must_change_password
    assert client.get("/dashboard/").status_code == 200


def test_the_link_works_once(client, outsider):
    link = _reset_link(outsider)
    _new_password(client, link)
    client.post("/account/logout/")
    assert client.get(link).status_code == 400
    assert _new_password(client, link, "yet-another-passphrase-9").status_code == 400


def test_the_link_expires_after_an_hour(client, outsider):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        link = _reset_link(outsider)
        traveller.shift(timedelta(minutes=59))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert _new_password(client, link).status_code == 400
    outsider.refresh_from_db()
    assert not outsider.check_password(NEW)


def test_a_deactivated_account_cannot_use_a_link(client, outsider):
    link = _reset_link(outsider)
    outsider.is_active = False
    outsider.save(update_fields=["is_active"])
    assert client.get(link).status_code == 400


@pytest.mark.parametrize(
    ("password", "confirm"),
    [("short", "short"), (NEW, "something-else-entirely"), ("qwerty123456", "qwerty123456")],
)
def test_weak_or_mismatched_passwords_are_form_errors(client, outsider, password, confirm):
    link = _reset_link(outsider)
    response = _new_password(client, link, password, confirm)
    assert response.status_code == 400
    assert response.context["form"].errors
    outsider.refresh_from_db()
    assert not outsider.check_password(password)
    assert client.get(link).status_code == 200  # still usable after a typo


def test_every_account_with_the_address_gets_its_own_link(client, company_a, mailoutbox):
    make_user("c10001.xa", company=company_a, email="shared@example.org")
    make_user("c10001.xb", company=company_a, email="shared@example.org")
    client.post(URL, {"identifier": "Shared@Example.org"})
    assert len(mailoutbox) == 2
    assert {"c10001.xa", "c10001.xb"} == {
        name for m in mailoutbox for name in ("c10001.xa", "c10001.xb") if name in m.body
    }


@pytest.mark.parametrize(
    "language, wording",
    [("en", "Reset password"), ("de", "Passwort zurücksetzen"), ("es", "Restablecer contraseña")],
)
def test_the_link_page_is_named_like_the_email_that_leads_to_it(
    client, outsider, language, wording
):
    """The email's subject and the button that asked for it say "Reset password"."""
    outsider.preferred_language = language
    outsider.save(update_fields=["preferred_language"])
    page = client.get(_reset_link(outsider)).text
    assert f"<title>{wording} · " in page
    assert f"<h1>{wording}</h1>" in page
    assert f">{wording}</button>" in page
    assert "Update password" not in page
