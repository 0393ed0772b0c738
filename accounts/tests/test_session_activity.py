from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from accounts.models import SecurityEvent, UserSession

START = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_a_request_within_the_idle_limit_keeps_the_session(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(hours=1, minutes=59))
        assert client.get("/dashboard/").status_code == 200
        traveller.shift(timedelta(hours=1, minutes=59))  # activity refreshed the idle clock
        assert client.get("/dashboard/").status_code == 200


def test_two_hours_without_a_request_signs_out(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(hours=2, seconds=1))
        response = client.get("/account/security/")
        assert response.status_code == 302
        assert response.url == "/account/login/?next=/account/security/"
        page = client.get(response.url)
    assert "You were signed out after two hours of inactivity." in page.text
    assert client.get("/dashboard/").status_code == 302  # really signed out
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.SESSION_EXPIRED, data__reason="idle"
    ).exists()
    assert UserSession.objects.get(user=employee_a).end_reason == "idle"


def test_the_message_reflects_the_setting(client, sign_in, employee_a, settings):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(minutes=30, seconds=1))
        response = client.get("/dashboard/")
        page = client.get(response.url)
    assert "You were signed out after 30 minutes of inactivity." in page.text


def test_the_absolute_limit_ends_even_an_active_session(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        for _ in range(11):
            traveller.shift(timedelta(hours=1))
            assert client.get("/dashboard/").status_code == 200
        traveller.shift(timedelta(hours=1, seconds=1))
        response = client.get("/dashboard/")
        assert response.status_code == 302
        page = client.get(response.url)
    assert "signed in for twelve hours" in page.text


def test_the_post_on_keep_alive_refreshes_activity(client, sign_in, employee_a):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(hours=1, minutes=56))
        response = client.post("/account/session/keep-alive/", {"next": "/account/profile/"})
        assert response.url == "/account/profile/"
        traveller.shift(timedelta(hours=1, minutes=30))
        assert client.get("/dashboard/").status_code == 200


def test_keep_alive_refuses_get_and_foreign_next(client, sign_in, employee_a):
    sign_in(employee_a)
    assert client.get("/account/session/keep-alive/").status_code == 405
    response = client.post("/account/session/keep-alive/", {"next": "https://evil.test/"})
    assert response.url == "/dashboard/"


STATUS = "/account/session/status/"


def test_the_status_says_how_long_the_session_has_left_without_extending_it(
    client, sign_in, employee_a
):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(minutes=30))
        assert client.get(STATUS).json() == {"idle_left": 90 * 60, "absolute_left": 690 * 60}
        traveller.shift(timedelta(minutes=60))
        # Asking is not activity: the idle clock still runs from the sign-in.
        assert client.get(STATUS).json() == {"idle_left": 30 * 60, "absolute_left": 630 * 60}
        assert client.get("/dashboard/").status_code == 200  # a page is activity
        assert client.get(STATUS).json()["idle_left"] == 120 * 60
        traveller.shift(timedelta(hours=2, seconds=1))
        response = client.get(STATUS)
    assert response.status_code == 302  # ended: the page goes to the sign-in and says why
    assert response.url.startswith("/account/login/")
    assert UserSession.objects.get(user=employee_a).end_reason == "idle"


def test_the_status_asks_for_a_sign_in_and_only_answers_get(client, sign_in, employee_a):
    assert client.get(STATUS).status_code == 302
    sign_in(employee_a)
    assert client.post(STATUS).status_code == 405
    assert client.get(STATUS)["Cache-Control"].startswith("max-age=0")


def test_the_status_answers_during_a_required_action(client, sign_in, employee_a):
    employee_a.must_change_password = True
    employee_a.save()
    sign_in(employee_a)
    assert client.get("/dashboard/").status_code == 302
    assert client.get(STATUS).status_code == 200


def test_keep_alive_in_the_background_answers_the_time_left(client, sign_in, employee_a):
    """idle-timeout.js sends "Stay signed in" without leaving the page."""
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(employee_a)
        traveller.shift(timedelta(hours=1, minutes=56))
        response = client.post(
            "/account/session/keep-alive/", {"next": "/"}, HTTP_ACCEPT="application/json"
        )
    assert response.status_code == 200
    assert response.json()["idle_left"] == 120 * 60


def test_pages_carry_the_idle_notice_with_the_limits(client, sign_in, employee_a, settings):
    settings.SESSION_IDLE_WARNING = 300
    sign_in(employee_a)
    page = client.get("/dashboard/").text
    assert 'data-idle-timeout="7200"' in page
    assert 'data-idle-warning="300"' in page
    assert 'data-status-url="/account/session/status/"' in page
    assert "js/idle-timeout.js" in page


def test_anonymous_pages_have_no_idle_notice(client, db):
    assert "idle-notice" not in client.get("/account/login/").text


def test_a_session_from_before_tracking_is_adopted(client, employee_a):
    client.force_login(employee_a)
    assert client.get("/dashboard/").status_code == 200
    assert UserSession.objects.filter(user=employee_a, ended_at=None).count() == 1
    assert client.get("/dashboard/").status_code == 200


def test_logout_ends_the_tracked_session(client, sign_in, employee_a):
    sign_in(employee_a)
    client.post("/account/logout/")
    row = UserSession.objects.get(user=employee_a)
    assert row.ended_at is not None
    assert row.end_reason == "signed_out"
