"""Security notices say when (in the recipient's time zone, named), from where, who acted
and what to do; the text part ends with the portal's signature."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import RequestFactory

from accounts import company_services as cs
from accounts import services
from accounts.emails import send_email_to_user
from accounts.models import User
from accounts.templatetags.local_time import zoned

from .helpers import both_parts

pytestmark = pytest.mark.django_db
NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _request(ip="203.0.113.9", agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", user=None):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    return request


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("Europe/Berlin", "Jan. 15, 2026, 1 p.m. (CET)"),
        ("America/Bogota", "Jan. 15, 2026, 7 a.m. (UTC-05)"),
        ("Asia/Kolkata", "Jan. 15, 2026, 5:30 p.m. (IST)"),
        ("UTC", "Jan. 15, 2026, noon (UTC)"),
    ],
)
def test_times_are_shown_in_the_active_zone_and_name_it(zone, expected):
    from django.utils import timezone, translation

    with timezone.override(zone), translation.override("en"):
        assert zoned(NOON_UTC) == expected


@time_machine.travel(NOON_UTC, tick=False)
def test_a_notice_is_written_in_the_users_zone_and_says_from_where(employee_a, mailoutbox):
    employee_a.time_zone = "America/Bogota"
    services.change_password(_request(user=employee_a), employee_a, "a-brand-new-passphrase-7")
    mail = mailoutbox[-1]
    assert "Time: Jan. 15, 2026, 7 a.m. (UTC-05)" in mail.body
    assert "IP address: 203.0.113.9" in mail.body
    assert "Browser: Firefox 128 on Linux" in mail.body
    assert "203.0.113.9" in mail.alternatives[0][0]


def test_the_text_part_ends_with_the_portals_signature(employee_a, mailoutbox, settings):
    send_email_to_user(employee_a, "password_changed")
    body = mailoutbox[-1].body
    assert body.endswith(
        f"-- \n{settings.SITE_NAME} · {settings.SITE_URL}\n"
        "This is an automatic message; replies are not read.\n"
    )


def test_a_lockout_by_wrong_codes_says_the_password_was_right(employee_a, mailoutbox, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        services.register_second_factor_failure(_request(), employee_a)
    mail = mailoutbox[-1]
    assert "has been blocked" in mail.body
    assert "The password was entered correctly" in mail.body
    assert "someone may know your user name" not in mail.body
    assert "IP address: 203.0.113.9" in mail.body


def test_a_lockout_by_wrong_passwords_keeps_its_advice(employee_a, mailoutbox, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        services.check_sign_in_password(_request(), employee_a.username, "wrong")
    mail = mailoutbox[-1]
    assert "someone may know your user name" in mail.body
    assert "The password was entered correctly" not in mail.body


def test_staff_actions_are_credited_to_staff_not_to_a_security_manager(
    employee_a, manager_a, provider_admin, mailoutbox
):
    cs.send_password_resets([employee_a], actor=provider_admin)
    assert "Our support staff have sent you a link" in mailoutbox[-1].body
    cs.reset_mfa([manager_a], actor=provider_admin)
    assert "Our support staff have removed" in mailoutbox[-1].body
    assert "Security Manager" not in mailoutbox[-1].body
    cs.send_password_resets([employee_a], actor=manager_a)
    assert "Your company's Security Manager has asked us" in mailoutbox[-1].body


def test_a_block_by_staff_tells_the_owner_to_ask_support(employee_a, provider_admin, mailoutbox):
    cs.block_employees([employee_a], actor=provider_admin)
    employee_a.refresh_from_db()
    assert employee_a.blocked_reason == User.BlockReason.STAFF
    assert employee_a.is_blocked_by_manager and employee_a.blocked_by_staff
    services.request_password_reset(_request(), employee_a.email)
    mail = mailoutbox[-1]
    assert mail.subject == "Your password cannot be reset while your account is blocked"
    assert "blocked by our staff" in mail.body
    assert "Security Manager" not in mail.body


def test_a_block_by_the_security_manager_names_them(employee_a, manager_a, mailoutbox):
    cs.block_employees([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    assert employee_a.blocked_reason == User.BlockReason.MANAGER
    assert not employee_a.blocked_by_staff
    services.request_password_reset(_request(), employee_a.email)
    assert "blocked by a Security Manager of your company" in mailoutbox[-1].body


def test_a_lockout_email_says_a_password_reset_also_unblocks(employee_a, mailoutbox, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        services.check_sign_in_password(_request(), employee_a.username, "wrong")
    mail = mailoutbox[-1]
    assert mail.subject == "Your account has been blocked"
    for part in both_parts(mail):
        assert "Resetting your password also unblocks your account." in part
        assert "http://portal.test/account/password/forgot/" in part


def test_the_blocked_email_promises_no_reset_for_a_managers_block(
    employee_a, manager_a, mailoutbox
):
    # A reset never lifts a person's block (tokens.ResetPasswordTokenGenerator).
    cs.block_employees([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    send_email_to_user(employee_a, "account_blocked")
    for part in both_parts(mailoutbox[-1]):
        assert "Resetting your password" not in part
        assert "/account/password/forgot/" not in part
