"""Authorization audit of the account pages: who may lift whose block, what a public form's
work tells about an address, what an old session may change without the password."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import company_services as cs
from accounts import tasks
from accounts.models import SecurityEvent
from accounts.tests.manage_helpers import sign_in_verified

from .helpers import TIMING_BROWSER

pytestmark = pytest.mark.django_db
ACTIONS = "/manage/employees/actions/"


# --- A block by provider staff is staff's to lift ---------------------------------------------


@pytest.fixture
def staff_blocked(employee_a, provider_admin):
    cs.block_employees([employee_a], actor=provider_admin)
    employee_a.refresh_from_db()
    assert employee_a.blocked_by_staff
    return employee_a


def test_a_security_manager_cannot_lift_a_block_by_provider_staff(client, manager_a, staff_blocked):
    sign_in_verified(client, manager_a)
    response = client.post(ACTIONS, {"action": "unblock", "ids": [staff_blocked.pk]}, follow=True)
    assert response.redirect_chain == [(f"/manage/employees/{staff_blocked.pk}/", 302)]
    assert "only our support team can unblock them" in response.content.decode()
    staff_blocked.refresh_from_db()
    assert staff_blocked.blocked_by_staff
    assert not SecurityEvent.objects.filter(user=staff_blocked, kind="unblocked").exists()


def test_the_employee_page_offers_no_unblock_for_a_block_by_provider_staff(
    client, manager_a, staff_blocked
):
    sign_in_verified(client, manager_a)
    body = client.get(f"/manage/employees/{staff_blocked.pk}/").content.decode()
    assert 'value="unblock"' not in body


def test_provider_staff_still_lift_their_own_block(staff_blocked, provider_admin):
    assert cs.unblock_employees([staff_blocked], actor=provider_admin) == 1
    staff_blocked.refresh_from_db()
    assert not staff_blocked.is_blocked


# --- "Forgot your user name?": the same work for any address ----------------------------------

USERNAME_URL = "/account/username/forgot/"


@pytest.fixture
def queued(monkeypatch):
    """The reminder tasks the requests queue, not run."""
    calls = []
    monkeypatch.setattr(tasks.send_username_reminder, "delay", lambda *args: calls.append(args))
    return calls


def _username_request_work(client, email: str) -> tuple:
    events_before = SecurityEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(USERNAME_URL, {"email": email}, HTTP_USER_AGENT=TIMING_BROWSER)
    assert response["Location"] == "/account/username/forgot/sent/"
    templates = sorted(t.name for t in response.templates)
    return len(queries), templates, SecurityEvent.objects.count() - events_before


def test_the_username_reminder_does_the_same_work_whether_the_address_is_known(
    client, outsider, employee_a, queued, mailoutbox
):
    """The known address rendered its email and wrote the log in the request, about twice the
    time of an unknown one's: the answer's timing told which addresses have an account."""
    _username_request_work(client, "warm-up@example.org")  # the session exists from here on
    work = [
        _username_request_work(client, address)
        for address in (outsider.email, "nobody@example.org", employee_a.email)
    ]
    assert all(w == work[0] for w in work), work
    assert work[0][1] == [] and work[0][2] == 0  # nothing rendered, nothing logged
    assert mailoutbox == []
    assert [call[0] for call in queued] == [
        "warm-up@example.org",
        outsider.email,
        "nobody@example.org",
        employee_a.email,
    ]


def test_the_username_task_gets_the_requests_origin_and_language(client, outsider, queued):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.post(USERNAME_URL, {"email": outsider.email}, HTTP_USER_AGENT=TIMING_BROWSER)
    assert queued == [(outsider.email, "127.0.0.1", TIMING_BROWSER, "de")]


def test_the_username_task_sends_the_reminder_and_logs_the_requests_origin(outsider, mailoutbox):
    tasks.send_username_reminder(outsider.email, "203.0.113.9", TIMING_BROWSER, "en")
    assert mailoutbox[-1].to == [outsider.email]
    assert outsider.username in mailoutbox[-1].body
    event = SecurityEvent.objects.get(user=outsider, kind="username_reminder")
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", TIMING_BROWSER)


def test_the_username_task_writes_the_no_account_email_in_the_requests_language(mailoutbox):
    tasks.send_username_reminder("nobody@example.org", None, "", "de")
    [mail] = mailoutbox
    assert mail.to == ["nobody@example.org"]
    assert "Diese E-Mail-Adresse wird von keinem Konto verwendet." in mail.body
