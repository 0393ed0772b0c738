"""bench/floors.py: the floors do their work, and only the floors' own settings serve them."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve

from accounts.models import SecurityEvent, UserSession
from bench.floors import WIZARD_SESSION_KEY
from bench.run import FLOORS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.floor_urls")]


def _identified_client(client, user):
    """A client whose session went through the portal's own identifier step."""
    response = client.post(
        "/account/login/",
        {"login_view-current_step": "identify", "identify-username": user.username},
    )
    assert response.status_code == 303
    assert client.session[WIZARD_SESSION_KEY]["identifier"] == user.username
    return client


def test_every_floor_of_the_harness_is_served_by_the_floor_urls():
    for _name, path, _reference, _does in FLOORS.values():
        assert resolve(path)


@pytest.mark.urls("portal.urls")
def test_the_portal_itself_serves_no_floor():
    for _name, path, _reference, _does in FLOORS.values():
        with pytest.raises(Resolver404):
            resolve(path)


def test_password_check_verifies_without_signing_in(client, employee_a, password):
    user = employee_a
    _identified_client(client, user)
    path = FLOORS["password_check"][1]
    assert client.post(path, {"auth-password": "wrong"}).status_code == 400
    response = client.post(path, {"auth-password": password})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert "_auth_user_id" not in client.session


def test_password_sign_in_does_what_the_wizard_does_when_done(client, employee_a, password):
    user = employee_a
    _identified_client(client, user)
    before = client.session.session_key
    response = client.post(FLOORS["password_sign_in"][1], {"auth-password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session.session_key != before  # rotated, as login() does
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.SIGNED_IN).exists()
    assert UserSession.objects.filter(user=user, ended_at=None).count() == 1
    assert client.get("/dashboard/").status_code == 200


def test_password_sign_in_counts_a_wrong_password_as_the_portal_does(client, employee_a):
    user = employee_a
    _identified_client(client, user)
    assert client.post(FLOORS["password_sign_in"][1], {"auth-password": "nope"}).status_code == 400
    user.refresh_from_db()
    assert user.failed_login_count == 1


def test_page_floors_need_a_signed_in_user(client, employee_a):
    user = employee_a
    for key in ("signed_in", "layout"):
        assert client.get(FLOORS[key][1]).status_code == 302
    client.force_login(user)
    assert client.get(FLOORS["signed_in"][1]).content == b""
    layout = client.get(FLOORS["layout"][1])
    assert layout.status_code == 200
    assert b'class="user-menu"' in layout.content
    assert user.username.encode() in layout.content


def test_the_cached_dashboard_is_the_portals_dashboard_read_from_the_cache(client, employee_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(employee_a)
    path = FLOORS["cached_dashboard"][1]
    first = client.get(path)
    assert first.status_code == 200
    assert b"<h2>Profile</h2>" in first.content and employee_a.username.encode() in first.content
    with CaptureQueriesContext(connection) as signed_in:
        client.get(FLOORS["signed_in"][1])
    with CaptureQueriesContext(connection) as cached:
        again = client.get(path)
    assert again.content == first.content
    assert len(cached) <= len(signed_in)  # nothing beyond what the signed-in response costs


def test_the_cached_dashboard_needs_a_signed_in_user(client):
    assert client.get(FLOORS["cached_dashboard"][1]).status_code == 302
