"""The identifier-first sign-in: no enumeration, lockout, per-IP throttle, safe redirects."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from accounts.models import SecurityEvent
from conftest import PASSWORD, sign_in_step

from .helpers import link_in, page_text

pytestmark = pytest.mark.django_db

URL = "/account/login/"


def _identify(client, identifier, url=URL):
    return sign_in_step(
        client, url, {"login_view-current_step": "identify", "identify-username": identifier}
    )


def _password(client, password, url=URL):
    return sign_in_step(client, url, {"login_view-current_step": "auth", "auth-password": password})


def test_an_unknown_user_gets_the_password_page_too(client, outsider):
    known = _identify(client, outsider.username)
    client.cookies.clear()
    unknown = _identify(client, "c12345.zz")
    assert known.status_code == unknown.status_code == 200
    assert page_text(known, outsider.username) == page_text(unknown, "c12345.zz")


def test_unknown_user_and_wrong_password_answer_alike(client, outsider):
    _identify(client, outsider.username)
    wrong = _password(client, "not-the-password")
    client.cookies.clear()
    _identify(client, "c12345.zz")
    unknown = _password(client, "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert "Invalid user name or password." in wrong.content.decode()
    assert page_text(wrong, outsider.username) == page_text(unknown, "c12345.zz")


@pytest.mark.parametrize("identifier", ["C99999.OU", "c99999_ou@EXAMPLE.com"])
def test_sign_in_by_user_name_or_email_in_any_case(client, outsider, identifier):
    _identify(client, identifier)
    response = _password(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(outsider.pk)


def test_five_wrong_passwords_block_the_account_and_email_an_unblock_link(
    client, outsider, mailoutbox, settings
):
    _identify(client, outsider.username)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _password(client, "wrong-password-1")
    outsider.refresh_from_db()
    assert outsider.is_blocked
    assert outsider.failed_login_count == 5
    blocked = [m for m in mailoutbox if m.subject == "Your account has been blocked"]
    assert len(blocked) == 1
    assert link_in(blocked[0], "/account/unblock/")
    assert SecurityEvent.objects.filter(user=outsider, kind="blocked").count() == 1


def test_a_blocked_account_refuses_the_correct_password_with_the_generic_message(client, outsider):
    outsider.blocked_at = timezone.now()
    outsider.save()
    _identify(client, outsider.username)
    response = _password(client, PASSWORD)
    assert response.status_code == 400
    assert "Invalid user name or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_resets_the_failure_counter(client, outsider):
    _identify(client, outsider.username)
    for _ in range(4):
        _password(client, "wrong-password-1")
    _password(client, PASSWORD)
    outsider.refresh_from_db()
    assert outsider.failed_login_count == 0
    assert not outsider.is_blocked


def test_too_many_failures_from_one_ip_are_throttled(client, outsider, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    # On a still clock: the window ends on a whole second, so a tick could make it 599.
    with time_machine.travel(timezone.now(), tick=False):
        _identify(client, "c12345.zz")
        for _ in range(3):
            _password(client, "wrong-password-1")
        response = _password(client, "wrong-password-1")
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.LOGIN_IP_FAILURE_WINDOW)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "http://portal.test.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_our_host(client, outsider, target):
    url = f"{URL}?next={target}"
    _identify(client, outsider.username, url)
    response = _password(client, PASSWORD, url)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_next_on_our_host_is_followed(client, outsider):
    url = f"{URL}?next=/account/profile/"
    _identify(client, outsider.username, url)
    response = _password(client, PASSWORD, url)
    assert response["Location"] == "/account/profile/"


def test_the_sign_in_page_links_to_the_recovery_flows(client):
    text = client.get(URL).content.decode()
    for path in [
        "/account/register/",
        "/account/password/forgot/",
        "/account/username/forgot/",
        "/account/unblock/",
        "/account/login/help/",
    ]:
        assert f'href="{path}"' in text


def test_logout_is_post_only_and_ends_the_session(client, outsider, sign_in):
    sign_in(outsider)
    assert client.get("/account/logout/").status_code == 405
    response = client.post("/account/logout/", follow=True)
    assert "You have been signed out." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_signed_in_user_back_on_the_sign_in_page_goes_to_the_dashboard(client, outsider):
    client.force_login(outsider)
    response = client.get(URL)  # the back button after signing in, or a bookmark
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    # A page that asks for a stronger sign-in still gets the form.
    assert client.get(f"{URL}?next=/admin/").status_code == 200
