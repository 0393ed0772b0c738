"""Customer replies the reply window held back reach support when it ends, even if no later
reply comes (tickets.tasks.announce_held_back_replies, run by beat every minute)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from conftest import make_user
from tickets import services, tasks
from tickets.models import Status

from .conftest import START

WINDOW = 15 * 60


@pytest.fixture(autouse=True)
def _window(settings):
    settings.TICKET_REPLY_NOTICE_WINDOW = WINDOW


@pytest.fixture
def announce(mailoutbox, django_capture_on_commit_callbacks):
    """announce(seconds after START) -> the emails the task sent then."""

    def run(seconds: int) -> list:
        before = len(mailoutbox)
        with (
            time_machine.travel(START + timedelta(seconds=seconds), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            tasks.announce_held_back_replies.delay()
        return mailoutbox[before:]

    return run


@pytest.fixture
def kim(db):
    return make_user("support.kim", group=roles.SUPPORT_AGENTS)


def test_beat_runs_the_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["tickets-held-back-replies"]
    assert entry["task"] == "tickets.tasks.announce_held_back_replies"
    assert entry["schedule"].minute == set(range(60))
    assert entry["options"]["expires"] < 60  # a late copy gives way to the next one


def test_replies_held_back_are_emailed_when_the_window_ends(customer_replies, announce, agent, kim):
    assert len(customer_replies(0)) == 2
    assert customer_replies(60, body="Held back first") == []
    assert customer_replies(120, body="Held back last") == []
    assert announce(WINDOW - 1) == []
    emails = announce(WINDOW)
    assert sorted(m.to[0] for m in emails) == sorted([agent.email, kim.email])
    for part in (emails[0].body, emails[0].alternatives[0][0]):
        assert "which nobody is assigned to" in part
        assert "Held back last" in part
        assert (
            "Since the last email about this ticket, 1 more reply came in before this one: "
            "open the ticket to read it." in part
        )
    assert announce(WINDOW + 30) == []  # once
    # The next window runs from that email, like a reply's.
    assert customer_replies(WINDOW + 60, body="And now?") == []
    assert announce(2 * WINDOW - 1) == []
    [email, _] = announce(2 * WINDOW)
    assert "And now?" in email.body
    assert "more repl" not in email.body


def test_the_email_says_when_the_reply_it_quotes_came_in(customer_replies, announce, agent):
    """Sent when the window ends, up to TICKET_REPLY_NOTICE_WINDOW after the reply it quotes:
    the agent reads when the customer wrote it (in the agent's time zone), not only that
    they did."""
    agent.time_zone = "America/Bogota"
    agent.save(update_fields=["time_zone"])
    customer_replies(0)
    customer_replies(120, body="Held back")
    [email] = [m for m in announce(WINDOW) if m.to == [agent.email]]
    # START + 120 s is 09:02 UTC, 04:02 in Bogotá (UTC-5).
    for part in (email.body, email.alternatives[0][0]):
        assert "March 2, 2026, 4:02 a.m. (UTC-05)" in part


def test_a_reply_after_the_window_announces_the_held_back_ones_itself(
    customer_replies, announce, agent
):
    customer_replies(0)
    assert customer_replies(60) == []
    [email] = customer_replies(WINDOW + 10, body="Hello?")
    assert "1 more reply came in before this one" in email.body
    assert announce(WINDOW + 20) == []


@pytest.mark.parametrize(("internal", "announced"), [(False, 0), (True, 1)])
def test_supports_answer_ends_the_wait_a_note_does_not(
    customer_replies, announce, ticket_a, agent, internal, announced
):
    customer_replies(0)
    assert customer_replies(60) == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        services.add_reply(ticket_a, agent, "Which printer?", internal=internal)
    assert len(announce(WINDOW)) == announced


def test_the_assignee_learns_of_replies_held_back_before_the_assignment(
    customer_replies, announce, ticket_a, agent, kim
):
    """Nobody was emailed about them, and the assignee is emailed only about replies that come
    after the assignment: the window's end tells the assignee alone."""
    customer_replies(0)
    assert customer_replies(60, body="Held back") == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        ticket_a.assign(agent, kim)
    [email] = announce(WINDOW)
    assert email.to == [agent.email]
    assert "assigned to you" in email.body
    assert "Held back" in email.body
    assert announce(WINDOW + 60) == []
    [email] = customer_replies(WINDOW + 120, body="Any news?")
    assert email.to == [agent.email]
    assert "more repl" not in email.body


def test_the_assignees_next_reply_email_counts_the_replies_held_back(
    customer_replies, announce, ticket_a, agent
):
    customer_replies(0)
    assert customer_replies(60) == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        ticket_a.assign(agent, agent)
    [email] = customer_replies(180, body="Any news?")
    assert email.to == [agent.email]
    assert "1 more reply came in before this one" in email.body
    assert announce(WINDOW) == []


def test_the_task_reads_any_number_of_tickets_in_the_same_queries(
    make_ticket, employee_a, agent, announce
):
    def hold_back(count: int, *, replies: int) -> list:
        tickets = [make_ticket(employee_a) for _ in range(count)]
        for ticket in tickets:
            for seconds in range(replies + 1):
                with time_machine.travel(START + timedelta(seconds=seconds), tick=False):
                    services.add_reply(ticket, employee_a, f"Reply {seconds} on {ticket.reference}")
        return tickets

    def announced_with_queries() -> tuple[list, int]:
        with CaptureQueriesContext(connection) as captured:
            emails = announce(WINDOW)
        return emails, len(captured)

    hold_back(1, replies=1)
    _, queries = announced_with_queries()
    tickets = hold_back(3, replies=2)
    emails, more_queries = announced_with_queries()
    assert more_queries == queries
    for ticket, email in zip(tickets, emails, strict=True):
        assert f"Reply 2 on {ticket.reference}" in email.body
        assert "1 more reply came in before this one" in email.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_two_runs_at_once_email_support_once(employee_a, agent, mailoutbox):
    """Two beat runs, or one task delivered twice: the rows each run locks are skipped by the
    other, which finds them no longer due once the first commits."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tickets.models import Category

    # An earlier transactional test's flush may have removed the migration's categories.
    category, _ = Category.objects.get_or_create(code="other", defaults={"name": "Other"})
    tickets = [
        services.create_ticket(
            requester=employee_a,
            category=category,
            subject=f"Mail is down {number}",
            description="Outlook says disconnected.",
            impact="low",
            urgency="low",
            notify=False,
        )
        for number in range(5)
    ]
    for seconds in (0, 60):
        with time_machine.travel(START + timedelta(seconds=seconds), tick=False):
            for ticket in tickets:
                services.add_reply(ticket, employee_a, "Hello")
    mailoutbox.clear()
    start = Barrier(3)

    def run(_: int) -> int:
        try:
            start.wait()
            return services.announce_held_back_replies()
        finally:
            connection.close()

    with (
        time_machine.travel(START + timedelta(seconds=WINDOW), tick=False),
        ThreadPoolExecutor(max_workers=3) as pool,
    ):
        assert sum(pool.map(run, range(3))) == len(tickets)
    assert len(mailoutbox) == len(tickets)
    assert all(m.to == [agent.email] for m in mailoutbox)


def _resolve_by_triage(ticket, agent):
    services.triage(
        ticket,
        agent,
        assignee=None,
        priority=ticket.priority,
        category=ticket.category,
        status=Status.RESOLVED,
    )


def _resolve_by_bulk_bar(ticket, agent):
    services.bulk_update(
        [ticket], agent, action="status", seen={ticket.pk: (None, ticket.status)}, status="resolved"
    )


def _resolve_by_reply(ticket, agent):
    services.add_reply(ticket, agent, "Fixed on our side.", status=Status.RESOLVED)


def _close_after_the_customer_resolved(ticket, agent):
    services.change_status(ticket, Status.RESOLVED, ticket.requester)
    services.change_status(ticket, Status.CLOSED, agent)


@pytest.mark.parametrize(
    "handle",
    [
        _resolve_by_triage,
        _resolve_by_bulk_bar,
        _resolve_by_reply,
        _close_after_the_customer_resolved,
    ],
    ids=["triage", "bulk-bar", "reply", "closed"],
)
def test_replies_support_resolved_or_closed_the_ticket_after_are_never_announced(
    customer_replies, announce, ticket_a, agent, kim, handle
):
    """Resolving or closing a ticket answers the customer, like a reply: the replies held back
    before were handled. Support is not emailed about them when the window ends, and the reply
    that reopens the ticket is news without counting them."""
    customer_replies(0)
    assert customer_replies(60, body="Held back") == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        handle(ticket_a, agent)
    ticket_a.refresh_from_db()
    assert not ticket_a.is_open
    assert announce(WINDOW) == []
    if ticket_a.status == Status.RESOLVED:
        emails = customer_replies(WINDOW + 60, body="Still broken")
        assert sorted(m.to[0] for m in emails) == sorted([agent.email, kim.email])
        for email in emails:
            assert "this reply reopened it" in email.body
            assert "Still broken" in email.body
            assert "more repl" not in email.body
            assert "Held back" not in email.body


def test_replies_held_back_before_the_customer_resolved_the_ticket_are_announced_saying_so(
    customer_replies, announce, ticket_a, employee_a, agent, kim
):
    """The customer's own "my problem is solved" is no answer from support: nobody in support
    was told of the replies before it, so they are emailed when the window ends, with the
    ticket's status now (there may be nothing left to do)."""
    customer_replies(0)
    assert customer_replies(60, body="It was the cable") == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        services.change_status(ticket_a, Status.RESOLVED, employee_a)
    emails = announce(WINDOW)
    assert sorted(m.to[0] for m in emails) == sorted([agent.email, kim.email])
    changed = "Since this reply, the ticket’s status has changed to “Resolved”, not by support"
    for part in (emails[0].body, emails[0].alternatives[0][0]):
        assert "It was the cable" in part
        assert changed in part
    assert announce(WINDOW + 60) == []


def test_a_move_that_leaves_the_ticket_open_keeps_the_replies_held_back(
    customer_replies, announce, ticket_a, agent
):
    """Only an answer to the customer ends the window: moving the ticket along (here to
    "waiting") without one, the replies are still announced, without a status line."""
    customer_replies(0)
    assert customer_replies(60, body="Held back") == []
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        services.change_status(ticket_a, Status.WAITING, agent)
    [email] = announce(WINDOW)
    assert "Held back" in email.body
    assert "status has changed" not in email.body
