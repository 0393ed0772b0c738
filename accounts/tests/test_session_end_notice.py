"""The absolute session limit is announced before it comes (it cannot be extended)."""

from __future__ import annotations

import re
import time

import pytest

from accounts.sessions_service import SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def _seconds_left(html: str) -> int:
    return int(re.search(r'id="session-end-notice"[^>]*data-session-left="(\d+)"', html)[1])


def test_pages_tell_the_script_how_long_the_session_has_left(client, sign_in, employee_a, settings):
    sign_in(employee_a)
    left = _seconds_left(client.get("/dashboard/").text)
    assert settings.SESSION_ABSOLUTE_TIMEOUT - 60 < left <= settings.SESSION_ABSOLUTE_TIMEOUT
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_TIMEOUT + 300
    session.save()
    assert 240 < _seconds_left(client.get("/account/security/").text) <= 300


def test_signed_out_pages_have_no_notice(client, db):
    assert "session-end-notice" not in client.get("/account/login/").text


def test_the_cookie_outlives_the_limit_so_the_sign_in_page_can_say_why(settings):
    """A cookie that expired with the session would reach the server as a visitor's."""
    assert settings.SESSION_COOKIE_AGE > settings.SESSION_ABSOLUTE_TIMEOUT


def test_the_notice_names_the_limit_in_words(client, sign_in, employee_a, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 120  # under an hour it used to read "0 hours"
    sign_in(employee_a)
    assert "a sign-in lasts at most two minutes" in client.get("/dashboard/").text
