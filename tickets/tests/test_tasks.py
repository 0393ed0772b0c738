from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from tickets import tasks
from tickets.models import Status, TicketEvent


def _waiting(ticket, agent):
    ticket.move_to(Status.WAITING, agent)
    return ticket


def test_the_task_is_scheduled_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["tickets-waiting-for-customer"]
    assert entry["task"] == "tickets.tasks.process_waiting_tickets"


def test_nothing_happens_before_the_reminder_is_due(ticket_a, agent, mailoutbox, settings):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _waiting(ticket_a, agent)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        tasks.process_waiting_tickets.delay()
    assert mailoutbox == []


def test_it_reminds_once_even_when_run_twice(
    ticket_a, agent, employee_a, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _waiting(ticket_a, agent)
    later = timezone.now() + timedelta(days=3, hours=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        tasks.process_waiting_tickets.delay()
        tasks.process_waiting_tickets.delay()
    assert [m.to for m in mailoutbox] == [[employee_a.email]]
    assert ticket_a.reference in mailoutbox[0].subject
    ticket_a.refresh_from_db()
    assert ticket_a.reminder_sent_at is not None
    assert ticket_a.status == Status.WAITING
    assert ticket_a.events.filter(kind=TicketEvent.Kind.REMINDER).count() == 1


def test_it_resolves_after_more_days_once(
    ticket_a, agent, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    settings.TICKET_WAITING_AUTO_RESOLVE_DAYS = 7
    _waiting(ticket_a, agent)
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(start + timedelta(days=4)):
            tasks.process_waiting_tickets.delay()
        with time_machine.travel(start + timedelta(days=8)):
            tasks.process_waiting_tickets.delay()
            tasks.process_waiting_tickets.delay()
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.RESOLVED
    assert len(mailoutbox) == 2
    assert "resolved" in mailoutbox[1].subject
    assert "automatically" in mailoutbox[1].body


def test_a_customer_answer_stops_the_clock(ticket_a, agent, employee_a, mailoutbox, settings):
    from tickets import services

    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _waiting(ticket_a, agent)
    services.add_reply(ticket_a, employee_a, "Here is the info")
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        tasks.process_waiting_tickets.delay()
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
