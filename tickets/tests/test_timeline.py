"""The agent's timeline names people as the rest of the page does."""

from __future__ import annotations

from accounts import roles
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user
from tickets import services
from tickets.models import Status

from .test_ticket_detail import _page_queries


def _timeline(client, ticket) -> str:
    content = client.get(f"/tickets/{ticket.pk}/").content.decode()
    return content.split('class="timeline"')[1].split("</ol>")[0]


def test_assignments_and_actors_are_named_by_full_name(client, ticket_a, agent, employee_a):
    ticket_a.assign(agent, agent)
    sign_in_verified(client, agent)
    timeline = _timeline(client, ticket_a)
    assert "— → Support Tester" in timeline
    assert "· Support Tester" in timeline
    assert "· C10001 Tester" in timeline  # the requester created it
    assert "support.sam" not in timeline


def test_the_user_name_tells_apart_people_of_the_same_name(client, ticket_a, agent):
    namesake = make_user("support.sue", group=roles.SUPPORT_AGENTS)  # also "Support Tester"
    ticket_a.assign(namesake, agent)
    ticket_a.assign(agent, agent)
    sign_in_verified(client, agent)
    timeline = _timeline(client, ticket_a)
    assert "Support Tester (support.sue) → Support Tester (support.sam)" in timeline


def test_a_former_agent_keeps_their_user_name(client, ticket_a, agent):
    former = make_user("support.old", group=roles.SUPPORT_AGENTS)
    ticket_a.assign(former, agent)
    former.is_active = False
    former.save()
    sign_in_verified(client, agent)
    assert "— → support.old" in _timeline(client, ticket_a)


def test_names_cost_no_query_per_event(client, ticket_a, agent, employee_a):
    sign_in_verified(client, agent)
    before = _page_queries(client, ticket_a, agent)
    others = [make_user(f"support.a{n}", group=roles.SUPPORT_AGENTS) for n in range(4)]
    for other in others:
        ticket_a.assign(other, other)
    services.add_reply(ticket_a, employee_a, "More")
    ticket_a.move_to(Status.IN_PROGRESS, others[0])
    sign_in_verified(client, agent)
    assert _page_queries(client, ticket_a, agent) == before
