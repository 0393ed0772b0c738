from __future__ import annotations

from django.utils.html import strip_tags

from accounts import roles
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user, with_strong_factor
from tickets.models import Status, TicketEvent


def url(ticket) -> str:
    return f"/support/tickets/{ticket.pk}/assign-to-me/"


def test_anonymous_is_sent_to_sign_in(client, ticket_a):
    assert client.post(url(ticket_a)).status_code == 302


def test_customers_get_403(client, ticket_a, employee_a, manager_a):
    for user in (employee_a, manager_a):
        client.force_login(user)
        assert client.post(url(ticket_a)).status_code == 403
    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None


def test_get_is_405(client, ticket_a, agent):
    sign_in_verified(client, agent)
    assert client.get(url(ticket_a)).status_code == 405


def test_an_unknown_ticket_is_404(client, agent):
    sign_in_verified(client, agent)
    assert client.post("/support/tickets/999/assign-to-me/").status_code == 404


def test_it_assigns_the_ticket_to_the_agent_and_records_it(client, ticket_a, agent):
    sign_in_verified(client, agent)
    response = client.post(url(ticket_a), follow=True)
    assert response.redirect_chain[-1][0] == f"/tickets/{ticket_a.pk}/"
    assert f"{ticket_a.reference} is assigned to you." in strip_tags(response.content.decode())
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == agent
    event = ticket_a.events.get(kind=TicketEvent.Kind.ASSIGNED)
    assert (event.actor, event.data) == (agent, {"old": "", "new": agent.username})
    # Taking a ticket is not an answer: it stays new until the customer hears from support.
    assert ticket_a.status == Status.NEW


def test_it_takes_a_ticket_over_from_a_colleague(client, ticket_a, agent):
    colleague = with_strong_factor(make_user("support.kim", group=roles.SUPPORT_AGENTS))
    ticket_a.assign(colleague, colleague)
    sign_in_verified(client, agent)
    page = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert f'name="assignee_seen" value="{colleague.pk}"' in page  # the page showed Kim
    client.post(url(ticket_a), {"assignee_seen": str(colleague.pk)})
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == agent


def test_the_button_shows_unless_the_ticket_is_the_viewers(client, ticket_a, agent):
    sign_in_verified(client, agent)
    content = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert f'action="{url(ticket_a)}"' in content
    ticket_a.assign(agent, agent)
    assert "assign-to-me" not in client.get(f"/tickets/{ticket_a.pk}/").content.decode()


def test_customers_do_not_see_the_button(client, ticket_a, employee_a):
    client.force_login(employee_a)
    assert "assign-to-me" not in client.get(f"/tickets/{ticket_a.pk}/").content.decode()


def test_staff_whom_no_assignee_list_offers_cannot_take_a_ticket(client, ticket_a):
    """A superuser outside the agents' and admins' groups may work in /support/, but tickets
    are assigned only to agents_queryset(): the triage form beside the ticket would not offer
    them, so its next save would unassign the ticket without anyone choosing that."""
    root = with_strong_factor(make_user("root.admin", is_staff=True, is_superuser=True))
    sign_in_verified(client, root)
    assert "assign-to-me" not in client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert client.post(url(ticket_a)).status_code == 403
    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None
    assert not ticket_a.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_a_ticket_taken_meanwhile_by_another_agent_is_not_taken_over_unseen(
    client, ticket_a, agent
):
    """Two agents click at once on an unassigned ticket: the second is told, not assigned."""
    colleague = with_strong_factor(
        make_user("support.kim", group=roles.SUPPORT_AGENTS, is_staff=True, first_name="Kim")
    )
    sign_in_verified(client, agent)
    page = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    assert 'name="assignee_seen" value=""' in page
    ticket_a.assign(colleague, colleague)  # the colleague's click came first
    response = client.post(url(ticket_a), {"assignee_seen": ""}, follow=True)
    assert "took this ticket a moment ago." in response.content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == colleague
    # Seen assigned to the colleague, taking it over is a choice: it is done.
    client.post(url(ticket_a), {"assignee_seen": str(colleague.pk)})
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == agent


def test_a_ticket_unassigned_meanwhile_is_taken(client, ticket_a, agent):
    """The page showed a colleague; the colleague let go of it since: taking it takes it from
    nobody, so it is done (it used to fail naming the assignee it no longer has)."""
    colleague = with_strong_factor(make_user("support.kim", group=roles.SUPPORT_AGENTS))
    ticket_a.assign(colleague, colleague)
    sign_in_verified(client, agent)
    ticket_a.assign(None, colleague)  # after the page was shown
    response = client.post(url(ticket_a), {"assignee_seen": str(colleague.pk)}, follow=True)
    assert f"{ticket_a.reference} is assigned to you." in strip_tags(response.content.decode())
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == agent


def test_the_race_message_tells_apart_agents_who_share_a_full_name(client, ticket_a, agent):
    """Whoever took the ticket is named as the assignee lists and the history name them
    (person_labels): the full name, with the user name where two agents share it."""
    kims = [
        make_user(username, group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
        for username in ("support.kim", "support.kim2")
    ]
    sign_in_verified(client, agent)
    ticket_a.assign(kims[1], kims[1])  # after the page showed the ticket unassigned
    response = client.post(url(ticket_a), {"assignee_seen": ""}, follow=True)
    assert "Kim Lee (support.kim2) took this ticket a moment ago." in response.content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.assignee == kims[1]
