from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.manage_helpers import sign_in_verified
from tickets.forms import QueueFilterForm
from tickets.models import Category, Status

from .test_ticket_list import bulk_tickets

URL = "/support/"


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("role", ["employee_a", "manager_a", "outsider"])
def test_customers_get_403(client, db, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403


def test_methods_but_get_and_the_bulk_bars_post_are_405(client, agent):
    sign_in_verified(client, agent)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_agents_see_open_tickets_of_every_company(
    client, make_ticket, employee_a, employee_b, agent
):
    make_ticket(employee_a, subject="Alpha problem")
    make_ticket(employee_b, subject="Beta problem")
    done = make_ticket(employee_b, subject="Solved problem")
    done.move_to(Status.RESOLVED, agent)
    sign_in_verified(client, agent)
    response = client.get(URL)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Alpha problem" in content and "Beta problem" in content
    assert "Solved problem" not in content
    assert "no-store" in response["Cache-Control"]


def test_provider_admins_see_the_queue(client, provider_admin):
    sign_in_verified(client, provider_admin)
    assert client.get(URL).status_code == 200


def _subjects(response) -> set[str]:
    rows = response.context["rows"]
    return {ticket.subject for ticket, _overdue in rows}


def test_it_filters(client, make_ticket, employee_a, employee_b, agent, company_b):
    first = make_ticket(employee_a, subject="A-low", category=Category.objects.get(code="other"))
    second = make_ticket(employee_b, subject="B-critical", impact="high", urgency="high")
    second.assign(agent, agent)
    first.move_to(Status.WAITING, agent)
    sign_in_verified(client, agent)
    assert _subjects(client.get(URL, {"status": "waiting"})) == {"A-low"}
    assert _subjects(client.get(URL, {"status": "all"})) == {"A-low", "B-critical"}
    assert _subjects(client.get(URL, {"priority": 1})) == {"B-critical"}
    other = Category.objects.get(code="other")
    assert _subjects(client.get(URL, {"category": other.pk})) == {"A-low"}
    assert _subjects(client.get(URL, {"company": company_b.pk})) == {"B-critical"}
    assert _subjects(client.get(URL, {"assignee": "mine"})) == {"B-critical"}
    assert _subjects(client.get(URL, {"assignee": "unassigned"})) == {"A-low"}
    assert _subjects(client.get(URL, {"assignee": str(agent.pk)})) == {"B-critical"}


def test_it_searches_reference_subject_and_description(client, make_ticket, employee_a, agent):
    first = make_ticket(employee_a, subject="Printer", description="toner empty")
    make_ticket(employee_a, subject="VPN", description="tunnel closed")
    sign_in_verified(client, agent)
    assert _subjects(client.get(URL, {"q": first.reference})) == {"Printer"}
    assert _subjects(client.get(URL, {"q": "tunnel"})) == {"VPN"}
    assert _subjects(client.get(URL, {"q": "print"})) == {"Printer"}


def test_it_filters_and_highlights_overdue_tickets(client, make_ticket, employee_a, agent):
    make_ticket(employee_a, subject="Urgent", impact="high", urgency="high")
    make_ticket(employee_a, subject="Relaxed")
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        sign_in_verified(client, agent)
        response = client.get(URL, {"overdue": "on"})
    assert _subjects(response) == {"Urgent"}
    assert "is-overdue" in response.content.decode()


def test_it_sorts(client, make_ticket, employee_a, agent):
    make_ticket(employee_a, subject="Low first")
    make_ticket(employee_a, subject="Critical later", impact="high", urgency="high")
    sign_in_verified(client, agent)
    by_priority = [t.subject for t, _ in client.get(URL).context["rows"]]
    oldest = [t.subject for t, _ in client.get(URL, {"sort": "created"}).context["rows"]]
    assert by_priority == ["Critical later", "Low first"]
    assert oldest == ["Low first", "Critical later"]


def test_it_counts_tickets_per_status(client, make_ticket, employee_a, agent):
    make_ticket(employee_a)
    make_ticket(employee_a).move_to(Status.IN_PROGRESS, agent)
    sign_in_verified(client, agent)
    counts = {value: count for value, _label, count in client.get(URL).context["status_counts"]}
    assert counts == {"new": 1, "in_progress": 1, "waiting": 0, "resolved": 0, "closed": 0}


def test_status_counts_follow_new_tickets_and_moves(client, make_ticket, employee_a, agent):
    sign_in_verified(client, agent)
    ticket = make_ticket(employee_a)

    def counts():
        return {value: n for value, _label, n in client.get(URL).context["status_counts"]}

    assert counts()["new"] == 1  # now cached
    make_ticket(employee_a)
    assert counts()["new"] == 2
    ticket.move_to(Status.IN_PROGRESS, agent)
    assert (counts()["new"], counts()["in_progress"]) == (1, 1)


def test_bad_filters_are_a_400(client, agent):
    sign_in_verified(client, agent)
    assert client.get(URL, {"priority": "9", "sort": "password"}).status_code == 400


@pytest.mark.parametrize("count", [10, 1000])
def test_the_query_count_is_constant(
    client, employee_a, agent, count, django_assert_max_num_queries
):
    from accounts import roles
    from conftest import make_user
    from tickets.models import Ticket

    bulk_tickets(employee_a, count)
    # Assigned rows, to namesakes and to someone no longer an agent: the Assignee column
    # tells them apart from what the page loaded, with no query per row.
    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    aruiz = make_user("support.aruiz", first_name="Ana", last_name="Ruiz")
    pks = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=pks[0::3]).update(assignee=ana)
    Ticket.objects.filter(pk__in=pks[1::3]).update(assignee=aruiz)
    sign_in_verified(client, agent)
    client.get(URL)  # warm up: session adoption and per-user caches
    with django_assert_max_num_queries(11):
        response = client.get(URL, {"status": "all"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(count, 25)
    cells = re.findall(r'<td data-label="Assignee">(.*?)</td>', response.content.decode())
    assert {"Ana Ruiz (support.ana)", "Ana Ruiz (support.aruiz)"} <= set(cells)
    assert "Ana Ruiz" not in cells

    # The bulk bar's bad input answers with the same page: one query more, the check that the
    # selected tickets exist, however many there are.
    selected = [ticket.pk for ticket, _overdue in response.context["rows"]]
    with django_assert_max_num_queries(12):
        response = client.post(
            f"{URL}?status=all", {"tickets": selected, "action": "assign", "assignee": ""}
        )
    assert response.status_code == 400
    assert len(response.context["rows"]) == min(count, 25)
    ticked = re.findall(r'name="tickets" value="(\d+)"[^>]* checked', response.text)
    assert ticked == [str(pk) for pk in selected]


def test_the_queue_counts_matches_only_up_to_a_cap(client, employee_a, agent, monkeypatch):
    from portal.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 30)
    bulk_tickets(employee_a, 40)
    sign_in_verified(client, agent)
    response = client.get(URL, {"status": "all"})
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.capped, page.paginator.num_pages) == (30, True, 2)
    assert "more than 30 matches" in response.content.decode()
    last = client.get(URL, {"status": "all", "page": 2}).context["page"]
    assert not last.has_next()


