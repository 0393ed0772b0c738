"""A sign-in by an emailed link is a tracked session from its first request, and the sessions
of an account blocked by a manager, staff or the admin's form stop at their next request."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts import company_services as cs
from accounts import sessions_service, tokens
from accounts.models import User, UserSession
from conftest import make_user

pytestmark = pytest.mark.django_db
NEW = "a-brand-new-passphrase-7"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def _reset_by_link(client, user):
    user.refresh_from_db()  # the token covers last_login
    token = tokens.password_reset_token.make_token(user)
    link = f"/account/password/reset/{tokens.encode_uid(user)}/{token}/"
    response = client.post(link, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/dashboard/"
    return response


def _open_rows(user):
    return UserSession.objects.filter(user=user, ended_at=None)


def test_a_password_reset_sign_in_is_tracked_at_once(client, employee_a):
    _reset_by_link(client, employee_a)
    row = _open_rows(employee_a).get()
    assert row.session_key_hash == sessions_service.hash_key(client.session.session_key)
    assert client.session[sessions_service.TRACKED_ID] == row.pk
    assert client.get("/dashboard/").status_code == 200
    assert _open_rows(employee_a).count() == 1  # the same row, not a second adopted one


def test_an_email_verification_sign_in_is_tracked_at_once(client):
    newcomer = make_user("c55555.nn", email="newcomer@example.org", email_verified=False)
    token = tokens.email_verification_token.make_token(newcomer)
    response = client.post(f"/account/verify/{tokens.encode_uid(newcomer)}/{token}/")
    assert response["Location"] == "/account/verify/done/"
    assert _open_rows(newcomer).count() == 1


def test_the_first_password_sign_in_after_verification_sends_no_new_browser_alert(
    client, sign_in, mailoutbox
):
    """The newcomer verified by link in this browser, which had no cookie of ours yet: their
    first sign-in by password, here, is no sign-in "from a browser we have not seen before"."""
    newcomer = make_user("c55555.nn", email="newcomer@example.org", email_verified=False)
    token = tokens.email_verification_token.make_token(newcomer)
    client.post(f"/account/verify/{tokens.encode_uid(newcomer)}/{token}/")
    client.post("/account/logout/")
    mailoutbox.clear()
    sign_in(newcomer)
    assert client.get("/dashboard/").status_code == 200
    assert mailoutbox == []


def test_a_managers_block_right_after_a_link_sign_in_ends_that_session(
    client, employee_a, manager_a
):
    _reset_by_link(client, employee_a)
    cs.block_employees([User.objects.get(pk=employee_a.pk)], actor=manager_a)
    response = client.get("/account/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    assert not _open_rows(employee_a).exists()


def test_signing_out_everywhere_ends_a_link_sign_in(client, sign_in, employee_a):
    _reset_by_link(client, employee_a)
    other = Client(HTTP_USER_AGENT=FIREFOX)
    sign_in(employee_a, password=NEW, c=other)
    other.post("/account/security/sessions/end-others/")
    assert client.get("/dashboard/").status_code == 302
    assert other.get("/dashboard/").status_code == 200


def test_a_link_sign_in_sends_no_new_browser_alert(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a, c=Client(HTTP_USER_AGENT=FIREFOX))
    mailoutbox.clear()
    _reset_by_link(client, employee_a)
    assert not [m for m in mailoutbox if "was this you" in m.subject]


def test_a_link_sign_in_is_no_fresh_authentication_for_the_security_pages(client, employee_a):
    _reset_by_link(client, employee_a)
    response = client.get("/account/security/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/security/confirm/")


def test_a_link_sign_in_replaces_the_session_it_signs_out(client, sign_in, employee_a, outsider):
    sign_in(outsider)
    before = _open_rows(outsider).get()
    _reset_by_link(client, employee_a)
    before.refresh_from_db()
    assert before.ended_at is not None
    assert _open_rows(employee_a).count() == 1


def test_a_blocked_users_tracked_session_stops_at_its_next_request(client, sign_in, employee_a):
    sign_in(employee_a)
    # Blocked without ending the sessions (the admin's form).
    User.objects.filter(pk=employee_a.pk).update(blocked_at=timezone.now())
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    assert UserSession.objects.get(user=employee_a).end_reason == "blocked"
    assert "_auth_user_id" not in client.session


def test_a_blocked_users_untracked_session_is_not_adopted(client, employee_a):
    client.force_login(employee_a)  # a session without a row yet
    User.objects.filter(pk=employee_a.pk).update(blocked_at=timezone.now())
    assert client.get("/dashboard/").status_code == 302
    assert not _open_rows(employee_a).exists()
    assert client.get("/dashboard/").status_code == 302


def test_a_lockout_by_someone_elses_wrong_passwords_leaves_the_owners_session_alone(
    client, sign_in, employee_a
):
    """Anyone can lock an account with five wrong passwords; that must not sign its owner out."""
    sign_in(employee_a)
    attacker = Client()
    for _attempt in range(5):
        sign_in(employee_a, "a-wrong-guess", c=attacker)
    employee_a.refresh_from_db()
    assert employee_a.is_locked_out

    assert client.get("/dashboard/").status_code == 200
    assert _open_rows(employee_a).count() == 1
