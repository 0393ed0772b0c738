"""'Forgot your password?' takes the same time whatever the identifier: the request only
queues a task; the lookup, the emails and the log entries happen in the task."""

from __future__ import annotations

import pytest

from accounts import tasks

from .helpers import TIMING_BROWSER as BROWSER
from .helpers import recovery_request_work

pytestmark = pytest.mark.django_db
URL = "/account/password/forgot/"


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.send_password_reset_emails, "delay", lambda *args: calls.append(args))
    return calls


def _work(client, identifier):
    return recovery_request_work(client, URL, identifier, sent="/account/password/forgot/sent/")


def test_the_request_does_the_same_work_whether_the_account_exists(
    client, outsider, employee_a, queued, mailoutbox
):
    """Known and unknown alike, for each kind of identifier (an address is kept in the session
    to be shown on the next page; a user name's address never is)."""
    _work(client, "warm-up@example.org")  # the session exists from here on
    by_name = [
        _work(client, name) for name in (outsider.username, employee_a.username, "c12345.zz")
    ]
    by_address = [_work(client, address) for address in (outsider.email, "nobody@example.org")]
    for work in (by_name, by_address):
        assert all(w == work[0] for w in work), work
        assert work[0][1] == [] and work[0][2] == 0  # nothing rendered, nothing logged
    assert mailoutbox == []
    assert len(queued) == 6


def test_the_task_gets_the_requests_origin_and_language(client, outsider, queued):
    client.cookies["django_language"] = "de"
    client.post(URL, {"identifier": f"  {outsider.username} "}, HTTP_USER_AGENT=BROWSER)
    assert queued == [(outsider.username, "127.0.0.1", BROWSER, "de")]


def test_the_no_account_email_is_in_the_requests_language(mailoutbox):
    from accounts import services

    services.send_password_reset_emails("nobody@example.org", None, "", "de")
    assert [m.to for m in mailoutbox] == [["nobody@example.org"]]
