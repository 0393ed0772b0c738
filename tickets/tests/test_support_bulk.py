from __future__ import annotations

import re

from accounts import roles
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user, with_strong_factor
from tickets.models import Status

URL = "/support/bulk/"


def test_get_is_405(client, agent):
    sign_in_verified(client, agent)
    assert client.get(URL).status_code == 405


def test_anonymous_is_sent_to_sign_in(client):
    assert client.post(URL).status_code == 302


def test_customers_get_403(client, employee_a, ticket_a):
    client.force_login(employee_a)
    response = client.post(URL, {"tickets": [ticket_a.pk], "action": "status", "status": "closed"})
    assert response.status_code == 403


def test_it_assigns_many_tickets(client, make_ticket, employee_a, agent):
    tickets = [make_ticket(employee_a) for _ in range(3)]
    sign_in_verified(client, agent)
    response = client.post(
        URL,
        {
            "tickets": [t.pk for t in tickets[:2]],
            "action": "assign",
            "assignee": agent.pk,
            "next": "/support/?status=all",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/support/?status=all"
    assignees = [t.assignee_id for t in tickets for _ in [t.refresh_from_db()]]
    assert assignees == [agent.pk, agent.pk, None]


def test_it_changes_status_and_refuses_invalid_moves(client, make_ticket, employee_a, agent):
    waiting = make_ticket(employee_a)
    waiting.move_to(Status.WAITING, agent)
    fresh = make_ticket(employee_a)
    sign_in_verified(client, agent)
    response = client.post(
        URL,
        {"tickets": [waiting.pk, fresh.pk], "action": "status", "status": "in_progress"},
        follow=True,
    )
    content = response.content.decode()
    assert "2 tickets updated" in content
    response = client.post(
        URL,
        {"tickets": [waiting.pk, fresh.pk], "action": "status", "status": "closed"},
        follow=True,
    )
    assert "2 tickets cannot make that status move" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.IN_PROGRESS


def test_it_ignores_an_outside_next_url(client, ticket_a, agent):
    sign_in_verified(client, agent)
    response = client.post(
        URL,
        {
            "tickets": [ticket_a.pk],
            "action": "assign",
            "assignee": agent.pk,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/support/"


def test_an_incomplete_form_is_reported(client, agent):
    sign_in_verified(client, agent)
    response = client.post(URL, {"action": "status"}, follow=True)
    assert "Select tickets and an action" in response.content.decode()


def test_an_untouched_assignee_unassigns_nothing(client, make_ticket, employee_a, agent):
    ticket = make_ticket(employee_a)
    ticket.assign(agent, agent)
    sign_in_verified(client, agent)
    response = client.post(
        URL, {"tickets": [ticket.pk], "action": "assign", "assignee": ""}, follow=True
    )
    assert "Choose whom to assign them to." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    client.post(URL, {"tickets": [ticket.pk], "action": "assign", "assignee": "unassigned"})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_bulk_bar_preselects_nothing_and_never_offers_new(
    client, make_ticket, employee_a, agent
):
    make_ticket(employee_a)
    sign_in_verified(client, agent)
    html = client.get("/support/").content.decode()
    bar = html.split('id="bulk-form"')[1].split("</form>")[0]
    assignee = bar.split('name="assignee"')[1].split("</select>")[0]
    status = bar.split('name="status"')[1].split("</select>")[0]
    assert re.search(r'<option value="" selected>—</option>', assignee)
    assert 'value="unassigned"' in assignee
    assert re.search(r'<option value="" selected>—</option>', status)
    assert 'value="new"' not in status


def test_assign_selected_to_me_assigns_them_to_the_sender(client, make_ticket, employee_a, agent):
    tickets = [make_ticket(employee_a) for _ in range(3)]
    sign_in_verified(client, agent)
    html = client.get("/support/").content.decode()
    bar = html.split('id="bulk-form"')[1].split("</form>")[0]
    assert '<button type="submit" name="mine" value="1"' in bar
    # The button sends the bar as it is: whatever the selects say, the tickets become mine.
    response = client.post(
        URL,
        {
            "tickets": [t.pk for t in tickets[:2]],
            "action": "status",
            "assignee": "",
            "status": "",
            "mine": "1",
        },
        follow=True,
    )
    assert "2 tickets updated." in response.content.decode()
    assignees = [t.assignee_id for t in tickets for _ in [t.refresh_from_db()]]
    assert assignees == [agent.pk, agent.pk, None]
    assert [t.status for t in tickets] == [Status.NEW] * 3


def test_assign_selected_to_me_is_refused_to_staff_whom_no_assignee_list_offers(
    client, make_ticket, employee_a
):
    root = with_strong_factor(make_user("root.admin", is_staff=True, is_superuser=True))
    ticket = make_ticket(employee_a)
    sign_in_verified(client, root)
    response = client.post(
        URL, {"tickets": [ticket.pk], "action": "assign", "mine": "1"}, follow=True
    )
    assert "Tickets can be assigned to support agents only." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def _seen(html: str) -> dict[str, str]:
    """Ticket id -> the assignee id each queue row carries for "Assign selected to me"."""
    return dict(re.findall(r'name="assignee_seen" value="(\d+):(\d*)" form="bulk-form"', html))


def test_assign_selected_to_me_leaves_alone_tickets_taken_meanwhile(
    client, make_ticket, employee_a, agent
):
    """The queue showed each ticket with its assignee; before the agent clicked, two of the
    selected ones went to a colleague other than the page showed: those stay, the agent is told
    who has them, the others are taken (taking over the one the page showed with a colleague
    is a choice, as on the ticket page)."""
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    free, grabbed, kims, passed_on, released = (make_ticket(employee_a) for _ in range(5))
    for ticket in (kims, passed_on, released):
        ticket.assign(kim, kim)
    sign_in_verified(client, agent)
    seen = _seen(client.get("/support/").content.decode())
    assert seen[str(free.pk)] == "" and seen[str(kims.pk)] == str(kim.pk)
    # Meanwhile:
    grabbed.assign(ana, ana)
    passed_on.assign(ana, kim)
    released.assign(None, kim)

    selected = [free, grabbed, kims, passed_on, released]
    response = client.post(
        URL,
        {
            "tickets": [t.pk for t in selected],
            "assignee_seen": [f"{pk}:{assignee}" for pk, assignee in seen.items()],
            "action": "assign",  # the bar sends its selects as they are
            "mine": "1",
        },
        follow=True,
    )
    content = response.content.decode()
    assert "3 tickets updated." in content
    assert (
        f"2 tickets were taken by someone else meanwhile: {grabbed.reference} (Ana Ruiz), "
        f"{passed_on.reference} (Ana Ruiz)." in content
    )
    assignees = [t.assignee for t in selected for _ in [t.refresh_from_db()]]
    assert assignees == [agent, ana, agent, ana, agent]


def test_assign_selected_to_me_reads_and_locks_the_tickets_in_one_query(
    client, make_ticket, employee_a, agent
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def ticket_reads(count: int) -> list[str]:
        tickets = [make_ticket(employee_a) for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            client.post(URL, {"tickets": [t.pk for t in tickets], "action": "assign", "mine": "1"})
        assert all(t.assignee_id == agent.pk for t in tickets for _ in [t.refresh_from_db()])
        return [q["sql"] for q in captured if q["sql"].startswith('SELECT "tickets_ticket"."id"')]

    sign_in_verified(client, agent)
    # The form's check that the tickets exist, then the locked read: whatever their number.
    reads = ticket_reads(2)
    assert len(reads) == len(ticket_reads(6)) == 2
    if connection.vendor == "postgresql":
        assert reads[1].endswith('FOR UPDATE OF "tickets_ticket"')


def test_a_tampered_assignee_seen_is_reported(client, ticket_a, agent):
    sign_in_verified(client, agent)
    for bad in ("x", "12", f"{ticket_a.pk}:me", "1:2:3", "9" * 40 + ":"):
        response = client.post(
            URL,
            {"tickets": [ticket_a.pk], "assignee_seen": [bad], "action": "assign", "mine": "1"},
            follow=True,
        )
        assert response.status_code == 200
        assert "The queue page was out of date. Please reload it" in response.content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None
