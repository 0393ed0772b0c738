"""The tab title is the page's heading, so a tab or a bookmark says what the page is."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tickets import services

pytestmark = pytest.mark.django_db


def _title_and_heading(response) -> tuple[str, str]:
    html = response.content.decode()
    title = re.search(r"<title>(.*?) · ", html, re.S)[1]
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)[1])
    return " ".join(title.split()), " ".join(heading.split())


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
        title, heading = _title_and_heading(response)
        assert title == heading, name
    assert _title_and_heading(pages["detail"])[0] == f"{ticket.reference} VPN down"
