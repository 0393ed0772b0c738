from __future__ import annotations

import pytest

from accounts import roles
from conftest import make_user, with_strong_factor
from tickets.models import Attachment, Priority, Ticket, TicketEvent

from .conftest import PDF, PNG, upload

URL = "/tickets/new/"


def _data(category, **extra):
    return {
        "subject": "VPN down",
        "description": "Since 9:00 nothing connects.",
        "category": category.pk,
        "impact": "medium",
        "urgency": "high",
        **extra,
    }


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_it_shows_the_form(client, employee_a):
    client.force_login(employee_a)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Login and identity" in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_creates_a_ticket_with_priority_and_reference(client, employee_a, category):
    client.force_login(employee_a)
    response = client.post(URL, _data(category))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert ticket.reference.startswith("INC-")
    assert ticket.priority == Priority.HIGH
    assert ticket.requester == employee_a
    assert ticket.company == employee_a.company
    assert ticket.events.filter(kind=TicketEvent.Kind.CREATED).exists()


def test_it_stores_attachments_under_media_root(client, employee_a, category, settings):
    client.force_login(employee_a)
    files = [upload("screen.png", PNG), upload("log.pdf", PDF)]
    client.post(URL, {**_data(category), "attachments": files})
    attachments = list(Attachment.objects.order_by("id"))
    assert [a.content_type for a in attachments] == ["image/png", "application/pdf"]
    assert attachments[0].original_name == "screen.png"
    path = attachments[0].file.path
    assert path.startswith(str(settings.MEDIA_ROOT))
    assert "screen" not in path


def test_it_refuses_a_file_whose_content_is_not_allowed(client, employee_a, category):
    client.force_login(employee_a)
    files = [upload("tool.png", b"MZ\x90\x00 this is an exe")]
    response = client.post(URL, {**_data(category), "attachments": files})
    assert response.status_code == 400
    assert "not a file type we accept" in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(client, employee_a, category, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 100
    client.force_login(employee_a)
    files = [upload("big.png", PNG + b"\x00" * 200)]
    response = client.post(URL, {**_data(category), "attachments": files})
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


def test_it_refuses_more_than_five_files(client, employee_a, category):
    client.force_login(employee_a)
    files = [upload(f"s{i}.png") for i in range(6)]
    response = client.post(URL, {**_data(category), "attachments": files})
    assert response.status_code == 400
    assert "at most 5 files" in response.content.decode()
    assert not Ticket.objects.exists()


def test_missing_fields_are_form_errors(client, employee_a):
    client.force_login(employee_a)
    response = client.post(URL, {"subject": ""})
    assert response.status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("impact", "emails"), [("high", 1), ("low", 0)])
def test_agents_hear_of_new_high_priority_tickets(
    client,
    employee_a,
    agent,
    category,
    mailoutbox,
    django_capture_on_commit_callbacks,
    impact,
    emails,
):
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _data(category, impact=impact, urgency="high"))
    assert len(mailoutbox) == emails
    if emails:
        assert mailoutbox[0].to == [agent.email]
        assert Ticket.objects.get().reference in mailoutbox[0].subject


def test_an_agent_reporting_a_high_priority_ticket_is_not_told_of_it(
    client, agent, category, mailoutbox, django_capture_on_commit_callbacks
):
    colleague = with_strong_factor(make_user("support.kim", group=roles.SUPPORT_AGENTS))
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _data(category, impact="high", urgency="high"))
    assert Ticket.objects.get().requester == agent
    assert [m.to for m in mailoutbox] == [[colleague.email]]
