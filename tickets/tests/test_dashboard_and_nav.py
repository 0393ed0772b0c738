from __future__ import annotations

import pytest

from tickets.models import Status

from .test_ticket_list import bulk_tickets


def test_customers_see_their_open_tickets_on_the_dashboard(client, make_ticket, employee_a, agent):
    make_ticket(employee_a, subject="Open one")
    make_ticket(employee_a, subject="Done one").move_to(Status.RESOLVED, agent)
    client.force_login(employee_a)
    content = client.get("/dashboard/").content.decode()
    assert "Open one" in content
    assert "Done one" not in content


def test_agents_see_tickets_assigned_to_them(client, make_ticket, employee_a, agent):
    make_ticket(employee_a, subject="Assigned").assign(agent, agent)
    make_ticket(employee_a, subject="Someone else's")
    client.force_login(agent)
    content = client.get("/dashboard/").content.decode()
    assert "Assigned" in content
    assert "Someone else" not in content


@pytest.mark.parametrize("count", [10, 1000])
def test_the_dashboard_query_count_is_constant(
    client, employee_a, count, django_assert_max_num_queries
):
    bulk_tickets(employee_a, count)
    client.force_login(employee_a)
    client.get("/dashboard/")  # warm up: session adoption and per-user caches
    with django_assert_max_num_queries(8):
        assert client.get("/dashboard/").status_code == 200


def test_customers_get_ticket_links(client, employee_a):
    client.force_login(employee_a)
    content = client.get("/dashboard/").content.decode()
    assert 'href="/tickets/"' in content
    assert 'href="/tickets/new/"' in content
    assert 'href="/support/"' not in content


def test_agents_get_the_queue_link(client, agent):
    client.force_login(agent)
    content = client.get("/dashboard/").content.decode()
    assert 'href="/support/"' in content


def test_the_card_says_how_many_open_tickets_there_are_beyond_the_first_five(
    client, make_ticket, employee_a, employee_b, agent
):
    for number in range(7):
        make_ticket(employee_a, subject=f"Open {number}")
    make_ticket(employee_a, subject="Done").move_to(Status.RESOLVED, agent)
    make_ticket(employee_b, subject="Not mine")  # another company: not counted
    client.force_login(employee_a)
    content = client.get("/dashboard/").content.decode()
    assert content.count('class="badge') >= 5
    assert "7 open incidents in total" in content


def test_the_card_has_no_total_when_all_open_tickets_show(client, make_ticket, employee_a):
    make_ticket(employee_a, subject="Only one")
    client.force_login(employee_a)
    content = client.get("/dashboard/").content.decode()
    assert "Only one" in content
    assert "in total" not in content