def test_the_queue_says_the_exact_count_below_the_cap(client, employee_a, agent):
    bulk_tickets(employee_a, 30)
    sign_in_verified(client, agent)
    response = client.get(URL, {"status": "all"})
    assert response.context["page"].paginator.count == 30
    assert "more than" not in response.content.decode()


def test_the_assignee_selects_share_one_query_of_agents(
    client, make_ticket, employee_a, agent, provider_admin
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_ticket(employee_a)
    sign_in_verified(client, agent)
    client.get(URL)
    with CaptureQueriesContext(connection) as captured:
        content = client.get(URL).content.decode()
    agent_queries = [q for q in captured if "auth_group" in q["sql"] and "DISTINCT" in q["sql"]]
    assert len(agent_queries) == 1
    for person in (agent, provider_admin):
        option = f'<option value="{person.pk}">{person.get_full_name()}</option>'
        assert content.count(option) == 2  # the assignee filter and "Assign to"


def _filters_tag(content: str) -> str:
    start = content.index('<details class="card filters"')
    return content[start : content.index(">", start) + 1]


def test_the_filters_start_folded_and_name_the_active_ones(
    client, make_ticket, employee_a, agent, company_a
):
    make_ticket(employee_a, subject="Waiting one").move_to(Status.WAITING, agent)
    sign_in_verified(client, agent)
    plain = client.get(URL).content.decode()
    assert " open" not in _filters_tag(plain)
    assert "filters-active" not in plain
    content = client.get(
        URL, {"status": "waiting", "priority": 4, "company": company_a.pk, "overdue": "on"}
    ).content.decode()
    assert " open" not in _filters_tag(content)
    start = content.index('<span class="filters-active">')
    summary = content[start : content.index("</summary>", start)]
    for shown in ("Status: Waiting for customer", "Priority: Low", "Alpha AG (10001)"):
        assert shown in summary
    assert "Overdue only</span>" in summary


def _summary(content: str) -> str:
    start = content.index("<summary>", content.index('<details class="card filters"'))
    return content[start : content.index("</summary>", start)]


def test_the_sort_is_named_apart_from_the_filters(client, agent):
    """Sorting is not filtering: a sort of its own is not counted among the active filters."""
    sign_in_verified(client, agent)
    summary = _summary(client.get(URL, {"sort": "-created"}).content.decode())
    assert "filters-active" not in summary
    assert '<span class="filters-sort">Sort: Newest</span>' in summary
    summary = _summary(client.get(URL, {"priority": 4, "sort": "due"}).content.decode())
    active = summary[summary.index('<span class="filters-active">') :]
    active = active[: active.index('<span class="filters-sort">')]
    assert "Priority: Low" in active and "Sort" not in active
    assert '<span class="filters-sort">Sort: Due soonest</span>' in summary
    # The default sort is not named at all.
    assert "filters-sort" not in _summary(client.get(URL, {"sort": "priority"}).content.decode())


def test_the_form_tells_the_filters_from_the_sort(agent):
    form = QueueFilterForm({"status": "all", "q": "VPN", "sort": "-updated"}, agents=[agent])
    assert form.is_valid()
    assert form.active_filters() == [("Status", "All"), ("Search", "VPN")]
    assert form.active_sort() == ("Sort", "Recently updated")
    form = QueueFilterForm({"sort": "priority"}, agents=[agent])
    assert form.is_valid()
    assert (form.active_filters(), form.active_sort()) == ([], None)


def test_the_summary_separators_come_from_the_style_sheet(client, company_a, agent):
    """Text separators between the filters could begin a line when the summary wraps."""
    sign_in_verified(client, agent)
    summary = _summary(client.get(URL, {"status": "all", "company": company_a.pk, "q": "x"}).text)
    assert "·" not in summary
    assert summary.count("</span> <span>") == 2  # three items, a space to break between them


def test_the_filters_open_to_show_their_errors(client, agent):
    sign_in_verified(client, agent)
    content = client.get(URL, {"priority": "9"}).content.decode()
    assert _filters_tag(content).endswith(" open>")


def test_every_cell_of_a_row_is_captioned_for_phones(client, make_ticket, employee_a, agent):
    make_ticket(employee_a)
    sign_in_verified(client, agent)
    content = client.get(URL).content.decode()
    for label in ("Priority", "Status", "Category", "Company", "Assignee", "Due"):
        assert f'<td data-label="{label}' in content  # times add their zone: "Due (CET/CEST)"


def _options(html: str, select_name: str, after: str = "") -> list[str]:
    """The labels of a select's options, in the part of the page after ``after``."""
    html = html.split(after, 1)[1] if after else html
    select = html.split(f'name="{select_name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_agents_who_share_a_full_name_are_told_apart_in_every_assignee_select(
    client, ticket_a, agent
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import roles
    from conftest import make_user

    def queue_page() -> tuple[str, int]:
        client.get(URL)  # warm: session adoption, per-user caches
        client.get(URL)
        with CaptureQueriesContext(connection) as captured:
            html = client.get(URL).content.decode()
        return html, len(captured)

    sign_in_verified(client, agent)
    _html, queries = queue_page()
    make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    make_user("support.aruiz", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    html, queries_with_namesakes = queue_page()
    detail = client.get(f"/tickets/{ticket_a.pk}/").content.decode()
    selects = {
        "queue filter": _options(html, "assignee"),
        "bulk bar": _options(html, "assignee", after='id="bulk-form"'),
        "ticket page": _options(detail, "assignee"),
    }
    for where, labels in selects.items():
        assert "Ana Ruiz (support.ana)" in labels, where
        assert "Ana Ruiz (support.aruiz)" in labels, where
        # A name nobody shares stays as it was: the user name would only be noise.
        assert "Support Tester" in labels, where
        assert "Ana Ruiz" not in labels, where
    # The labels come from the one list of agents the page loads: no query per option.
    assert queries_with_namesakes == queries


@pytest.mark.parametrize("sort", ["priority", "-created", "created", "due", "-updated"])
def test_pages_of_tied_tickets_show_each_ticket_once(client, employee_a, agent, sort):
    """bulk_tickets gives every ticket the same priority and times: only the id orders them.
    Rows updated after their insert sit elsewhere on disk, where PostgreSQL finds ties."""
    from tickets.models import Ticket

    bulk_tickets(employee_a, 60)
    every_other = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))[::2]
    Ticket.objects.filter(pk__in=every_other).update(subject="Touched")
    sign_in_verified(client, agent)
    shown = []
    for number in (1, 2, 3):
        response = client.get(URL, {"status": "all", "sort": sort, "page": number})
        shown += [ticket.pk for ticket, _overdue in response.context["rows"]]
    assert sorted(shown) == sorted(Ticket.objects.values_list("pk", flat=True))
