from __future__ import annotations

from datetime import timedelta

import pytest
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


def _ask(ticket, author, body, *, internal=False, minutes=0):
    from tickets.models import Message

    return Message.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        is_internal=internal,
        created_at=timezone.now() + timedelta(minutes=minutes),
    )


def test_the_reminder_repeats_support_s_last_public_message(
    ticket_a, agent, employee_a, mailoutbox, settings
):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _ask(ticket_a, agent, "An older question", minutes=1)
    _ask(ticket_a, agent, "Which printer is it?\nPlease send its name.", minutes=2)
    _ask(ticket_a, agent, "SECRET-NOTE", internal=True, minutes=3)
    _ask(ticket_a, employee_a, "My own words", minutes=4)
    _waiting(ticket_a, agent)
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        tasks.process_waiting_tickets.delay()
    text, html = mailoutbox[0].body, mailoutbox[0].alternatives[0][0]
    assert "> Which printer is it?\n> Please send its name." in text
    assert "Which printer is it?<br>Please send its name." in html
    for part in (text, html):
        assert "An older question" not in part
        assert "SECRET-NOTE" not in part
        assert "My own words" not in part


def test_the_reminder_cuts_a_long_message(ticket_a, agent, mailoutbox, settings):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _ask(ticket_a, agent, "x" * 990 + " " + "y" * 3000)
    _waiting(ticket_a, agent)
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        tasks.process_waiting_tickets.delay()
    text, html = mailoutbox[0].body, mailoutbox[0].alternatives[0][0]
    for part in (text, html):
        assert "x" * 990 + " " + "y" * 8 + "…" in part
        assert "y" * 10 not in part


def test_a_reminder_without_a_message_of_support_has_no_quote(
    ticket_a, agent, mailoutbox, settings
):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    _waiting(ticket_a, agent)
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        tasks.process_waiting_tickets.delay()
    assert "Our last message" not in mailoutbox[0].body


@pytest.mark.parametrize("count", [2, 12])
def test_reminders_take_the_same_queries_for_any_number_of_tickets(
    make_ticket, employee_a, agent, settings, mailoutbox, count, django_assert_num_queries
):
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    for number in range(count):
        ticket = make_ticket(employee_a, subject=f"Waiting {number}")
        _ask(ticket, agent, f"Question {number}")
        _waiting(ticket, agent)
    later = timezone.now() + timedelta(days=3, hours=1)
    # Tickets to resolve (none), then one batch: read and lock, update, insert, in a savepoint.
    with time_machine.travel(later), django_assert_num_queries(6):
        tasks.process_waiting_tickets.delay()
    assert len(mailoutbox) == count
    assert {m.body.count("> Question") for m in mailoutbox} == {1}


def test_reminders_go_out_in_batches(make_ticket, employee_a, agent, settings, monkeypatch):
    from tickets import services

    monkeypatch.setattr(services, "REMINDER_BATCH_SIZE", 5)
    settings.TICKET_WAITING_REMINDER_DAYS = 3
    for _number in range(12):
        _waiting(make_ticket(employee_a), agent)
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        assert services.process_waiting_tickets() == (12, 0)
        assert services.process_waiting_tickets() == (0, 0)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.REMINDER).count() == 12
