from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tickets.models import (
    Impact,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    Urgency,
    WorkflowError,
    priority_for,
)


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        (Impact.HIGH, Urgency.HIGH, Priority.CRITICAL),
        (Impact.HIGH, Urgency.LOW, Priority.MEDIUM),
        (Impact.MEDIUM, Urgency.HIGH, Priority.HIGH),
        (Impact.LOW, Urgency.HIGH, Priority.MEDIUM),
        (Impact.LOW, Urgency.LOW, Priority.LOW),
    ],
)
def test_priority_follows_from_impact_and_urgency(impact, urgency, priority):
    assert priority_for(impact, urgency) == priority


def test_every_impact_and_urgency_has_a_priority():
    for impact in Impact.values:
        for urgency in Urgency.values:
            assert priority_for(impact, urgency) in Priority.values


def test_a_ticket_gets_a_reference_from_its_primary_key(ticket_a):
    assert ticket_a.reference == f"INC-{ticket_a.pk:06d}"
    ticket_a.refresh_from_db()
    assert ticket_a.reference == f"INC-{ticket_a.pk:06d}"


def test_references_are_unique_across_many_tickets(make_ticket, employee_a):
    tickets = [make_ticket(employee_a) for _ in range(30)]
    assert len({t.reference for t in tickets}) == 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_references_are_unique_when_created_concurrently(company_a):
    from conftest import make_user
    from tickets import services
    from tickets.models import Category

    user = make_user("c10001.cc", company=company_a)
    category, _ = Category.objects.get_or_create(code="other", defaults={"name": "Other"})

    def create(_):
        try:
            return services.create_ticket(
                requester=user,
                category=category,
                subject="x",
                description="y",
                impact="low",
                urgency="low",
                notify=False,
            ).reference
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(create, range(40)))
    assert len(set(references)) == 40


def test_service_levels_follow_the_priority(make_ticket, employee_a, settings):
    ticket = make_ticket(employee_a, impact="high", urgency="high")
    assert ticket.priority == Priority.CRITICAL
    assert ticket.first_response_due == ticket.created_at + timedelta(hours=1)
    assert ticket.resolution_due == ticket.created_at + timedelta(hours=8)


def test_changing_the_priority_recomputes_due_times(ticket_a, agent):
    ticket_a.set_priority(Priority.CRITICAL, agent)
    assert ticket_a.resolution_due == ticket_a.created_at + timedelta(hours=8)
    assert ticket_a.events.filter(kind=TicketEvent.Kind.PRIORITY).exists()


def test_staff_moves_along_the_workflow(ticket_a, agent):
    for status in [Status.IN_PROGRESS, Status.WAITING, Status.IN_PROGRESS, Status.RESOLVED]:
        ticket_a.move_to(status, agent)
    ticket_a.move_to(Status.CLOSED, agent)
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.CLOSED
    assert ticket_a.closed_at is not None
    assert ticket_a.events.filter(kind=TicketEvent.Kind.STATUS).count() == 5


@pytest.mark.parametrize(
    ("start", "target"),
    [(Status.NEW, Status.CLOSED), (Status.WAITING, Status.CLOSED), (Status.CLOSED, Status.NEW)],
)
def test_invalid_moves_are_refused(ticket_a, agent, start, target):
    Ticket.objects.filter(pk=ticket_a.pk).update(status=start)
    ticket_a.refresh_from_db()
    with pytest.raises(WorkflowError):
        ticket_a.move_to(target, agent)
    ticket_a.refresh_from_db()
    assert ticket_a.status == start


def test_staff_can_reopen_a_closed_ticket(ticket_a, agent):
    ticket_a.move_to(Status.RESOLVED, agent)
    ticket_a.move_to(Status.CLOSED, agent)
    ticket_a.move_to(Status.IN_PROGRESS, agent)
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.resolved_at is None
    assert ticket_a.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_customers_may_only_resolve_an_open_ticket(ticket_a, employee_a):
    with pytest.raises(WorkflowError):
        ticket_a.move_to(Status.WAITING, employee_a)
    ticket_a.move_to(Status.RESOLVED, employee_a)
    assert ticket_a.status == Status.RESOLVED


def test_customers_may_reopen_within_the_reopen_window(ticket_a, employee_a, settings):
    settings.TICKET_REOPEN_DAYS = 14
    ticket_a.move_to(Status.RESOLVED, employee_a)
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        assert ticket_a.allowed_moves(employee_a) == (Status.IN_PROGRESS,)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert ticket_a.allowed_moves(employee_a) == ()
        with pytest.raises(WorkflowError):
            ticket_a.move_to(Status.IN_PROGRESS, employee_a)


def test_customers_cannot_reopen_a_closed_ticket(ticket_a, employee_a, agent):
    ticket_a.move_to(Status.RESOLVED, agent)
    ticket_a.move_to(Status.CLOSED, agent)
    with pytest.raises(WorkflowError):
        ticket_a.move_to(Status.IN_PROGRESS, employee_a)


def test_employees_see_only_their_own_tickets(make_ticket, employee_a, employee_a2):
    own = make_ticket(employee_a)
    make_ticket(employee_a2)
    assert list(Ticket.objects.visible_to(employee_a)) == [own]


def test_security_managers_see_their_company_tickets(
    make_ticket, manager_a, employee_a, employee_a2, employee_b
):
    mine = {make_ticket(employee_a).pk, make_ticket(employee_a2).pk}
    make_ticket(employee_b)
    assert set(Ticket.objects.visible_to(manager_a).values_list("pk", flat=True)) == mine


def test_agents_and_admins_see_all_tickets(
    make_ticket, employee_a, employee_b, agent, provider_admin
):
    make_ticket(employee_a)
    make_ticket(employee_b)
    assert Ticket.objects.visible_to(agent).count() == 2
    assert Ticket.objects.visible_to(provider_admin).count() == 2


def test_anonymous_sees_nothing(ticket_a):
    from django.contrib.auth.models import AnonymousUser

    assert not Ticket.objects.visible_to(AnonymousUser()).exists()


def test_open_excludes_resolved_and_closed(make_ticket, employee_a, agent):
    open_ticket = make_ticket(employee_a)
    done = make_ticket(employee_a)
    done.move_to(Status.RESOLVED, agent)
    assert list(Ticket.objects.open()) == [open_ticket]


def test_overdue_tickets_are_found(make_ticket, employee_a):
    ticket = make_ticket(employee_a, impact="high", urgency="high")
    later = timezone.now() + timedelta(hours=2)
    assert list(Ticket.objects.overdue(later)) == [ticket]
    assert ticket.is_overdue(later)
    assert not Ticket.objects.overdue().exists()


def test_a_waiting_ticket_is_not_overdue(make_ticket, employee_a, agent):
    ticket = make_ticket(employee_a, impact="high", urgency="high")
    ticket.move_to(Status.WAITING, agent)
    later = timezone.now() + timedelta(days=2)
    assert not Ticket.objects.overdue(later).exists()
    assert not ticket.is_overdue(later)


def test_default_categories_have_translated_labels(db):
    from django.utils import translation

    from tickets.models import Category

    category = Category.objects.get(code="login_identity")
    assert str(category.label) == "Login and identity"
    assert Category.objects.count() == 5
    with translation.override("de"):
        assert isinstance(str(category.label), str)


def test_a_staff_made_category_shows_its_name(db):
    from tickets.models import Category

    category = Category.objects.create(code="network", name="Network")
    assert category.label == "Network"
