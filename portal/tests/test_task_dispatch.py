"""Tasks are queued after commit; a broker that is down costs neither a 500 nor the email.

(conftest runs on-commit callbacks at once, except with transactional_db.)"""

from __future__ import annotations

import logging
import runpy
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import transaction
from kombu.exceptions import EncodeError, OperationalError

from accounts.models import User
from accounts.tasks import deliver_email
from portal.celery import FALLBACK_THREAD, enqueue_after_commit

BASE = Path(__file__).resolve().parents[2]
BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

REGISTRATION = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@example.org",
    "password1": "a-long-and-fine-passphrase",
    "password2": "a-long-and-fine-passphrase",
    "accept_terms": "on",
}


def _join_fallbacks() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith(FALLBACK_THREAD):
            thread.join(timeout=10)


def test_the_task_is_queued_only_when_the_transaction_commits(transactional_db):
    task = mock.Mock(name="task")
    with transaction.atomic():
        enqueue_after_commit(task, "a", 1)
        task.delay.assert_not_called()  # a worker could not see the rows yet
    task.delay.assert_called_once_with("a", 1)


@pytest.mark.django_db
def test_with_the_broker_down_the_task_runs_once_beside_the_request(caplog):
    """Not in the request: its answer must not wait for SMTP nor time what the task found."""
    release, ran_in = threading.Event(), []
    task = mock.Mock(name="task")
    task.delay.side_effect = BROKER_DOWN
    task.run.side_effect = lambda *args: (
        release.wait(5),
        ran_in.append(threading.current_thread()),
    )
    with caplog.at_level(logging.ERROR):
        enqueue_after_commit(task, "a", 1)
    assert ran_in == []  # enqueue_after_commit came back while the task still waits
    release.set()
    _join_fallbacks()
    task.run.assert_called_once_with("a", 1)
    assert ran_in[0] is not threading.current_thread()
    assert "Broker unavailable" in caplog.text


@pytest.mark.django_db
def test_a_task_that_fails_without_the_broker_too_is_logged_not_raised(caplog):
    task = mock.Mock(name="task")
    task.delay.side_effect = BROKER_DOWN
    task.run.side_effect = OSError("SMTP server down as well")
    with caplog.at_level(logging.ERROR):
        enqueue_after_commit(task, "a")
        _join_fallbacks()
    assert "failed without the broker too" in caplog.text


@pytest.mark.django_db
def test_an_argument_the_broker_cannot_carry_is_a_bug_and_still_raises():
    task = mock.Mock(name="task")
    task.delay.side_effect = EncodeError("Object of type set is not JSON serializable")
    with pytest.raises(EncodeError):
        enqueue_after_commit(task, {"a"})
    task.run.assert_not_called()


@pytest.mark.django_db
def test_registering_while_the_broker_is_down_still_answers_and_sends_the_email(client, mailoutbox):
    with mock.patch.object(deliver_email, "delay", side_effect=BROKER_DOWN):
        response = client.post("/account/register/", REGISTRATION)
    _join_fallbacks()
    assert response.status_code == 302
    assert User.objects.filter(email=REGISTRATION["email"]).exists()
    assert [mail.to for mail in mailoutbox] == [[REGISTRATION["email"]]]


def test_check_and_unblock_while_the_broker_is_down_still_answers(
    transactional_db, client, employee_a, mailoutbox
):
    from accounts.tasks import report_account_status

    with mock.patch.object(report_account_status, "delay", side_effect=BROKER_DOWN):
        response = client.post("/account/unblock/", {"identifier": employee_a.username})
    _join_fallbacks()
    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [[employee_a.email]]


def test_smtp_has_a_timeout_so_a_hanging_server_cannot_hold_a_worker():
    assert 0 < settings.EMAIL_TIMEOUT <= 30


def test_gunicorns_shared_control_socket_is_off_unless_a_path_is_given(monkeypatch):
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    config = runpy.run_path(str(BASE / "portal" / "gunicorn.py"))
    assert config["control_socket_disable"] is True
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", "/run/portal/gunicorn.ctl")
    config = runpy.run_path(str(BASE / "portal" / "gunicorn.py"))
    assert config["control_socket_disable"] is False
    assert config["control_socket"] == "/run/portal/gunicorn.ctl"
