"""Pages opened from an emailed link speak the language the email was written in (the
account's, or the request's), not the browser's: a German user opening the link on a shared
English browser reads German. A language the visitor picked on the site wins; an invalid
link names nobody and keeps the browser's language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.html import escape

from accounts import company_services as cs
from accounts import email_change, services, sessions_service, tokens
from accounts.models import User, UserSession
from conftest import make_user

from .helpers import manager_request

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-Password-2026"


def browser(language: str = "en") -> Client:
    """A browser that asks for ``language`` and has never been on the portal."""
    return Client(HTTP_ACCEPT_LANGUAGE=f"{language},{language}-US;q=0.9")


def in_language(language: str, msgid: str) -> str:
    with translation.override(language):
        return escape(translation.gettext(msgid))


def assert_speaks(response, language: str, msgid: str) -> None:
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert in_language(language, msgid) in html


def person(language: str, **fields) -> User:
    return make_user(f"c30003.{language}", preferred_language=language, **fields)


# One link of each kind for an account (its path and the heading of the page it opens).


def verify_link(user: User) -> str:
    user.email_verified = False
    user.save(update_fields=["email_verified"])
    token = tokens.email_verification_token.make_token(user)
    return f"/account/verify/{tokens.encode_uid(user)}/{token}/"


def unblock_link(user: User) -> str:
    user.blocked_at = timezone.now()
    user.blocked_reason = User.BlockReason.LOCKOUT
    user.failed_login_count = 5
    user.save()
    return f"/account/unblock/{tokens.encode_uid(user)}/{tokens.unblock_token.make_token(user)}/"


def reset_link(user: User) -> str:
    return services.password_reset_url(user).removeprefix(settings.SITE_URL)


def report_link(user: User) -> str:
    """ "This wasn't me" in the new-browser email."""
    row = UserSession.objects.create(user=user, session_key_hash="0" * 64)
    token = signing.dumps({"s": row.pk, "u": user.pk}, salt=sessions_service.REPORT_SALT)
    return f"/account/sign-in/report/{token}/"


def activation_link(user: User) -> str:
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return cs.activation_url(user).removeprefix(settings.SITE_URL)


LINKS = {
    "verify": (verify_link, "Verify your email address"),
    "unblock": (unblock_link, "Unblock your account"),
    "reset": (reset_link, "Reset password"),
    "report": (report_link, "Secure your account"),
    "activate": (activation_link, "Activate your account"),
}


def tampered(path: str) -> str:
    """The same link with its token spoiled: it names nobody any more."""
    return re.sub(r"[^/]{4}/$", "XXXX/", path)


@pytest.mark.parametrize("language", ["de", "es"])
@pytest.mark.parametrize("kind", LINKS)
def test_a_link_page_speaks_the_language_of_its_account(kind, language):
    make_link, heading = LINKS[kind]
    path = make_link(person(language))
    response = browser("en").get(path)
    assert response.status_code == 200
    assert_speaks(response, language, heading)


@pytest.mark.parametrize("language", ["de", "es"])
def test_the_request_status_page_speaks_the_language_of_the_request(language):
    """Not an account: the request's emails speak the language it was made in."""
    token = cs.request_status_token(manager_request(language=language))
    response = browser("en").get(f"/access/security-manager/status/{token}/")
    assert_speaks(response, language, "Request to authorize a Security Manager")


@pytest.mark.parametrize("picked, account", [("es", "de"), ("de", "es")])
@pytest.mark.parametrize("kind", LINKS)
def test_a_language_the_visitor_picked_on_the_site_wins(kind, picked, account):
    make_link, heading = LINKS[kind]
    path = make_link(person(account))
    visitor = browser("en")
    visitor.post("/language/", {"language": picked, "next": path})
    response = visitor.get(path)
    assert_speaks(response, picked, heading)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies  # the pick stays


def test_a_language_picked_on_the_link_page_itself_wins():
    path = reset_link(person("de"))
    visitor = browser("en")
    assert_speaks(visitor.get(path), "de", "Reset password")
    response = visitor.post("/language/", {"language": "es", "next": path}, follow=True)
    assert_speaks(response, "es", "Reset password")


@pytest.mark.parametrize("language", ["de", "es"])
def test_the_cookie_another_accounts_sign_in_left_is_no_choice(client, sign_in, language):
    """The sign-in remembers its account's language in the same cookie as the switcher:
    on a shared browser that is the previous user's, not the visitor's pick."""
    colleague = make_user("c30003.colleague", preferred_language="en")
    sign_in(colleague)
    client.post("/account/logout/")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response = client.get(reset_link(person(language)))
    assert_speaks(response, language, "Reset password")


def test_a_signed_in_visitor_keeps_their_own_language(client, sign_in):
    """Someone else's link opened in a signed-in session (a shared browser): the session
    is the signed-in person's, and so is its language."""
    sign_in(make_user("c30003.colleague", preferred_language="es"))
    response = client.get(reset_link(person("de")))
    assert_speaks(response, "es", "Reset password")


