from __future__ import annotations

from accounts.tests.manage_helpers import sign_in_verified
from tickets.models import Category, Priority, Status, TicketEvent


def url(ticket) -> str:
    return f"/support/tickets/{ticket.pk}/triage/"


def _data(ticket, **extra):
    return {
        "assignee": "",
        "priority": ticket.priority,
        "category": ticket.category_id,
        "status": ticket.status,
        **extra,
    }


def test_anonymous_is_sent_to_sign_in(client, ticket_a):
    assert client.post(url(ticket_a), _data(ticket_a)).status_code == 302


def test_customers_get_403(client, ticket_a, employee_a, manager_a):
    for user in (employee_a, manager_a):
        client.force_login(user)
        assert client.post(url(ticket_a), _data(ticket_a, status="closed")).status_code == 403


def test_get_is_405(client, ticket_a, agent):
    sign_in_verified(client, agent)
    assert client.get(url(ticket_a)).status_code == 405


def test_an_unknown_ticket_is_404(client, agent):
    sign_in_verified(client, agent)
    assert client.post("/support/tickets/999/triage/", {}).status_code == 404


def test_agents_assign_prioritise_categorise_and_move(client, ticket_a, agent):
    other = Category.objects.get(code="applications")
    sign_in_verified(client, agent)
    response = client.post(
        url(ticket_a),
        _data(
            ticket_a,
            assignee=agent.pk,
            priority=Priority.CRITICAL,
            category=other.pk,
            status=Status.IN_PROGRESS,
        ),
    )
    assert response.status_code == 302
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == agent
    assert ticket_a.priority == Priority.CRITICAL
    assert ticket_a.category == other
    assert ticket_a.status == Status.IN_PROGRESS
    kinds = set(ticket_a.events.values_list("kind", flat=True))
    assert {"assigned", "priority", "category", "status"} <= kinds
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert "Assignee changed" in content and "support.sam" in content


def test_an_invalid_move_is_refused_with_a_message(client, ticket_a, agent):
    sign_in_verified(client, agent)
    response = client.post(url(ticket_a), _data(ticket_a, status=Status.CLOSED), follow=True)
    assert "cannot change from" in response.content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW


def test_a_bad_value_is_a_form_error(client, ticket_a, agent):
    sign_in_verified(client, agent)
    assert client.post(url(ticket_a), _data(ticket_a, priority=9)).status_code == 400


def test_a_public_reply_emails_the_requester_and_counts_as_first_response(
    client, ticket_a, agent, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tickets/{ticket_a.pk}/reply/", {"body": "Please restart"})
    assert [m.to for m in mailoutbox] == [[employee_a.email]]
    assert "Please restart" in mailoutbox[0].body
    ticket_a.refresh_from_db()
    assert ticket_a.first_responded_at is not None


def test_internal_notes_are_never_emailed(
    client, ticket_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_a.assign(agent, agent)
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tickets/{ticket_a.pk}/reply/", {"body": "SECRET-NOTE", "internal": "on"})
        client.post(f"/tickets/{ticket_a.pk}/reply/", {"body": "Public"})
    ticket_a.refresh_from_db()
    assert ticket_a.events.filter(kind=TicketEvent.Kind.NOTE).exists()
    assert ticket_a.first_responded_at is not None
    assert len(mailoutbox) == 1
    for message in mailoutbox:
        assert "SECRET-NOTE" not in message.body
        assert "SECRET-NOTE" not in message.alternatives[0][0]


def test_resolving_emails_the_requester(
    client, ticket_a, agent, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a), _data(ticket_a, status=Status.RESOLVED))
    assert [m.to for m in mailoutbox] == [[employee_a.email]]
    assert "resolved" in mailoutbox[0].subject


def test_emails_use_the_requester_language(
    client, ticket_a, agent, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    employee_a.preferred_language = "de"
    employee_a.save()
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tickets/{ticket_a.pk}/reply/", {"body": "Hallo"})
    assert len(mailoutbox) == 1


def test_the_triage_form_offers_the_agents_with_the_current_one_selected(
    client, ticket_a, agent, provider_admin
):
    ticket_a.assignee = agent
    ticket_a.save(update_fields=["assignee"])
    sign_in_verified(client, agent)
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert f'<option value="{agent.pk}" selected>{agent.get_full_name()}</option>' in content
    assert (
        f'<option value="{provider_admin.pk}">{provider_admin.get_full_name()}</option>' in content
    )


def test_an_invalid_triage_shows_the_agents_again(client, ticket_a, agent):
    sign_in_verified(client, agent)
    response = client.post(url(ticket_a), _data(ticket_a, priority="9"))
    assert response.status_code == 400
    assert f'<option value="{agent.pk}">{agent.get_full_name()}</option>' in response.text


def test_only_agents_can_be_assigned(client, ticket_a, agent, employee_a):
    sign_in_verified(client, agent)
    response = client.post(url(ticket_a), _data(ticket_a, assignee=employee_a.pk))
    assert response.status_code == 400
    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None


def test_the_category_choice_has_no_blank_option(client, ticket_a, agent):
    sign_in_verified(client, agent)
    html = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    select = html[html.index('name="category"') :]
    select = select[: select.index("</select>")]
    assert "---------" not in select


def test_an_agent_is_not_emailed_about_their_own_ticket(
    client, make_ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    own = make_ticket(agent)
    sign_in_verified(client, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tickets/{own.pk}/reply/", {"body": "Noting this for myself"})
        client.post(url(own), _data(own, status=Status.RESOLVED))
    own.refresh_from_db()
    assert own.status == Status.RESOLVED
    assert mailoutbox == []


def test_triage_keeps_what_changed_since_the_page_loaded_the_ticket(ticket_a, agent):
    """A customer's reply meanwhile set the reply window's due time: a priority change from a
    page loaded before must not write the page's old copy over it."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets import services
    from tickets.models import Ticket

    stale = Ticket.objects.get(pk=ticket_a.pk)
    due = timezone.now() + timedelta(minutes=10)
    Ticket.objects.filter(pk=ticket_a.pk).update(support_notice_due_at=due)
    services.triage(
        stale,
        agent,
        assignee=None,
        priority=Priority.CRITICAL,
        category=stale.category,
        status=stale.status,
    )
    ticket_a.refresh_from_db()
    assert ticket_a.priority == Priority.CRITICAL
    assert ticket_a.support_notice_due_at == due
