from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import User
from portal.tests.retention_checks import assert_constant_queries_per_batch
from tickets import retention, services
from tickets.models import Attachment, Message, Status, Ticket, TicketEvent, status_counts
from tickets.tasks import purge_expired_tickets

from .conftest import upload


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def finished_ticket(make_ticket, employee_a, agent):
    """A ticket with a file, answered and closed ``days`` ago."""

    def make(days: float, status: str = Status.CLOSED) -> Ticket:
        with time_machine.travel(days_ago(days)):
            ticket = make_ticket(employee_a, files=[(upload(), "image/png")])
            services.add_reply(ticket, agent, "Fixed.", status=Status.RESOLVED)
            if status == Status.CLOSED:
                ticket.refresh_from_db()
                ticket.move_to(Status.CLOSED, agent)
        return ticket

    return make


def test_the_purge_runs_daily_and_keeps_tickets_by_default(finished_ticket):
    entry = django_settings.CELERY_BEAT_SCHEDULE["tickets-retention"]
    assert entry["task"] == "tickets.tasks.purge_expired_tickets"
    assert entry["schedule"].hour == {3}
    assert django_settings.TICKET_RETENTION_DAYS == 0
    finished_ticket(5000)
    assert purge_expired_tickets.delay().get() == {}
    assert Ticket.objects.count() == 1


def test_finished_tickets_go_with_conversation_timeline_and_files(
    settings, finished_ticket, make_ticket, employee_a
):
    settings.TICKET_RETENTION_DAYS = 1095
    old = finished_ticket(1100)
    old_resolved = finished_ticket(1096, status=Status.RESOLVED)
    recent = finished_ticket(1000)
    with time_machine.travel(days_ago(2000)):
        still_open = make_ticket(employee_a)
    files = [Path(a.file.path) for a in Attachment.objects.filter(message__ticket=old)]
    assert files and all(file.exists() for file in files)
    status_counts()  # cached

    assert retention.purge()["tickets"] == 2

    assert set(Ticket.objects.all()) == {recent, still_open}
    gone = [old.pk, old_resolved.pk]
    assert not Message.objects.filter(ticket_id__in=gone).exists()
    assert not TicketEvent.objects.filter(ticket_id__in=gone).exists()
    assert not Attachment.objects.filter(message__ticket_id__in=gone).exists()
    assert not any(file.exists() for file in files)
    assert Attachment.objects.filter(message__ticket=recent).count() == 1
    assert User.objects.filter(pk=employee_a.pk).exists()
    assert {value: count for value, _label, count in status_counts()}[Status.CLOSED] == 1


def test_a_ticket_reopened_since_stays(settings, finished_ticket, agent):
    settings.TICKET_RETENTION_DAYS = 30
    ticket = finished_ticket(40)
    ticket.refresh_from_db()
    ticket.move_to(Status.IN_PROGRESS, agent)
    assert retention.purge()["tickets"] == 0
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_more_tickets_than_one_batch_all_go(settings, finished_ticket):
    settings.TICKET_RETENTION_DAYS = 30
    for _ in range(5):
        finished_ticket(40)
    assert retention.purge(batch_size=2)["tickets"] == 5
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_tickets_cost_the_same_queries_per_batch(finished_ticket):
    assert_constant_queries_per_batch(
        lambda: finished_ticket(40),
        lambda: retention.past_tickets(days_ago(30)),
        lock=True,
    )