@pytest.mark.parametrize("kind", LINKS)
def test_an_invalid_link_keeps_the_browsers_language(kind):
    make_link, _ = LINKS[kind]
    response = browser("es").get(tampered(make_link(person("de"))))
    assert response.status_code in (400, 404)
    html = response.content.decode()
    assert '<html lang="es"' in html
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_an_invalid_status_link_keeps_the_browsers_language():
    token = cs.request_status_token(manager_request(language="de"))
    response = browser("es").get(f"/access/security-manager/status/{token}XX/")
    assert response.status_code == 404
    assert '<html lang="es"' in response.content.decode()


# --- The pages a link leads to ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "es"])
def test_after_unblocking_the_sign_in_page_goes_on_in_the_accounts_language(language):
    visitor = browser("en")
    response = visitor.post(unblock_link(person(language)), follow=True)
    assert response.redirect_chain[-1][0].startswith("/account/login/")
    assert_speaks(response, language, "Your account is unblocked. You can sign in again.")
    assert_speaks(response, language, "Sign in")


@pytest.mark.parametrize("language", ["de", "es"])
def test_after_a_reset_the_dashboard_goes_on_in_the_accounts_language(language):
    visitor = browser("en")
    post = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = visitor.post(reset_link(person(language)), post, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert_speaks(response, language, "Your password has been changed. You are signed in.")


@pytest.mark.parametrize("kind", ["verify", "reset"])
def test_a_language_picked_before_a_link_signs_in_becomes_the_preference(kind):
    """As at the sign-in: the pick is the person's choice, the message, the page after and
    the browser's cookie speak it."""
    account = person("de")
    path = verify_link(account) if kind == "verify" else reset_link(account)
    visitor = browser("en")
    visitor.post("/language/", {"language": "es", "next": path})
    post = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD} if kind == "reset" else {}
    response = visitor.post(path, post)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    account.refresh_from_db()
    assert account.preferred_language == "es"
    page = visitor.get(response["Location"])
    assert page.wsgi_request.user == account
    assert '<html lang="es"' in page.content.decode()


@pytest.mark.parametrize("language", ["de", "es"])
def test_after_activating_the_sign_in_page_goes_on_in_the_accounts_language(language):
    user = person(language)
    path = activation_link(user)
    visitor = browser("en")
    post = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = visitor.post(path, post, follow=True)
    assert response.redirect_chain[-1][0] == f"/account/login/?user={user.username}"
    assert_speaks(response, language, "Sign in")
    # Opened again from the email (on another English browser): the account is named, so
    # the answer that it is already active speaks its language too.
    response = browser("en").get(path, follow=True)
    assert response.redirect_chain[-1][0] == f"/account/login/?user={user.username}"
    assert_speaks(response, language, "Sign in")


@pytest.mark.parametrize("language", ["de", "es"])
def test_a_report_of_a_sign_in_answers_in_the_accounts_language(language):
    response = browser("en").post(report_link(person(language)))
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.content.decode()


# --- Email change: confirmed signed in, so the link leads to the sign-in page -----------------


def email_change_link(user: User, mailoutbox) -> str:
    request = RequestFactory().post("/account/profile/")
    email_change.request_email_change(request, user, "new.address@example.org")
    mail = next(m for m in mailoutbox if m.to == ["new.address@example.org"])
    return re.search(r"http://portal\.test(/account/email/confirm/\S+/)", mail.body).group(1)


@pytest.mark.parametrize("language", ["de", "es"])
def test_an_email_change_link_opened_signed_out_signs_in_in_the_accounts_language(
    language, mailoutbox
):
    path = email_change_link(person(language), mailoutbox)
    response = browser("en").get(path, follow=True)
    assert response.redirect_chain[-1][0].startswith("/account/login/?next=")
    assert_speaks(response, language, "Sign in to confirm your new email address.")
    assert_speaks(response, language, "Sign in")


def test_an_email_change_link_the_visitor_picked_a_language_for_speaks_it(mailoutbox):
    path = email_change_link(person("de"), mailoutbox)
    visitor = browser("en")
    visitor.post("/language/", {"language": "es", "next": path})
    response = visitor.get(path, follow=True)
    assert_speaks(response, "es", "Sign in to confirm your new email address.")


def test_an_invalid_email_change_link_keeps_the_browsers_language(mailoutbox):
    path = email_change_link(person("de"), mailoutbox)
    response = browser("es").get(tampered(path), follow=True)
    assert response.redirect_chain[-1][0].startswith("/account/login/?next=")
    assert_speaks(response, "es", "Sign in to confirm your new email address.")


def test_an_email_change_link_opened_signed_out_costs_one_query_more_at_most(
    mailoutbox, django_assert_max_num_queries
):
    path = email_change_link(person("de"), mailoutbox)
    with django_assert_max_num_queries(1):
        browser("en").get(path)
