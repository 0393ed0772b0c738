"""Reset links that others trigger (the Security Manager, "This wasn't me") are the same links
as the forgotten-password email's: they open the Reset password page and work."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts import company_services as cs
from accounts import services, sessions_service
from accounts.models import SecurityEvent, UserSession

from .helpers import link_in

pytestmark = pytest.mark.django_db
NEW = "a-brand-new-passphrase-7"
RESET = "/account/password/reset/"


def _choose_new_password(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert "accounts/password_reset_confirm.html" in [t.name for t in page.templates]
    return client.post(path, {"new_password1": NEW, "new_password2": NEW})


def test_the_link_a_manager_sends_sets_a_new_password(client, employee_a, manager_a, mailoutbox):
    cs.send_password_resets([employee_a], actor=manager_a)
    response = _choose_new_password(client, link_in(mailoutbox[-1], RESET))
    assert response.status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.check_password(NEW)
    assert SecurityEvent.objects.filter(user=employee_a, kind="password_reset").exists()


def test_the_link_of_this_wasnt_me_sets_a_new_password(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    sign_in(employee_a, c=Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    alert = next(m for m in mailoutbox if "was this you" in m.subject)
    anonymous = Client()
    anonymous.post(re.search(r"http://portal\.test(/account/sign-in/report/\S+/)", alert.body)[1])
    mail = next(m for m in mailoutbox if m.subject == "Choose a new password for your account")
    response = _choose_new_password(anonymous, link_in(mail, RESET))
    assert response.status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.check_password(NEW)


def test_every_sender_builds_the_same_link(employee_a):
    # One function builds reset links; the others are that function.
    assert cs.password_reset_url is services.password_reset_url
    assert sessions_service.password_reset_url is services.password_reset_url
    assert services.password_reset_url(employee_a).startswith(f"http://portal.test{RESET}")


def test_a_used_manager_link_is_dead(client, employee_a, manager_a, mailoutbox):
    cs.send_password_resets([employee_a], actor=manager_a)
    path = link_in(mailoutbox[-1], RESET)
    _choose_new_password(client, path)
    client.post("/account/logout/")
    assert Client().get(path).status_code == 400
    assert UserSession.objects.filter(user=employee_a).count() == 1


def test_this_wasnt_me_on_a_manager_blocked_account_says_whom_to_ask(
    client, sign_in, employee_a, manager_a, mailoutbox
):
    # The block stays whatever the owner does, so the email sends no link that would fail.
    sign_in(employee_a)
    sign_in(employee_a, c=Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    alert = next(m for m in mailoutbox if "was this you" in m.subject)
    cs.block_employees([employee_a], actor=manager_a)
    page = Client().post(
        re.search(r"http://portal\.test(/account/sign-in/report/\S+/)", alert.body)[1]
    )
    assert page.status_code == 200
    assert "blocked by your company" in page.content.decode()
    mail = next(
        m for m in mailoutbox if m.subject == "All sessions of your account have been signed out"
    )
    assert RESET not in mail.body
    assert RESET not in mail.alternatives[0][0]
    assert "blocked by a Security Manager of your company" in mail.body
    # the email, to the account's own address, names who can lift the block; the page does not
    assert f"- {manager_a.get_full_name()}\n" in mail.body
    assert manager_a.get_full_name() not in page.content.decode()
    event = SecurityEvent.objects.get(user=employee_a, kind="password_reset_requested")
    assert event.data["refused"] == "blocked"
    employee_a.refresh_from_db()
    assert employee_a.is_blocked_by_manager
    assert not UserSession.objects.filter(user=employee_a, ended_at__isnull=True).exists()
