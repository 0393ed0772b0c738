"""Support staff answer and move the ticket on in one step: the reply form's "After sending"."""

from __future__ import annotations

import re

import pytest

from accounts.tests.manage_helpers import sign_in_verified
from tickets import services
from tickets.models import Message, Status, TicketEvent, WorkflowError


def reply(ticket) -> str:
    return f"/tickets/{ticket.pk}/reply/"


def _status_select(content: str) -> str:
    return content.split('name="status" id="reply_status"')[1].split("</select>")[0]


def test_the_first_public_reply_moves_a_new_ticket_to_in_progress(client, ticket_a, agent):
    sign_in_verified(client, agent)
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    select = _status_select(content)
    assert re.search(r'<option value="in_progress" selected>In progress</option>', select)
    assert "Keep the status (New)" in select
    client.post(reply(ticket_a), {"body": "We are on it.", "status": "in_progress"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.first_responded_at is not None
    kinds = list(ticket_a.events.values_list("kind", flat=True))
    assert kinds == ["created", "reply", "status"]


def test_without_a_choice_a_public_reply_moves_a_new_ticket_but_a_note_does_not(
    ticket_a, make_ticket, employee_a, agent
):
    services.add_reply(ticket_a, agent, "Checking the logs.", internal=True)
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
    services.add_reply(ticket_a, agent, "We are on it.")
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS


def test_the_agent_may_keep_a_new_ticket_new(client, ticket_a, agent):
    sign_in_verified(client, agent)
    client.post(reply(ticket_a), {"body": "Quick hint.", "status": ""})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
    assert ticket_a.first_responded_at is not None


def test_other_tickets_keep_their_status_by_default(client, ticket_a, agent):
    ticket_a.move_to(Status.WAITING, agent)
    sign_in_verified(client, agent)
    select = _status_select(client.get(f"/tickets/{ticket_a.pk}/").content.decode())
    assert '<option value="" selected>Keep the status (Waiting for customer)</option>' in select
    assert 'value="waiting"' not in select  # where it is already
    client.post(reply(ticket_a), {"body": "Any news?", "status": ""})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.WAITING


def test_asking_the_customer_sets_waiting_with_one_email(
    client, ticket_a, agent, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reply(ticket_a), {"body": "Which printer is it?", "status": "waiting"}
        )
    assert response.status_code == 302
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.WAITING
    assert ticket_a.waiting_since is not None
    assert [m.to for m in mailoutbox] == [[employee_a.email]]
    assert "Which printer is it?" in mailoutbox[0].body


def test_resolving_with_a_reply_sends_one_email_with_the_answer(
    client, ticket_a, agent, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reply(ticket_a), {"body": "Fixed the mailbox quota.", "status": "resolved"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.RESOLVED
    assert ticket_a.resolved_at is not None
    [email] = mailoutbox
    assert "resolved" in email.subject
    for part in (email.body, email.alternatives[0][0]):
        assert "Fixed the mailbox quota." in part
        assert "within 14 days to reopen it" in part


@pytest.mark.parametrize("status", ["waiting", "resolved"])
def test_an_internal_note_cannot_wait_for_or_resolve(
    client, ticket_a, agent, mailoutbox, django_capture_on_commit_callbacks, status
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reply(ticket_a), {"body": "NOTE-TEXT", "internal": "on", "status": status}
        )
    assert response.status_code == 400
    content = response.content.decode()
    assert "An internal note is not sent to the customer" in content
    assert "NOTE-TEXT" in content  # the note is not lost
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
    assert not Message.objects.filter(body="NOTE-TEXT").exists()
    assert mailoutbox == []
    with pytest.raises(WorkflowError):
        services.add_reply(ticket_a, agent, "NOTE-TEXT", internal=True, status=status)


def test_an_internal_note_may_start_the_work(
    client, ticket_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reply(ticket_a), {"body": "On it", "internal": "on", "status": "in_progress"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.first_responded_at is None  # the customer has not heard from support
    assert mailoutbox == []


@pytest.mark.parametrize("status", ["new", "closed", "nonsense"])
def test_a_status_the_workflow_does_not_offer_is_a_form_error(client, ticket_a, agent, status):
    sign_in_verified(client, agent)
    assert client.post(reply(ticket_a), {"body": "x", "status": status}).status_code == 400
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
    assert not Message.objects.filter(body="x").exists()


def test_a_reply_reopens_a_closed_ticket_only_when_chosen(client, ticket_a, agent):
    for status in (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED):
        ticket_a.move_to(status, agent)
    sign_in_verified(client, agent)
    select = _status_select(client.get(f"/tickets/{ticket_a.pk}/").content.decode())
    assert re.findall(r'value="(\w*)"', select) == ["", "in_progress"]
    client.post(reply(ticket_a), {"body": "One more thing.", "status": ""})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.CLOSED
    client.post(reply(ticket_a), {"body": "Reopening.", "status": "in_progress"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.events.filter(kind=TicketEvent.Kind.REOPENED, actor=agent).exists()


def test_the_reply_and_triage_forms_have_their_own_status_select(client, ticket_a, agent):
    sign_in_verified(client, agent)
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert content.count('id="id_status"') == content.count('id="reply_status"') == 1
    assert '<label for="reply_status">After sending</label>' in content


def test_customers_choose_no_status(client, ticket_a, employee_a):
    client.force_login(employee_a)
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert "After sending" not in content
    client.post(reply(ticket_a), {"body": "More detail", "status": "resolved"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
