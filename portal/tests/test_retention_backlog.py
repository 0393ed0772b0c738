"""A retention task that meets a large backlog stops on its time budget and queues itself once
more for the rest, instead of being cut off by Celery's soft time limit until the next day."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from accounts import retention as accounts_retention
from accounts import services
from accounts.models import SecurityEvent
from accounts.tasks import purge_expired_accounts_data
from mfa.tasks import purge_expired_mfa_data
from portal.celery import app
from portal.retention import Expired, delete_expired, delete_in_batches
from tickets.tasks import purge_expired_tickets

Kind = SecurityEvent.Kind


class Checks:
    """A budget that answers ``n`` checks (before a kind, before each batch) with "time left";
    a real one lasts seconds."""

    def __init__(self, n: int) -> None:
        self.n, self.ran_out = n, False

    def left(self) -> bool:
        self.ran_out = self.ran_out or self.n <= 0
        self.n -= 1
        return not self.ran_out


@contextmanager
def without_eager_tasks():
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture
def old_events(employee_a):
    with time_machine.travel(timezone.now() - timedelta(days=1000)):
        for _ in range(5):
            services.record_event(Kind.SIGNED_IN, employee_a)


@pytest.fixture
def with_a_worker():
    """Tasks go to the broker as in production; queueing one again is recorded, not sent."""
    with without_eager_tasks(), mock.patch.object(purge_expired_accounts_data, "apply_async") as q:
        yield q


def test_a_spent_budget_stops_before_the_next_batch_and_the_next_run_goes_on(old_events):
    rows = SecurityEvent.objects.all()
    assert delete_in_batches(rows, batch_size=2, budget=Checks(1)) == 2
    assert SecurityEvent.objects.count() == 3
    assert delete_in_batches(rows, batch_size=2) == 3
    assert not SecurityEvent.objects.exists()


def test_kinds_after_the_budget_ran_out_are_not_begun(old_events, django_assert_num_queries):
    kinds = [Expired("first", SecurityEvent.objects.all()), Expired("second", mock.Mock())]
    deleted = delete_expired(kinds, batch_size=10, budget=Checks(2))
    assert deleted == {"first": 5}  # the second kind's rows were never read
    with django_assert_num_queries(0):
        assert delete_expired(kinds, budget=Checks(0)) == {}


def test_a_task_out_of_budget_queues_itself_once_with_work_left(
    settings, old_events, with_a_worker, caplog
):
    settings.RETENTION_TIME_BUDGET = 0
    with caplog.at_level(logging.INFO):
        deleted = purge_expired_accounts_data()
    assert "security events" not in deleted
    assert SecurityEvent.objects.count() == 5
    with_a_worker.assert_called_once_with()
    assert "queued again" in caplog.text


def test_a_task_that_finishes_within_its_budget_queues_nothing(settings, old_events, with_a_worker):
    settings.RETENTION_TIME_BUDGET = 60
    assert purge_expired_accounts_data()["security events"] == 5
    with_a_worker.assert_not_called()


def test_a_task_cut_off_by_the_soft_time_limit_queues_itself_once(settings, with_a_worker, caplog):
    with mock.patch.object(accounts_retention, "purge", side_effect=SoftTimeLimitExceeded()):
        assert purge_expired_accounts_data() == {}
    with_a_worker.assert_called_once_with()
    assert "soft time limit" in caplog.text


@pytest.mark.parametrize("task", [purge_expired_mfa_data, purge_expired_tickets])
def test_every_retention_task_queues_itself_when_out_of_budget(settings, db, task):
    settings.RETENTION_TIME_BUDGET = 0
    settings.TICKET_RETENTION_DAYS = 30
    with without_eager_tasks(), mock.patch.object(task, "apply_async") as queued:
        task()
    queued.assert_called_once_with()


def test_eager_tasks_ignore_the_budget_and_never_queue_themselves(settings, old_events):
    """The embedded default runs tasks inline, without a time limit: queueing itself there
    would recurse, so it deletes the whole backlog in one go."""
    settings.RETENTION_TIME_BUDGET = 0
    settings.RETENTION_BATCH_SIZE = 2
    with mock.patch.object(purge_expired_accounts_data, "apply_async") as queued:
        assert purge_expired_accounts_data.apply().get()["security events"] == 5
    queued.assert_not_called()
    assert not SecurityEvent.objects.exists()
