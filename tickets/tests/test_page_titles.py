"""The tab title is the page's heading, so a tab or a bookmark says what the page is (pages
whose heading several steps share add the step: accounts.tests.helpers.assert_title_is_the_heading).
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.helpers import title_and_heading
from tickets import services

pytestmark = pytest.mark.django_db


def test_ticket_pages_have_their_heading_as_their_tab_title(client, sign_in, employee_a, category):
    sign_in(employee_a)
    ticket = services.create_ticket(
        requester=employee_a,
        category=category,
        subject="VPN down",
        description="Since this morning.",
        impact="low",
        urgency="low",
    )
    pages = {
        "new": client.get("/tickets/new/"),
        "detail": client.get(f"/tickets/{ticket.pk}/"),
        "list": client.get("/tickets/"),
        "cannot sign in": Client().get("/tickets/cannot-sign-in/"),
        "cannot sign in, sent": Client().get("/tickets/cannot-sign-in/sent/"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        title, heading = title_and_heading(response)
        assert title == heading, name
    assert title_and_heading(pages["detail"])[0] == f"{ticket.reference} VPN down"
