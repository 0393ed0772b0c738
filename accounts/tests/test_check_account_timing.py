"""'Check and unblock your account' takes the same time whatever the identifier: the request
only queues a task; the lookup, the emails and the log entry happen in the task."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import tasks
from accounts.models import SecurityEvent, User

from .helpers import TIMING_BROWSER as BROWSER
from .helpers import recovery_request_work

pytestmark = pytest.mark.django_db
URL = "/account/unblock/"


@pytest.fixture
def queued(monkeypatch):
    """The tasks the requests queue, not run."""
    calls = []
    monkeypatch.setattr(tasks.report_account_status, "delay", lambda *args: calls.append(args))
    return calls


def _work(client, identifier):
    return recovery_request_work(client, URL, identifier, sent="/account/unblock/sent/")


def test_the_request_does_the_same_work_for_any_identifier(
    client, outsider, employee_a, manager_a, queued, mailoutbox
):
    from accounts import company_services as cs

    cs.block_employees([employee_a], actor=manager_a)
    User.objects.filter(pk=outsider.pk).update(
        blocked_at=timezone.now(), blocked_reason=User.BlockReason.LOCKOUT
    )
    identifiers = [
        outsider.username,
        outsider.email,
        employee_a.username,
        "c12345.zz",
        "nobody@example.org",
    ]
    work = [_work(client, identifier) for identifier in identifiers]
    assert all(w == work[0] for w in work), work
    assert work[0][1] == []  # no email rendered in the request
    assert work[0][2] == 0  # nothing logged in the request
    assert mailoutbox == []
    assert [call[0] for call in queued] == identifiers


def test_the_task_gets_the_requests_origin_and_language(client, outsider, queued):
    client.cookies["django_language"] = "de"
    client.post(URL, {"identifier": f"  {outsider.username} "}, HTTP_USER_AGENT=BROWSER)
    assert queued == [(outsider.username, "127.0.0.1", BROWSER, "de")]


def test_the_task_sends_the_report_and_logs_the_requests_origin(client, outsider, mailoutbox):
    client.post(URL, {"identifier": outsider.username}, HTTP_USER_AGENT=BROWSER)
    [mail] = mailoutbox
    assert mail.to == [outsider.email]
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ACCOUNT_CHECKED)
    assert event.user == outsider
    assert (event.ip_address, event.user_agent) == ("127.0.0.1", BROWSER)


def test_the_task_writes_the_no_account_email_in_the_requests_language(mailoutbox):
    tasks.report_account_status.delay("nobody@example.org", "127.0.0.1", BROWSER, "de")
    [mail] = mailoutbox
    assert mail.to == ["nobody@example.org"]
    assert "No account uses this email address." not in mail.body  # German, not English


def test_the_task_keeps_the_hourly_limit_per_account(outsider, mailoutbox):
    for _ in range(5):
        tasks.report_account_status.delay(outsider.username, None, "", "en")
    assert len(mailoutbox) == 3


def test_the_report_names_each_kind_of_second_factor_in_both_parts(manager_a, mailoutbox):
    from mfa.models import PushDevice
    from mfa.services import regenerate_backup_codes

    manager_a.preferred_language = "de"
    manager_a.save(update_fields=["preferred_language"])
    PushDevice.objects.create(user=manager_a, name="Phone", confirmed=True, public_key="k")
    regenerate_backup_codes(None, manager_a)
    tasks.report_account_status.delay(manager_a.username, None, "", "de")
    mail = mailoutbox[-1]
    expected = "Authentifikator-App (TOTP), Smartphone-Push, Backup-Codes"
    assert f"Zwei-Faktor-Authentifizierung: {expected}" in mail.body
    assert expected in mail.alternatives[0][0]
