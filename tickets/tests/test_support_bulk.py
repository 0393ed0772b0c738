from __future__ import annotations

import re

import pytest
from django.utils.html import strip_tags

from accounts import roles
from accounts.tests.manage_helpers import sign_in_verified
from conftest import make_user, with_strong_factor
from tickets.models import Status

from .test_ticket_list import bulk_tickets

# The bar posts to the queue page it is on: its filters, sort and page in the query string.
URL = "/support/"


def test_anonymous_is_sent_to_sign_in(client):
    assert client.post(URL).status_code == 302


def test_customers_get_403(client, employee_a, ticket_a):
    client.force_login(employee_a)
    response = client.post(URL, {"tickets": [ticket_a.pk], "action": "status", "status": "closed"})
    assert response.status_code == 403


def test_it_assigns_many_tickets_and_leads_back_to_the_page(client, make_ticket, employee_a, agent):
    tickets = [make_ticket(employee_a) for _ in range(3)]
    sign_in_verified(client, agent)
    response = client.post(
        "/support/?status=all&sort=due&page=1",
        {"tickets": [t.pk for t in tickets[:2]], "action": "assign", "assignee": agent.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == "/support/?status=all&sort=due&page=1"
    assignees = [t.assignee_id for t in tickets for _ in [t.refresh_from_db()]]
    assert assignees == [agent.pk, agent.pk, None]


def test_it_changes_status_and_refuses_invalid_moves(client, make_ticket, employee_a, agent):
    waiting = make_ticket(employee_a)
    waiting.move_to(Status.WAITING, agent)
    fresh = make_ticket(employee_a)
    sign_in_verified(client, agent)
    both = [waiting, fresh]
    content = _send(client, both, _seen(client), action="status", status="in_progress")
    assert "2 tickets updated" in content
    untouched = make_ticket(employee_a)
    content = _send(client, [*both, untouched], _seen(client), action="status", status="closed")
    # Named, with the status that keeps them from the move: the agent knows which to look at.
    assert (
        f"3 tickets cannot move to “Closed”: {waiting.reference} (In progress), "
        f"{fresh.reference} (In progress), {untouched.reference} (New)." in _said(content)
    )
    assert "tickets updated" not in content  # no success above the refusal: nothing changed
    waiting.refresh_from_db()
    assert waiting.status == Status.IN_PROGRESS


def test_it_takes_no_next_url(client, ticket_a, agent):
    """Where the bar leads is the page it was posted from, never a URL it was given."""
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


def _bar(content: str) -> str:
    """The bulk bar of a queue page, errors included."""
    return content.split('id="bulk-form"')[1].split("</form>")[0]


def _checked(content: str) -> set[int]:
    """The tickets whose boxes the page ticks."""
    return {int(pk) for pk in re.findall(r'name="tickets" value="(\d+)"[^>]* checked', content)}


def _selected_option(bar: str, name: str) -> str:
    select = bar.split(f'name="{name}"')[1].split("</select>")[0]
    return re.search(r'<option value="([^"]*)" selected>', select)[1]


@pytest.mark.parametrize(
    ("bar", "error"),
    [
        ({"action": "status"}, "Select the tickets to change."),
        ({"tickets": ["{first}"]}, "Choose an action."),
        ({"tickets": ["{first}"], "action": "dance"}, "Select a valid choice."),
        ({"tickets": ["{first}"], "action": "status"}, "Choose the new status."),
        ({"tickets": ["{first}"], "action": "status", "status": "new"}, "Select a valid choice."),
        ({"tickets": ["{first}"], "action": "assign"}, "Choose whom to assign them to."),
        (
            {"tickets": ["{first}", "{second}"], "action": "assign", "assignee": "{outsider}"},
            "Tickets can be assigned to support agents only.",
        ),
        (
            {"tickets": ["{first}", "{gone}"], "action": "assign", "mine": "1"},
            "A selected ticket no longer exists.",
        ),
        (
            {"tickets": ["{first}"], "seen": ["{first}:x:new"], "action": "assign", "mine": "1"},
            "The queue page was out of date: check the selection and try again.",
        ),
    ],
    ids=[
        "no-ticket",
        "no-action",
        "bad-action",
        "no-status",
        "bad-status",
        "no-assignee",
        "not-an-agent",
        "not-a-ticket",
        "bad-seen",
    ],
)
def test_bad_input_is_a_400_with_the_page_the_agent_was_on(
    client, make_ticket, employee_a, agent, outsider, bar, error
):
    """The queue comes back with its filters, sort and page, the error at the bar, and the
    selection and the bar as the agent left them: nothing to choose again."""
    bulk_tickets(employee_a, 60)  # 12 in progress among them
    first, second = (make_ticket(employee_a) for _ in range(2))
    for ticket in (first, second):
        ticket.move_to(Status.IN_PROGRESS, agent)
    ids = {"first": first.pk, "second": second.pk, "gone": 2**40, "outsider": outsider.pk}
    bar = {
        name: [value.format(**ids) for value in values]
        if isinstance(values, list)
        else values.format(**ids)
        for name, values in bar.items()
    }
    sign_in_verified(client, agent)
    url = "/support/?status=in_progress&sort=-created&page=1"
    posted_to = f'action="{url.replace("&", "&amp;")}"'
    assert posted_to in client.get(url).text  # where the bar posts: the page it is on

    response = client.post(url, bar)

    assert response.status_code == 400
    content = response.text
    assert error in strip_tags(_bar(content))
    assert 'role="alert"' in _bar(content)
    # The page the agent was on: its filters, sort and page.
    rows = [ticket.pk for ticket, _overdue in response.context["rows"]]
    assert rows[:2] == [second.pk, first.pk]
    assert len(rows) == 14
    assert '<span class="filters-sort">Sort: Newest</span>' in content
    assert "Status: In progress" in content
    assert posted_to in content
    # What the agent chose: the selection and the bar.
    assert _checked(content) == {
        pk for pk in (first.pk, second.pk) if str(pk) in bar.get("tickets", [])
    }
    if bar.get("action") in ("assign", "status"):
        assert _selected_option(_bar(content), "action") == bar["action"]
    # Nothing changed.
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert (ticket.assignee_id, ticket.status) == (None, Status.IN_PROGRESS)
    assert "message-success" not in content


def test_bad_input_keeps_the_page_number_the_agent_was_on(client, employee_a, agent):
    bulk_tickets(employee_a, 60)
    sign_in_verified(client, agent)
    url = "/support/?status=all&page=2"
    on_page_two = [ticket.pk for ticket, _overdue in client.get(url).context["rows"]]
    response = client.post(url, {"tickets": on_page_two[:3]})
    assert response.status_code == 400
    assert response.context["page"].number == 2
    assert [ticket.pk for ticket, _overdue in response.context["rows"]] == on_page_two
    assert _checked(response.text) == set(on_page_two[:3])
    assert "Choose an action." in _bar(response.text)


def test_an_untouched_assignee_unassigns_nothing(client, make_ticket, employee_a, agent):
    ticket = make_ticket(employee_a)
    ticket.assign(agent, agent)
    sign_in_verified(client, agent)
    response = client.post(URL, {"tickets": [ticket.pk], "action": "assign", "assignee": ""})
    assert response.status_code == 400
    assert "Choose whom to assign them to." in _bar(response.text)
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    _send(client, [ticket], _seen(client), action="assign", assignee="unassigned")
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


def test_assign_selected_to_me_needs_no_action_of_the_bar(client, make_ticket, employee_a, agent):
    """The button is an action of its own: a request without the bar's select still takes."""
    ticket = make_ticket(employee_a)
    sign_in_verified(client, agent)
    response = client.post(URL, {"tickets": [ticket.pk], "mine": "1"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk


def test_assign_selected_to_me_is_refused_to_staff_whom_no_assignee_list_offers(
    client, make_ticket, employee_a
):
    root = with_strong_factor(make_user("root.admin", is_staff=True, is_superuser=True))
    ticket = make_ticket(employee_a)
    sign_in_verified(client, root)
    response = client.post(URL, {"tickets": [ticket.pk], "action": "assign", "mine": "1"})
    assert response.status_code == 400
    assert "Tickets can be assigned to support agents only." in _bar(response.text)
    ticket.refresh_from_db()
    assert ticket.assignee is None


SEEN = re.compile(r'name="seen" value="((\d+):(\d*):([a-z_]+))" form="bulk-form"')


def _seen(client) -> list[str]:
    """What the queue page (every status) carries for the bulk bar: "ticket:assignee:status"
    of each row, as the bar posts it."""
    return [row for row, *_ in SEEN.findall(client.get("/support/?status=all").content.decode())]


def _said(content: str) -> str:
    """The page's messages as the agent reads them, without their markup."""
    return strip_tags(content.split('class="messages"')[1].split("</ul>")[0])


def _send(client, tickets: list, seen: list[str], **bar) -> str:
    """Send the bulk bar for ``tickets`` with what the page showed; the page it leads to."""
    response = client.post(
        URL, {"tickets": [t.pk for t in tickets], "seen": seen, **bar}, follow=True
    )
    return response.content.decode()


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
    seen = _seen(client)
    assert f"{free.pk}::new" in seen and f"{kims.pk}:{kim.pk}:new" in seen
    # Meanwhile:
    grabbed.assign(ana, ana)
    passed_on.assign(ana, kim)
    released.assign(None, kim)

    selected = [free, grabbed, kims, passed_on, released]
    # The bar sends its selects as they are.
    content = _send(client, selected, seen, action="assign", mine="1")
    assert "3 tickets updated." in content
    assert (
        f"2 tickets were taken by someone else meanwhile: {grabbed.reference} (Ana Ruiz), "
        f"{passed_on.reference} (Ana Ruiz)." in _said(content)
    )
    assignees = [t.assignee for t in selected for _ in [t.refresh_from_db()]]
    assert assignees == [agent, ana, agent, ana, agent]


def test_assign_to_someone_leaves_alone_tickets_taken_meanwhile(
    client, make_ticket, employee_a, agent
):
    """ "Assign to" follows the rule of "Assign selected to me": a ticket someone else took
    since the page showed it stays theirs, and the agent is told who has it."""
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    make_user("support.aruiz", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    free, grabbed, anas, released, kims = (make_ticket(employee_a) for _ in range(5))
    for ticket in (anas, released):
        ticket.assign(ana, ana)
    sign_in_verified(client, agent)
    seen = _seen(client)
    # Meanwhile:
    grabbed.assign(ana, ana)
    released.assign(None, ana)
    kims.assign(kim, kim)  # to the one they are being assigned to: nothing is lost

    selected = [free, grabbed, anas, released, kims]
    content = _send(client, selected, seen, action="assign", assignee=kim.pk)
    assert "3 tickets updated." in content
    assert "1 ticket was already assigned to Kim Lee." in content
    assert (
        f"1 ticket was taken by someone else meanwhile: {grabbed.reference} "
        "(Ana Ruiz (support.ana))." in _said(content)
    )
    assignees = [t.assignee for t in selected for _ in [t.refresh_from_db()]]
    assert assignees == [kim, ana, kim, kim, kim]


def test_unassigning_leaves_alone_tickets_taken_meanwhile(client, make_ticket, employee_a, agent):
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    shown_with_kim, grabbed = make_ticket(employee_a), make_ticket(employee_a)
    shown_with_kim.assign(kim, kim)
    sign_in_verified(client, agent)
    seen = _seen(client)
    grabbed.assign(kim, kim)  # meanwhile
    content = _send(client, [shown_with_kim, grabbed], seen, action="assign", assignee="unassigned")
    assert "1 ticket updated." in content
    assert f"taken by someone else meanwhile: {grabbed.reference} (Kim Lee)." in _said(content)
    assert [t.assignee for t in (shown_with_kim, grabbed) for _ in [t.refresh_from_db()]] == [
        None,
        kim,
    ]


def test_nothing_changed_is_no_success(client, make_ticket, employee_a, agent):
    """When every selected ticket was taken meanwhile, the agent reads why, not a green
    "0 tickets updated." above it."""
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    grabbed = make_ticket(employee_a)
    sign_in_verified(client, agent)
    seen = _seen(client)
    grabbed.assign(kim, kim)  # meanwhile
    content = _send(client, [grabbed], seen, action="assign", mine="1")
    assert f"1 ticket was taken by someone else meanwhile: {grabbed.reference} (Kim Lee)." in _said(
        content
    )
    assert "tickets updated" not in content
    assert "message-success" not in content


def test_a_status_change_leaves_alone_tickets_moved_meanwhile(
    client, make_ticket, employee_a, agent
):
    """The page showed each ticket's status: one another agent resolved since is not put back
    to work unseen; the agent is told what status it has now. One moved meanwhile to the
    status chosen is no change at all."""
    kept, resolved, closed, already = (make_ticket(employee_a) for _ in range(4))
    sign_in_verified(client, agent)
    seen = _seen(client)
    # Meanwhile:
    resolved.move_to(Status.RESOLVED, agent)
    closed.move_to(Status.RESOLVED, agent)
    closed.move_to(Status.CLOSED, agent)
    already.move_to(Status.WAITING, agent)

    selected = [kept, resolved, closed, already]
    content = _send(client, selected, seen, action="status", status="waiting")
    assert "1 ticket updated." in content
    assert "1 ticket already had the status “Waiting for customer”." in content
    assert (
        f"2 tickets changed their status meanwhile: {resolved.reference} (Resolved), "
        f"{closed.reference} (Closed)." in _said(content)
    )
    statuses = [t.status for t in selected for _ in [t.refresh_from_db()]]
    assert statuses == [Status.WAITING, Status.RESOLVED, Status.CLOSED, Status.WAITING]


def test_a_status_change_resolves_what_the_page_showed_and_tells_the_requester(
    client, make_ticket, employee_a, agent, mailoutbox
):
    ticket = make_ticket(employee_a)
    sign_in_verified(client, agent)
    _send(client, [ticket], _seen(client), action="status", status="resolved")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert [m.to for m in mailoutbox] == [[employee_a.email]]


@pytest.mark.parametrize(
    "bar",
    [
        {"action": "assign", "mine": "1"},
        {"action": "assign", "assignee": "{agent}"},
        {"action": "status", "status": "in_progress"},
    ],
    ids=["mine", "assign", "status"],
)
def test_the_bulk_bar_reads_and_locks_the_tickets_in_one_query(
    client, make_ticket, employee_a, agent, bar
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bar = {name: value.format(agent=agent.pk) for name, value in bar.items()}

    def reads(count: int) -> tuple[list[str], int]:
        tickets = [make_ticket(employee_a) for _ in range(count)]
        seen = [f"{t.pk}::new" for t in tickets]
        with CaptureQueriesContext(connection) as captured:
            client.post(URL, {"tickets": [t.pk for t in tickets], "seen": seen, **bar})
        for ticket in tickets:
            ticket.refresh_from_db()
            assert ticket.assignee_id == agent.pk or ticket.status == Status.IN_PROGRESS
        # Every SELECT but the session-revocation check, which a cache answers most times.
        selects = [
            q["sql"]
            for q in captured
            if q["sql"].startswith("SELECT") and "accounts_usersession" not in q["sql"]
        ]
        ticket_reads = [sql for sql in selects if sql.startswith('SELECT "tickets_ticket"."id"')]
        return ticket_reads, len(selects)

    sign_in_verified(client, agent)
    reads(1)  # the first request of a session reads more (its second factor)
    # The form's check that the tickets exist, then the locked read: whatever their number.
    ticket_reads, selects = reads(2)
    more_reads, more_selects = reads(6)
    assert len(ticket_reads) == len(more_reads) == 2
    assert selects == more_selects
    if connection.vendor == "postgresql":
        assert ticket_reads[1].endswith('FOR UPDATE OF "tickets_ticket"')


def test_a_tampered_seen_row_is_reported(client, ticket_a, agent):
    sign_in_verified(client, agent)
    pk = ticket_a.pk
    for bad in ("x", "12", f"{pk}:me:new", "1:2:3", "9" * 40 + "::new", f"{pk}:", f"{pk}::gone"):
        response = client.post(
            URL, {"tickets": [pk], "seen": [bad], "action": "assign", "mine": "1"}
        )
        assert response.status_code == 400
        assert "The queue page was out of date: check the selection" in _bar(response.text)
        assert _checked(response.text) == {pk}
    ticket_a.refresh_from_db()
    assert ticket_a.assignee is None


def test_assign_to_someone_names_tickets_the_agent_took_meanwhile_as_theirs(
    client, make_ticket, employee_a, agent
):
    """The agent took a ticket in another tab, then assigns the page's selection to a
    colleague: the ticket stays theirs, and the message says so instead of "taken by someone
    else (<their own name>)"."""
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    free, taken_by_me, grabbed = (make_ticket(employee_a) for _ in range(3))
    sign_in_verified(client, agent)
    seen = _seen(client)
    # Meanwhile:
    taken_by_me.assign(agent, agent)
    grabbed.assign(ana, ana)

    selected = [free, taken_by_me, grabbed]
    content = _send(client, selected, seen, action="assign", assignee=kim.pk)
    assert "1 ticket updated." in content
    assert f"taken by someone else meanwhile: {grabbed.reference} (Ana Ruiz)." in _said(content)
    assert f"1 ticket was assigned to you meanwhile: {taken_by_me.reference}." in _said(content)
    assert agent.get_full_name() not in _said(content)
    assert [t.assignee for t in selected for _ in [t.refresh_from_db()]] == [kim, agent, ana]


@pytest.mark.parametrize(
    ("bar", "already"),
    [
        (
            {"action": "status", "status": "waiting"},
            "2 tickets already had the status “Waiting for customer”.",
        ),
        ({"action": "assign", "assignee": "{kim}"}, "2 tickets were already assigned to Kim Lee."),
        ({"action": "assign", "mine": "1"}, "2 tickets were already assigned to you."),
        ({"action": "assign", "assignee": "unassigned"}, "2 tickets were already unassigned."),
    ],
    ids=["status", "assign", "mine", "unassign"],
)
def test_tickets_that_already_had_it_are_not_counted_as_updated(
    client, make_ticket, employee_a, agent, bar, already
):
    """Only tickets that changed count in "N tickets updated."; those that already had the
    status or assignee are counted apart, briefly. Nothing changed is no green success."""
    kim = make_user("support.kim", group=roles.SUPPORT_AGENTS, first_name="Kim", last_name="Lee")
    bar = {name: value.format(kim=kim.pk) for name, value in bar.items()}
    first, second, other = (make_ticket(employee_a) for _ in range(3))
    # Two of them already have what the bar asks for, the third not.
    if bar["action"] == "status":
        for ticket in (first, second):
            ticket.move_to(Status.WAITING, agent)
    elif bar.get("assignee") == "unassigned":
        other.assign(kim, kim)
    else:
        holder = agent if bar.get("mine") else kim
        for ticket in (first, second):
            ticket.assign(holder, holder)
    sign_in_verified(client, agent)
    content = _send(client, [first, second, other], _seen(client), **bar)
    assert "1 ticket updated." in content
    assert already in content

    content = _send(client, [first, second], _seen(client), **bar)
    assert already in content
    assert "updated." not in content
    assert "message-success" not in content


def test_references_in_messages_are_kept_whole_and_names_escaped(
    client, make_ticket, employee_a, agent
):
    """Each reference is one unbreakable span (a phone broke "INC-" / "000001" apart); the
    message holds markup, so whatever else it names is escaped."""
    odd = make_user(
        "support.odd", group=roles.SUPPORT_AGENTS, first_name="<b>Al</b>", last_name="&"
    )
    grabbed = make_ticket(employee_a)
    sign_in_verified(client, agent)
    seen = _seen(client)
    grabbed.assign(odd, odd)  # meanwhile
    content = _send(client, [grabbed], seen, action="assign", mine="1")
    assert (
        f'<span class="reference">{grabbed.reference}</span> (&lt;b&gt;Al&lt;/b&gt; &amp;).'
        in content
    )


def test_a_page_from_before_the_deploy_still_applies_its_bar(
    client, make_ticket, employee_a, agent
):
    """Its bar posts to the old URL with a next: 307 hands the same POST to that queue page."""
    tickets = [make_ticket(employee_a) for _ in range(2)]
    sign_in_verified(client, agent)
    form = {
        "tickets": [t.pk for t in tickets],
        "action": "assign",
        "assignee": agent.pk,
        "next": "/support/?status=all&sort=due",
    }
    response = client.post("/support/bulk/", form)
    assert response.status_code == 307
    assert response["Location"] == "/support/?status=all&sort=due"
    response = client.post("/support/bulk/", {**form, "next": "https://evil.example/"})
    assert response["Location"] == "/support/"
    response = client.post("/support/bulk/", form, follow=True)
    assert response.redirect_chain[-1] == ("/support/?status=all&sort=due", 302)
    assert {t.assignee_id for t in tickets for _ in [t.refresh_from_db()]} == {agent.pk}


def test_the_old_bulk_url_is_for_staff_only(client, ticket_a, employee_a):
    client.force_login(employee_a)
    assert client.post("/support/bulk/", {"next": "/support/"}).status_code == 403
