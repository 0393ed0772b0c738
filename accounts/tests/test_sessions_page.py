from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SecurityEvent, UserSession

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture
def two_sessions(client, sign_in, employee_a):
    """employee_a signed in with ``client`` (Firefox) and with another browser (Chrome)."""
    client.defaults["HTTP_USER_AGENT"] = FIREFOX
    other = Client(HTTP_USER_AGENT=CHROME)
    sign_in(employee_a, c=other)
    sign_in(employee_a)
    return other


def test_anonymous_users_go_to_sign_in(client, db):
    response = client.get("/account/security/sessions/")
    assert response.status_code == 302
    assert response.url.startswith("/account/login/")


def test_it_lists_the_users_sessions_with_browser_and_this_session(
    client, two_sessions, employee_a, employee_b
):
    response = client.get("/account/security/sessions/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Firefox 128" in response.text and "Ubuntu" in response.text
    assert "Chrome 120" in response.text and "Windows 10" in response.text
    assert response.text.count(">this session<") == 1


def test_only_the_current_session_is_called_this_session(client, two_sessions):
    """The other session's button said "Sign out this session" beside the badge "this
    session" of the current one: two sessions both "this"."""
    html = client.get("/account/security/sessions/").text
    assert "this session" not in html.replace(">this session<", "")
    assert ">End session</button>" in html


def test_signing_out_another_session_refuses_it_at_once(client, two_sessions, employee_a):
    other_row = UserSession.objects.get(user=employee_a, browser__startswith="Chrome")
    response = client.post(f"/account/security/sessions/{other_row.pk}/end/")
    assert response.url == "/account/security/sessions/"
    response = two_sessions.get("/dashboard/")
    assert response.status_code == 302
    assert "Your session was ended" in two_sessions.get(response.url).text
    assert client.get("/dashboard/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSION_ENDED).count() == 1


def test_signing_out_all_others_keeps_this_one(client, two_sessions, employee_a):
    client.post("/account/security/sessions/end-others/")
    assert two_sessions.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert UserSession.objects.filter(user=employee_a, ended_at=None).count() == 1


def test_signing_out_this_session_logs_out(client, two_sessions, employee_a):
    own = client.session["portal_session_id"]
    response = client.post(f"/account/security/sessions/{own}/end/")
    assert response.url == "/account/login/"
    assert client.get("/dashboard/").status_code == 302


def test_another_users_session_is_404(client, sign_in, employee_a, employee_b):
    other = Client()
    sign_in(employee_b, c=other)
    row = UserSession.objects.get(user=employee_b)
    sign_in(employee_a)
    assert client.post(f"/account/security/sessions/{row.pk}/end/").status_code == 404
    assert other.get("/dashboard/").status_code == 200


def test_ending_sessions_needs_post(client, sign_in, employee_a):
    sign_in(employee_a)
    own = client.session["portal_session_id"]
    assert client.get(f"/account/security/sessions/{own}/end/").status_code == 405
    assert client.get("/account/security/sessions/end-others/").status_code == 405


def test_a_revoked_cache_session_stays_revoked_when_its_entry_survives(
    settings, sign_in, employee_a
):
    """As if Redis was down during revocation: the cache entry lives on, the row decides."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    first, second = Client(), Client()
    sign_in(employee_a, c=first)
    sign_in(employee_a, c=second)
    key = first.session.session_key
    row = UserSession.objects.get(pk=first.session["portal_session_id"])
    second.post(f"/account/security/sessions/{row.pk}/end/")
    from django.contrib.sessions.backends.cache import SessionStore

    assert SessionStore(key).exists(key)  # the entry "came back" / was never deleted
    assert first.get("/dashboard/").status_code == 302
    assert first.get("/dashboard/").status_code == 302
    assert second.get("/dashboard/").status_code == 200


def test_a_revoked_db_session_is_refused(settings, sign_in, employee_a):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    first, second = Client(), Client()
    sign_in(employee_a, c=first)
    sign_in(employee_a, c=second)
    second.post("/account/security/sessions/end-others/")
    assert first.get("/dashboard/").status_code == 302


def test_a_stale_key_after_rotation_is_refused(client, sign_in, employee_a, settings):
    """A session key that should have been deleted at rotation must not work."""
    sign_in(employee_a)
    row = UserSession.objects.get(user=employee_a)
    row.session_key_hash = "0" * 64
    row.save()
    assert client.get("/dashboard/").status_code == 302


def test_query_count_does_not_grow_with_sessions(
    client, sign_in, employee_a, django_assert_max_num_queries
):
    sign_in(employee_a)
    with django_assert_max_num_queries(9):
        client.get("/account/security/sessions/")
    for _ in range(10):
        sign_in(employee_a, c=Client(HTTP_USER_AGENT=CHROME))
    with django_assert_max_num_queries(9):
        response = client.get("/account/security/sessions/")
    assert response.text.count("Chrome 120") == 10


def test_a_session_checked_moments_ago_is_still_refused_at_once_when_ended(
    client, two_sessions, employee_a
):
    """The per-request check is answered from the cache: ending a session must update it."""
    assert two_sessions.get("/dashboard/").status_code == 200  # its state is now cached
    other_row = UserSession.objects.get(user=employee_a, browser__startswith="Chrome")
    client.post(f"/account/security/sessions/{other_row.pk}/end/")
    assert two_sessions.get("/dashboard/").status_code == 302


def test_the_session_check_costs_no_query_once_cached(client, sign_in, employee_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(employee_a)
    client.get("/healthz/live")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz/live").status_code == 200
    assert not [q for q in queries.captured_queries if "accounts_usersession" in q["sql"]]
