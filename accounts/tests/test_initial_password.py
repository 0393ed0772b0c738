"""The forced change of an initial (or expired) password after sign-in."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db

URL = "/account/password/initial/"
NEW = "my-own-new-passphrase-3"


@pytest.fixture
def initial(outsider):
    outsider.must_change_password = True
    outsider.save()
    return outsider


def test_a_user_with_an_initial_password_lands_on_the_change_page(client, initial, sign_in):
    sign_in(initial)
    for path in ["/dashboard/", "/account/profile/", "/account/security/"]:
        assert client.get(path)["Location"] == URL
    page = client.get(URL)
    assert b"Change the initial password" in page.content


def test_changing_it_shows_password_changed_then_continue(client, initial, sign_in, mailoutbox):
    sign_in(initial)
    response = client.post(URL, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/account/password/changed/"
    page = client.get("/account/password/changed/")
    assert b"Password changed" in page.content
    assert b'href="/dashboard/"' in page.content
    assert client.get("/dashboard/").status_code == 200
    initial.refresh_from_db()
    assert initial.check_password(NEW)
    assert not initial.must_change_password
    assert mailoutbox[-1].subject == "Your password was changed"
    assert SecurityEvent.objects.filter(user=initial, kind="password_changed").exists()


def test_the_new_password_must_differ_from_the_initial_one(client, initial, sign_in, password):
    sign_in(initial)
    response = client.post(URL, {"new_password1": password, "new_password2": password})
    assert response.status_code == 400
    assert "must differ" in response.content.decode()
    initial.refresh_from_db()
    assert initial.must_change_password


def test_a_weak_new_password_is_refused(client, initial, sign_in):
    sign_in(initial)
    client.post(URL, {"new_password1": "short", "new_password2": "short"})
    initial.refresh_from_db()
    assert initial.must_change_password


def test_a_user_without_a_pending_change_is_sent_on(client, outsider, sign_in):
    sign_in(outsider)
    assert client.get(URL)["Location"] == "/dashboard/"


def test_anonymous_users_are_sent_to_sign_in(client):
    assert client.get(URL)["Location"].startswith("/account/login/")
    assert client.get("/account/password/changed/")["Location"].startswith("/account/login/")


def test_logout_stays_reachable(client, initial, sign_in):
    sign_in(initial)
    assert client.post("/account/logout/")["Location"] == "/"


def test_the_header_links_no_page_that_leads_back_here(client, initial, sign_in):
    """Like a required enrolment (mfa/tests/test_enforcement.py): only the language and
    "Log out" are left in the header."""
    sign_in(initial)
    header = re.search(r"<header.*?</header>", client.get(URL).content.decode(), re.S).group(0)
    assert re.findall(r'(?:href|action)="([^"#]+)"', header) == ["/language/", "/account/logout/"]


@pytest.mark.parametrize(
    ("language", "label"),
    [
        ("en", "Confirm new password"),
        ("de", "Neues Passwort bestätigen"),
        ("es", "Confirme la nueva contraseña"),
    ],
)
def test_the_confirmation_field_has_the_help_pages_label(client, initial, sign_in, language, label):
    from accounts.company_forms import ActivationForm
    from accounts.forms import NewPasswordForm, PortalPasswordChangeForm, RequiredPasswordChangeForm

    sign_in(initial)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(URL).content.decode()
    assert f">{label}</label>" in page, re.findall("<label[^<]*</label>", page)
    # The same label on every page that sets a new password: reset, activation, change.
    forms = (NewPasswordForm, RequiredPasswordChangeForm, PortalPasswordChangeForm, ActivationForm)
    with translation.override(language):
        assert {str(form.base_fields["new_password2"].label) for form in forms} == {label}
