"""The identifier-first sign-in, lockout counting and sign-out of the foundation."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.models import SecurityEvent, User
from conftest import sign_in_step

LOGIN = "/account/login/"


def identify(client, identifier):
    return sign_in_step(
        client, LOGIN, {"login_view-current_step": "identify", "identify-username": identifier}
    )


def enter_password(client, password, **extra):
    return sign_in_step(
        client, LOGIN, {"login_view-current_step": "auth", "auth-password": password, **extra}
    )


@pytest.mark.django_db
def test_first_page_asks_only_for_the_user(client):
    content = client.get(LOGIN).content.decode()
    assert 'name="identify-username"' in content
    assert 'autocomplete="username"' in content
    assert 'type="password"' not in content


@pytest.mark.django_db
def test_second_page_shows_who_is_signing_in_and_asks_for_the_password(client, employee_a):
    response = identify(client, employee_a.username)
    content = response.content.decode()
    assert response.status_code == 200
    assert employee_a.username in content
    assert 'name="auth-password"' in content
    assert "Not you?" in content


@pytest.mark.django_db
@pytest.mark.parametrize("identifier", ["c10001.ea", "C10001.EA", "c10001_ea@EXAMPLE.com"])
def test_it_signs_in_by_user_name_or_email_in_any_case(client, employee_a, password, identifier):
    identify(client, identifier)
    response = enter_password(client, password)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").wsgi_request.user == employee_a


@pytest.mark.django_db
def test_unknown_user_and_wrong_password_get_the_same_answer(client, employee_a):
    known = identify(client, employee_a.username)
    unknown = identify(client, "c55555.zz")
    assert known.status_code == unknown.status_code == 200
    assert known.templates[0].name == unknown.templates[0].name

    wrong = enter_password(client, "not-the-password")
    identify(client, employee_a.username)
    wrong_known = enter_password(client, "not-the-password")
    assert wrong.status_code == wrong_known.status_code == 400
    assert "Invalid user name or password." in wrong.content.decode()
    assert "Invalid user name or password." in wrong_known.content.decode()


@pytest.mark.django_db
def test_not_you_goes_back_to_the_first_page(client, employee_a):
    identify(client, employee_a.username)
    response = sign_in_step(
        client, LOGIN, {"login_view-current_step": "auth", "wizard_goto_step": "identify"}
    )
    assert 'name="identify-username"' in response.content.decode()


@pytest.mark.django_db
def test_the_account_is_blocked_after_five_failures_and_then_refuses_the_right_password(
    client, employee_a, password, mailoutbox
):
    for _ in range(5):
        identify(client, employee_a.username)
        enter_password(client, "wrong-password-123")
    employee_a.refresh_from_db()
    assert employee_a.is_blocked
    assert employee_a.failed_login_count == 5
    assert [m.subject for m in mailoutbox] == ["Your account has been blocked"]

    identify(client, employee_a.username)
    response = enter_password(client, password)
    assert response.status_code == 400
    assert "Invalid user name or password." in response.content.decode()
    assert SecurityEvent.objects.filter(user=employee_a, kind="blocked").count() == 1


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_failure_counter(client, employee_a, password):
    for _ in range(3):
        identify(client, employee_a.username)
        enter_password(client, "wrong-password-123")
    identify(client, employee_a.username)
    enter_password(client, password)
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 0


@pytest.mark.django_db
def test_too_many_failures_from_one_address_get_429_with_retry_after(client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    cache.clear()
    for _ in range(3):
        identify(client, "c55555.zz")
        enter_password(client, "whatever-password")
    identify(client, "c55555.zz")
    response = enter_password(client, "whatever-password")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_sign_in_records_an_event_and_applies_the_preferred_language(client, employee_a, password):
    employee_a.preferred_language = "de"
    employee_a.save()
    identify(client, employee_a.username)
    response = enter_password(client, password)
    assert response.cookies["django_language"].value == "de"
    assert SecurityEvent.objects.filter(user=employee_a, kind="signed_in").exists()
    assert "Sicherheit" in client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_sign_in_rotates_the_session_key(client, employee_a, password):
    client.get(LOGIN)
    identify(client, employee_a.username)
    before = client.session.session_key
    enter_password(client, password)
    assert client.session.session_key != before


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_never_leaves_our_host(client, employee_a, password, target):
    client.get(LOGIN, {"next": target})
    identify(client, employee_a.username)
    response = client.post(
        f"{LOGIN}?next={target}",
        {"login_view-current_step": "auth", "auth-password": password},
    )
    assert response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_next_on_our_host_is_followed(client, employee_a, password):
    identify(client, employee_a.username)
    response = client.post(
        f"{LOGIN}?next=/account/security/",
        {"login_view-current_step": "auth", "auth-password": password},
    )
    assert response["Location"] == "/account/security/"


@pytest.mark.django_db
def test_logout_is_post_only_and_ends_the_session(client, employee_a):
    client.force_login(employee_a)
    assert client.get("/account/logout/").status_code == 405
    response = client.post("/account/logout/", follow=True)
    assert "You have been signed out." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert SecurityEvent.objects.filter(user=employee_a, kind="signed_out").exists()


@pytest.mark.django_db
def test_hashes_with_other_parameters_are_upgraded_at_sign_in(
    client, employee_a, password, settings
):
    from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

    settings.PASSWORD_HASHERS = [
        "accounts.hashers.PortalArgon2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    User.objects.filter(pk=employee_a.pk).update(
        password=make_password(password, hasher=Argon2PasswordHasher())
    )
    identify(client, employee_a.username)
    enter_password(client, password)
    employee_a.refresh_from_db()
    assert "$m=19456,t=2,p=1$" in employee_a.password


@pytest.mark.django_db
def test_identifier_lookups_use_the_case_insensitive_indexes(employee_a):
    """LOWER(username) and LOWER(email) are indexed; UPPER() (iexact) would scan every user."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    with CaptureQueriesContext(connection) as queries:
        assert User.objects.find_by_identifier(employee_a.username.upper()) == employee_a
        assert User.objects.find_by_identifier(employee_a.email.upper()) == employee_a
    assert all("LOWER(" in q["sql"] and "UPPER(" not in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_the_password_step_runs_a_fixed_small_set_of_queries(client, employee_a, password):
    """Find-and-lock, last_login, the audit event and the session (one browser check):
    the password step's cost beyond Argon2 is part of the sign-in benchmark (issue 8)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    identify(client, employee_a.username)
    with CaptureQueriesContext(connection) as queries:
        response = enter_password(client, password)
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    user_reads = [s for s in statements if s.startswith("SELECT") and '"accounts_user"' in s]
    # One read of the user: the locked lookup; the wizard does not load the user again.
    assert len([s for s in user_reads if "LOWER(" in s]) == 1
    assert not [s for s in user_reads if "LOWER(" not in s and "EXISTS" not in s]
    # The session store's own statements depend on SESSION_ENGINE (database or Redis).
    data_statements = [
        s
        for s in statements
        if not s.startswith(("SAVEPOINT", "RELEASE")) and '"django_session"' not in s
    ]
    assert len(data_statements) <= 6, "\n".join(data_statements)


@pytest.mark.django_db
def test_the_first_page_keeps_no_session_for_a_new_visitor(client, employee_a, password):
    from django.conf import settings
    from django.contrib.sessions.backends.base import SessionBase

    response = client.get(LOGIN)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    # The wizard starts at the identifier step and signs in as before.
    assert identify(client, employee_a.username).status_code == 200
    assert settings.SESSION_COOKIE_NAME in client.cookies
    assert enter_password(client, password).status_code == 302
    assert isinstance(client.session, SessionBase) and client.session.session_key


@pytest.mark.django_db
def test_a_stale_session_cookie_is_cleared_on_the_first_page(client):
    from django.conf import settings

    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get(LOGIN)
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""  # deleted


@pytest.mark.django_db
def test_the_first_page_restarts_a_sign_in_in_progress(client, employee_a):
    identify(client, employee_a.username)
    content = client.get(LOGIN).content.decode()
    assert 'name="identify-username"' in content
    assert 'name="auth-password"' not in content
    # The session that exists is kept (reset to the first step), not thrown away.
    assert enter_password(client, "whatever").status_code in (200, 400)
    assert 'name="identify-username"' in client.get(LOGIN).content.decode()


@pytest.mark.django_db
def test_each_step_is_answered_with_a_redirect_to_a_page_that_survives_reloading(
    client, employee_a, password
):
    """Post, redirect, get: the back button and reload never post the form again."""
    response = client.post(
        LOGIN, {"login_view-current_step": "identify", "identify-username": employee_a.username}
    )
    assert response.status_code == 303
    assert response["Location"] == f"{LOGIN}?step=auth"
    for _reload in range(2):
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert 'name="auth-password"' in page.content.decode()
        assert employee_a.username in page.content.decode()
    signed_in = client.post(
        response["Location"], {"login_view-current_step": "auth", "auth-password": password}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/dashboard/"
    # Back to the password page after signing in: the dashboard, not the form.
    assert client.get(response["Location"])["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_a_step_url_the_wizard_has_not_reached_starts_over(client, employee_a):
    # A new visitor (or a bookmark of the password page) starts at the first step.
    assert 'name="identify-username"' in client.get(f"{LOGIN}?step=auth").content.decode()
    identify(client, employee_a.username)
    # A step the wizard has not reached is not shown: the sign-in starts over.
    content = client.get(f"{LOGIN}?step=token").content.decode()
    assert 'name="identify-username"' in content
    assert 'name="auth-password"' not in client.get(f"{LOGIN}?step=auth").content.decode()


@pytest.mark.django_db
def test_the_back_button_from_the_code_step_shows_the_password_step(client, employee_a, password):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=employee_a, name="App", confirmed=True)
    identify(client, employee_a.username)
    code_step = enter_password(client, password)
    assert 'name="token-otp_token"' in code_step.content.decode()
    back = client.get(f"{LOGIN}?step=auth").content.decode()
    assert 'name="auth-password"' in back
    assert employee_a.username in back
    # From there on it is the password step: the password is asked again.
    assert 'name="auth-password"' in client.get(f"{LOGIN}?step=auth").content.decode()
    assert 'name="token-otp_token"' in enter_password(client, password).content.decode()


@pytest.mark.django_db
def test_the_redirects_between_steps_keep_a_safe_next_and_drop_another(
    client, employee_a, password
):
    fields = {"login_view-current_step": "identify", "identify-username": employee_a.username}
    kept = client.post(f"{LOGIN}?next=/tickets/new/", fields)
    assert kept["Location"] == f"{LOGIN}?step=auth&next=%2Ftickets%2Fnew%2F"
    signed_in = client.post(
        kept["Location"], {"login_view-current_step": "auth", "auth-password": password}
    )
    assert signed_in["Location"] == "/tickets/new/"

    client.logout()
    dropped = client.post(f"{LOGIN}?next=https://evil.example/", fields)
    assert dropped["Location"] == f"{LOGIN}?step=auth"


@pytest.mark.django_db
def test_not_you_redirects_to_an_empty_first_step(client, employee_a):
    identify(client, employee_a.username)
    response = client.post(
        f"{LOGIN}?step=auth", {"login_view-current_step": "auth", "wizard_goto_step": "identify"}
    )
    assert response.status_code == 303
    assert response["Location"] == LOGIN
    content = client.get(LOGIN).content.decode()
    assert 'name="identify-username"' in content
    assert employee_a.username not in content


@pytest.mark.django_db
def test_switching_the_language_on_the_password_page_stays_on_it(client, employee_a):
    identify(client, employee_a.username)
    response = client.post("/language/", {"language": "de", "next": f"{LOGIN}?step=auth"})
    assert response["Location"] == f"{LOGIN}?step=auth"
    content = client.get(response["Location"]).content.decode()
    assert 'name="auth-password"' in content
    assert "Geben Sie Ihr Passwort ein." in content


@pytest.mark.django_db
def test_only_a_step_shown_again_with_its_errors_asks_for_a_plain_history_entry(client, employee_a):
    marker = '<meta name="plain-history"'
    assert marker not in client.get(LOGIN).content.decode()
    identify(client, employee_a.username)
    assert marker not in client.get(f"{LOGIN}?step=auth").content.decode()
    wrong = client.post(
        f"{LOGIN}?step=auth", {"login_view-current_step": "auth", "auth-password": "wrong-1"}
    )
    assert wrong.status_code == 400
    assert marker in wrong.content.decode()
