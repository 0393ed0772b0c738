"""One word per audience: customers report and follow "incidents" (the word of the provider's
help pages), support staff work on "tickets" in their queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.manage_helpers import sign_in_verified
from tickets import services
from tickets.models import Status

TICKET = re.compile(r"\bticket", re.IGNORECASE)
INCIDENT = re.compile(r"\bincident", re.IGNORECASE)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def customer_pages(client, make_ticket, employee_a, agent):
    """The pages a customer sees, in every state of an incident."""
    for number in range(7):  # more than the dashboard card shows: it gives a total
        make_ticket(employee_a, subject=f"Open {number}")
    resolved = make_ticket(employee_a, subject="Resolved one")
    resolved.move_to(Status.RESOLVED, agent)
    closed = make_ticket(employee_a, subject="Closed one")
    closed.move_to(Status.RESOLVED, agent)
    closed.move_to(Status.CLOSED, agent)
    client.force_login(employee_a)
    paths = {
        "dashboard": "/dashboard/",
        "list": "/tickets/",
        "empty list": "/tickets/?q=nothing-matches",
        "new": "/tickets/new/",
        "resolved": f"/tickets/{resolved.pk}/",
        "closed": f"/tickets/{closed.pk}/",
    }
    pages = {name: client.get(path).content.decode() for name, path in paths.items()}
    refused = client.post(f"/tickets/{closed.pk}/resolve/", follow=True)
    pages["refused"] = refused.content.decode()
    solved = client.post(f"/tickets/{make_ticket(employee_a).pk}/resolve/", follow=True)
    pages["solved"] = solved.content.decode()
    return pages


def test_customers_read_incident_everywhere(customer_pages):
    for name, html in customer_pages.items():
        text = visible_text(html)
        assert not TICKET.search(text), (name, TICKET.findall(text))
    assert "My incidents" in customer_pages["dashboard"]
    assert "7 open incidents in total" in customer_pages["dashboard"]
    assert "No incidents found." in customer_pages["empty list"]
    assert "This incident is resolved." in customer_pages["resolved"]
    assert "This incident is closed." in customer_pages["closed"]
    assert "The status cannot change from" in customer_pages["refused"]
    assert "The incident is resolved." in customer_pages["solved"]


def test_a_reply_on_a_closed_incident_says_incident(make_ticket, employee_a, agent):
    from tickets.models import WorkflowError

    ticket = make_ticket(employee_a)
    ticket.move_to(Status.RESOLVED, agent)
    later = timezone.now() + timedelta(days=30)
    with time_machine.travel(later), pytest.raises(WorkflowError, match="This incident is closed"):
        services.add_reply(ticket, employee_a, "Still broken")


def test_agents_are_told_of_new_tickets(
    client, employee_a, agent, category, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.create_ticket(
            requester=employee_a,
            category=category,
            subject="Everything is down",
            description="All of it.",
            impact="high",
            urgency="high",
        )
    email = mailoutbox[0]
    for part in (email.subject, email.body, email.alternatives[0][0]):
        assert TICKET.search(part)
        assert not INCIDENT.search(part)


def test_the_queue_says_ticket(client, make_ticket, employee_a, agent):
    make_ticket(employee_a)
    sign_in_verified(client, agent)
    text = visible_text(client.get("/support/").content.decode())
    assert not INCIDENT.search(text)


def test_the_status_filters_all_is_not_the_event_filters_all(
    client, make_ticket, employee_a, agent
):
    """Spanish "Todos" agrees with "eventos" (the security log's filter); the status filters
    list incidents ("Todas"), so their "All" is a message of its own (context "incidents")."""
    from django.conf import settings
    from django.utils import translation

    from accounts.company_forms import SecurityLogFilterForm

    with translation.override("es"):
        events_all = str(dict(SecurityLogFilterForm.base_fields["kind"].choices)[""])
    assert events_all == "Todos"
    make_ticket(employee_a)
    pages = {"list": (employee_a, "/tickets/"), "queue": (agent, "/support/")}
    for name, (user, path) in pages.items():
        sign_in_verified(client, user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
        html = client.get(path).content.decode()
        assert 'lang="es"' in html, name
        status_select = re.search(r'<select name="status".*?</select>', html, re.S)[0]
        assert f">{events_all}</option>" not in status_select, name
