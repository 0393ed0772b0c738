"""Authorization audit of the incident pages: what a colleague and the company's Security
Manager may change on a ticket that is not theirs to work on."""

from __future__ import annotations

import pytest

from accounts.tests.manage_helpers import sign_in_verified
from tickets.models import Message, Status

pytestmark = pytest.mark.django_db


def test_a_colleague_can_neither_reply_to_nor_resolve_anothers_incident(
    client, ticket_a, employee_a2
):
    """Same company, no Security Manager: the incident is the requester's alone (a 404, as
    for another company's)."""
    client.force_login(employee_a2)
    assert client.post(f"/tickets/{ticket_a.pk}/reply/", {"body": "Mine now"}).status_code == 404
    assert client.post(f"/tickets/{ticket_a.pk}/resolve/").status_code == 404
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.NEW
    assert not Message.objects.filter(ticket=ticket_a, is_description=False).exists()


def test_the_companys_security_manager_cannot_use_the_support_bulk_actions(
    client, ticket_a, manager_a, agent
):
    """A manager sees the company's incidents, verified with TOTP, but is no support staff."""
    sign_in_verified(client, manager_a)
    data = {"tickets": [ticket_a.pk], "action": "assign", "assignee": agent.pk}
    assert client.post("/support/", data).status_code == 403
    data = {"tickets": [ticket_a.pk], "action": "status", "status": "closed"}
    assert client.post("/support/", data).status_code == 403
    ticket_a.refresh_from_db()
    assert (ticket_a.assignee_id, ticket_a.status) == (None, Status.NEW)
