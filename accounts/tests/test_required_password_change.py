from __future__ import annotations

import time

import pytest
from django.utils import timezone

from accounts.reauth import AUTH_AT
from accounts.tests.helpers import assert_title_is_the_heading

URL = "/account/password/initial/"


def _signed_in_just_now(client, user) -> None:
    """As right after the sign-in: its password counts as a recent authentication, so the
    page asks only for the new password (an older session also for the current one)."""
    client.force_login(user)
    session = client.session
    session[AUTH_AT] = time.time()
    session.save()


@pytest.fixture
def initial_user(employee_a):
    employee_a.must_change_password = True
    employee_a.save()
    return employee_a


@pytest.mark.django_db
def test_nothing_else_is_reachable_until_the_initial_password_is_changed(client, initial_user):
    client.force_login(initial_user)
    for path in ("/dashboard/", "/account/profile/", "/account/security/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == URL
    assert "Change the initial password" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_the_new_password_must_differ_from_the_initial_one(client, initial_user, password):
    _signed_in_just_now(client, initial_user)
    response = client.post(URL, {"new_password1": password, "new_password2": password})
    assert response.status_code == 400
    assert "must differ" in response.content.decode()


@pytest.mark.django_db
def test_changing_it_unlocks_the_portal_and_notifies(client, initial_user, mailoutbox):
    _signed_in_just_now(client, initial_user)
    new = "a-brand-new-passphrase-77"
    response = client.post(URL, {"new_password1": new, "new_password2": new})
    assert response["Location"] == "/account/password/changed/"
    initial_user.refresh_from_db()
    assert not initial_user.must_change_password
    assert initial_user.check_password(new)
    assert client.get("/dashboard/").status_code == 200  # still signed in
    assert mailoutbox[-1].subject == "Your password was changed"


@pytest.mark.django_db
def test_short_passwords_are_refused_with_a_message(client, initial_user):
    _signed_in_just_now(client, initial_user)
    response = client.post(URL, {"new_password1": "short1", "new_password2": "short1"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_password_leads_to_the_same_page(client, employee_a):
    employee_a.password_changed_at = timezone.now() - timezone.timedelta(days=91)
    employee_a.save()
    client.force_login(employee_a)
    assert client.get("/dashboard/")["Location"] == URL
    assert "Your password has expired" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_logout_stays_reachable(client, initial_user):
    client.force_login(initial_user)
    assert client.post("/account/logout/").status_code == 302


@pytest.mark.django_db
def test_without_a_required_change_the_page_sends_you_home(client, employee_a):
    client.force_login(employee_a)
    assert client.get(URL)["Location"] == "/dashboard/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "heading"),
    [
        ("initial", "Change the initial password"),
        ("expired", "Your password has expired"),
        ("compromised", "Change your password"),
    ],
)
def test_the_tab_title_is_the_pages_heading_whatever_the_reason(
    client, employee_a, reason, heading
):
    if reason == "initial":
        employee_a.must_change_password = True
    elif reason == "expired":
        employee_a.password_changed_at = timezone.now() - timezone.timedelta(days=91)
    else:
        employee_a.password_compromised = True
    employee_a.save()
    client.force_login(employee_a)
    response = client.get(URL)
    assert f"<h1>{heading}</h1>" in response.content.decode()
    assert_title_is_the_heading(response, reason)
