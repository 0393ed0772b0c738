from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_help_page_covers_every_way_back_in(client):
    response = client.get("/account/login/help/")
    assert response.status_code == 200
    text = response.content.decode()
    for heading in [
        "You forgot your password",
        "You forgot your user name",
        "Your account is blocked",
        "You have no login yet",
        "Security Manager",
    ]:
        assert heading in text
    for path in ["/account/password/forgot/", "/account/username/forgot/", "/account/unblock/"]:
        assert f'href="{path}"' in text
    assert "After 5 failed sign-in attempts in a row" in text


def test_the_help_page_is_linked_from_the_sign_in_page(client):
    assert b'href="/account/login/help/"' in client.get("/account/login/").content


def test_the_help_page_is_available_in_german(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/account/login/help/")
    assert response.status_code == 200
    assert b'lang="de"' in response.content
