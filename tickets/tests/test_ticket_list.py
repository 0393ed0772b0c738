from __future__ import annotations

import pytest
from django.utils import timezone

from tickets.models import Category, Status, Ticket

URL = "/tickets/"


def bulk_tickets(requester, count: int) -> None:
    category = Category.objects.get(code="other")
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            reference=f"INC-B{i:07d}",
            requester=requester,
            company=requester.company,
            category=category,
            subject=f"Bulk {i}",
            description="d",
            impact="low",
            urgency="low",
            priority=4,
            status=Status.values[i % 5],
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


def test_it_lists_only_my_tickets(client, make_ticket, employee_a, employee_a2):
    make_ticket(employee_a, subject="Mine")
    make_ticket(employee_a2, subject="Colleague")
    client.force_login(employee_a)
    content = client.get(URL).content.decode()
    assert "Mine" in content
    assert "Colleague" not in content


def test_a_security_manager_sees_the_company_tickets(
    client, make_ticket, manager_a, employee_a, employee_b
):
    make_ticket(employee_a, subject="Colleague")
    make_ticket(employee_b, subject="Other company")
    client.force_login(manager_a)
    content = client.get(URL).content.decode()
    assert "Colleague" in content
    assert "Other company" not in content


def test_it_filters_by_status_and_searches(client, make_ticket, employee_a, agent):
    make_ticket(employee_a, subject="Printer jam")
    done = make_ticket(employee_a, subject="Old VPN issue")
    done.move_to(Status.RESOLVED, agent)
    client.force_login(employee_a)
    assert "Old VPN" not in client.get(URL, {"status": "open"}).content.decode()
    assert "Printer" not in client.get(URL, {"status": "resolved"}).content.decode()
    content = client.get(URL, {"q": "printer"}).content.decode()
    assert "Printer jam" in content and "Old VPN" not in content
    content = client.get(URL, {"q": done.reference}).content.decode()
    assert "Old VPN" in content and "Printer" not in content


def test_it_paginates(client, employee_a):
    bulk_tickets(employee_a, 30)
    client.force_login(employee_a)
    response = client.get(URL, {"page": 2, "status": ""})
    assert response.status_code == 200
    assert "Page 2 of 2" in response.content.decode()


def test_a_bad_page_number_shows_the_last_page(client, employee_a):
    bulk_tickets(employee_a, 3)
    client.force_login(employee_a)
    assert client.get(URL, {"page": "x"}).status_code == 200


@pytest.mark.parametrize("count", [10, 1000])
def test_the_query_count_is_constant(client, manager_a, count, django_assert_max_num_queries):
    bulk_tickets(manager_a, count)
    client.force_login(manager_a)
    client.get(URL)  # warm up: session adoption and per-user caches
    with django_assert_max_num_queries(7):
        response = client.get(URL)
    assert response.status_code == 200


def test_every_cell_but_reference_and_subject_is_captioned_for_phones(
    client, make_ticket, employee_a
):
    """On a phone the rows are cards (portal.css, "table-cards"); data-label captions a cell."""
    make_ticket(employee_a)
    client.force_login(employee_a)
    content = client.get(URL).content.decode()
    assert '<table class="ticket-table table-cards">' in content
    for label in ("Category", "Status", "Created"):
        assert f'<td data-label="{label}' in content  # times add their zone: "Due (CET/CEST)"
