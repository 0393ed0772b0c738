from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from accounts.models import SecurityEvent, UserSession
from conftest import PASSWORD

NEW = "violet-harbour-lantern-77"
START = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def change(client, old=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/security/password/",
        {"old_password": old, "new_password1": new, "new_password2": confirm or new},
    )


def test_anonymous_users_go_to_sign_in(client, db):
    assert client.get("/account/security/password/").url.startswith("/account/login/")


def test_the_security_page_links_change_password_and_sessions(client, sign_in, employee_a):
    sign_in(employee_a)
    page = client.get("/account/security/").text
    assert 'href="/account/security/password/"' in page
    assert 'href="/account/security/sessions/"' in page


def test_right_after_sign_in_no_reauthentication_is_needed(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.get("/account/security/password/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_after_five_minutes_it_asks_to_reauthenticate_first(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = client.get("/account/security/password/")
        assert response.url == "/account/security/confirm/?next=%2Faccount%2Fsecurity%2Fpassword%2F"
        page = client.get(response.url)
        assert (
            "Re-authenticate yourself, then you will be redirected to the Change password page."
            in page.text
        )
        key_before = client.session.session_key
        response = client.post(
            "/account/security/confirm/",
            {"password": PASSWORD, "next": "/account/security/password/"},
        )
        assert response.url == "/account/security/password/"
        assert client.session.session_key != key_before  # rotated at re-authentication
        assert client.get("/account/security/password/").status_code == 200
        assert client.get("/dashboard/").status_code == 200  # tracking followed the new key


def test_a_wrong_password_at_reauthentication_is_refused_and_counted(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(minutes=6))
        response = client.post(
            "/account/security/confirm/",
            {"password": "wrong-password-123", "next": "/account/security/password/"},
        )
        assert response.status_code == 400
        assert "Your password was not correct." in response.text
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 1


@pytest.mark.parametrize(
    "next_url", ["https://evil.test/", "//evil.test/", "abc", "dashboard", "javascript:alert(1)"]
)
def test_reauthentication_ignores_a_foreign_or_malformed_next(
    client, sign_in, employee_a, next_url
):
    """Another host, or a bare word that redirect() would take for a view's name (a 500)."""
    sign_in(employee_a)
    response = client.post("/account/security/confirm/", {"password": PASSWORD, "next": next_url})
    assert response.url == "/account/security/"


def test_reauthentication_follows_a_next_on_this_site(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.post(
        "/account/security/confirm/", {"password": PASSWORD, "next": "/account/security/password/"}
    )
    assert response.url == "/account/security/password/"


def test_changing_ends_other_sessions_keeps_this_one_and_notifies(
    client, sign_in, employee_a, mailoutbox
):
    other = Client()
    sign_in(employee_a, c=other)
    sign_in(employee_a)
    mailoutbox.clear()
    response = change(client)
    assert response.url == "/account/security/"
    assert client.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.check_password(NEW)
    assert [mail.subject for mail in mailoutbox] == ["Your password was changed"]
    assert UserSession.objects.filter(user=employee_a, ended_at=None).count() == 1
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.PASSWORD_CHANGED
    ).exists()


def test_it_refuses_a_wrong_current_password(client, sign_in, employee_a):
    sign_in(employee_a)
    response = change(client, old="not-my-password-1")
    assert response.status_code == 400
    assert "Your current password is not correct." in response.text
    employee_a.refresh_from_db()
    assert employee_a.check_password(PASSWORD)


def test_the_new_password_must_differ_and_follow_the_policy(client, sign_in, employee_a):
    sign_in(employee_a)
    assert "must differ from your current password" in change(client, new=PASSWORD).text
    assert "too short" in change(client, new="short-pw").text
    assert "didn’t match" in change(client, confirm="something-else-entirely").text


def test_the_password_asked_for_is_called_the_current_one(client, sign_in, employee_a):
    """As in the page's other messages ("enter your current password too"), not Django's
    "Old password" next to the new one."""
    sign_in(employee_a)
    html = client.get("/account/security/password/").content.decode()
    assert '<label for="id_old_password">Current password</label>' in html
    assert "Old password" not in html


# The links and buttons that lead here say "Change password": the page's title, heading and
# button say the same, in every language (it once read "Update password").
WORDING = [("en", "Change password"), ("de", "Passwort ändern"), ("es", "Cambiar contraseña")]


@pytest.mark.parametrize("language, wording", WORDING)
def test_the_page_is_named_like_the_links_to_it(client, sign_in, employee_a, language, wording):
    employee_a.preferred_language = language
    employee_a.save(update_fields=["preferred_language"])
    sign_in(employee_a)
    security = client.get("/account/security/").text
    page = client.get("/account/security/password/").text
    assert f">{wording}</a>" in security
    assert f"<title>{wording} · " in page
    assert f"<h1>{wording}</h1>" in page
    assert f">{wording}</button>" in page
    for other in ("Update password", "Passwort aktualisieren", "Actualizar contraseña"):
        assert other not in page


def test_reauthentication_names_the_page_as_its_links_do(client, sign_in, employee_a):
    employee_a.preferred_language = "de"
    employee_a.save(update_fields=["preferred_language"])
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(minutes=5, seconds=1))
        page = client.get("/account/security/confirm/?next=/account/security/password/").text
    assert "Passwort ändern" in page
    assert "Passwort aktualisieren" not in page
