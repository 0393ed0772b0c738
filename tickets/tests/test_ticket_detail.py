from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.tests.manage_helpers import sign_in_verified
from tickets import services
from tickets.models import Message, Status, TicketEvent

from .conftest import START, upload


def url(ticket, action: str = "") -> str:
    return f"/tickets/{ticket.pk}/{action + '/' if action else ''}"


def test_anonymous_is_sent_to_sign_in(client, ticket_a):
    assert client.get(url(ticket_a)).status_code == 302


def test_the_requester_sees_the_ticket(client, ticket_a, employee_a):
    client.force_login(employee_a)
    response = client.get(url(ticket_a))
    assert response.status_code == 200
    assert ticket_a.reference in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_a_colleague_gets_404(client, ticket_a, employee_a2):
    client.force_login(employee_a2)
    assert client.get(url(ticket_a)).status_code == 404


def test_another_company_gets_404(client, ticket_a, manager_b, employee_b):
    for user in (manager_b, employee_b):
        client.force_login(user)
        assert client.get(url(ticket_a)).status_code == 404
        assert client.post(url(ticket_a, "reply"), {"body": "hi"}).status_code == 404
        assert client.post(url(ticket_a, "resolve")).status_code == 404


def test_the_security_manager_of_the_company_sees_it(client, ticket_a, manager_a):
    client.force_login(manager_a)
    assert client.get(url(ticket_a)).status_code == 200


def test_agents_see_every_ticket_with_triage_and_timeline(client, ticket_a, agent):
    client.force_login(agent)
    content = client.get(url(ticket_a)).content.decode()
    assert "Triage" in content
    assert "Timeline" in content


def test_customers_do_not_see_triage(client, ticket_a, employee_a):
    client.force_login(employee_a)
    content = client.get(url(ticket_a)).content.decode()
    assert "Triage" not in content
    assert "Internal note" not in content


def test_internal_notes_are_never_shown_to_customers(
    client, ticket_a, employee_a, manager_a, agent
):
    services.add_reply(ticket_a, agent, "SECRET-NOTE about the customer", internal=True)
    services.add_reply(ticket_a, agent, "Public answer")
    for user in (employee_a, manager_a):
        client.force_login(user)
        content = client.get(url(ticket_a)).content.decode()
        assert "Public answer" in content
        assert "SECRET-NOTE" not in content
    client.force_login(agent)
    assert "SECRET-NOTE" in client.get(url(ticket_a)).content.decode()


def test_get_on_post_only_urls_is_405(client, ticket_a, employee_a):
    client.force_login(employee_a)
    assert client.get(url(ticket_a, "reply")).status_code == 405
    assert client.get(url(ticket_a, "resolve")).status_code == 405
    assert client.post(url(ticket_a)).status_code == 405


def test_a_customer_reply_is_stored_with_attachments(client, ticket_a, employee_a):
    client.force_login(employee_a)
    response = client.post(url(ticket_a, "reply"), {"body": "More info", "attachments": [upload()]})
    assert response.status_code == 302
    message = Message.objects.get(body="More info")
    assert not message.is_internal
    assert message.attachments.count() == 1
    assert ticket_a.events.filter(kind=TicketEvent.Kind.REPLY, actor=employee_a).exists()


def test_a_customer_cannot_write_an_internal_note(client, ticket_a, employee_a):
    client.force_login(employee_a)
    client.post(url(ticket_a, "reply"), {"body": "Sneaky", "internal": "on"})
    assert Message.objects.get(body="Sneaky").is_internal is False


def test_an_empty_reply_is_a_form_error(client, ticket_a, employee_a):
    client.force_login(employee_a)
    assert client.post(url(ticket_a, "reply"), {"body": ""}).status_code == 400


def test_a_reply_with_a_bad_file_is_refused(client, ticket_a, employee_a):
    client.force_login(employee_a)
    response = client.post(
        url(ticket_a, "reply"), {"body": "x", "attachments": [upload("a.pdf", b"<html>")]}
    )
    assert response.status_code == 400
    assert not Message.objects.filter(body="x").exists()


def test_the_assignee_hears_of_a_customer_reply(
    client, ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_a.assign(agent, agent)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "It happens again"})
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert "It happens again" in mailoutbox[0].body


def test_the_assignee_learns_who_replied_and_from_which_company(
    client, ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_a.assign(agent, agent)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "It happens again"})
    email = mailoutbox[0]
    assert employee_a.get_full_name() in email.subject
    for part in (email.body, email.alternatives[0][0]):
        assert f"{employee_a.get_full_name()} replied on {ticket_a.reference}" in part
        assert employee_a.username in part
        assert "Alpha AG (10001)" in part


def test_a_reply_of_a_customer_without_company_names_only_them(
    client, make_ticket, outsider, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = make_ticket(outsider)
    ticket.assign(agent, agent)
    outsider.first_name = outsider.last_name = ""
    outsider.save()
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket, "reply"), {"body": "Any news?"})
    email = mailoutbox[0]
    assert f"Reply from {outsider.username} on {ticket.reference}" == email.subject
    assert f"{outsider.username} replied on" in email.body
    assert "Company" not in email.body


def test_a_customer_reply_moves_a_waiting_ticket_back_to_in_progress(
    client, ticket_a, employee_a, agent
):
    ticket_a.move_to(Status.WAITING, agent)
    client.force_login(employee_a)
    client.post(url(ticket_a, "reply"), {"body": "Here you are"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.waiting_since is None


def test_my_problem_is_solved_resolves_the_ticket(
    client, ticket_a, employee_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(ticket_a, "resolve"))
    assert response.status_code == 302
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.RESOLVED
    assert mailoutbox == []  # nobody is told about their own action


def test_the_requester_hears_when_their_manager_resolves_the_ticket(
    client, ticket_a, employee_a, manager_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "resolve"))
    assert [m.to for m in mailoutbox] == [[employee_a.email]]
    assert "resolved" in mailoutbox[0].subject


def test_resolving_twice_is_refused_with_a_message(client, ticket_a, employee_a, agent):
    ticket_a.move_to(Status.RESOLVED, agent)
    ticket_a.move_to(Status.CLOSED, agent)
    client.force_login(employee_a)
    response = client.post(url(ticket_a, "resolve"), follow=True)
    assert "cannot change from" in response.content.decode()


def test_replying_within_the_window_reopens_a_resolved_ticket(client, ticket_a, employee_a, agent):
    ticket_a.move_to(Status.RESOLVED, agent)
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        client.force_login(employee_a)
        client.post(url(ticket_a, "reply"), {"body": "Still broken"})
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.IN_PROGRESS
    assert ticket_a.events.filter(kind=TicketEvent.Kind.REOPENED, actor=employee_a).exists()


def test_the_assignee_learns_that_a_reply_reopened_the_resolved_ticket(
    client, ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_a.assign(agent, agent)
    ticket_a.move_to(Status.RESOLVED, agent)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "Still broken"})
        client.post(url(ticket_a, "reply"), {"body": "And more"})
    reopening, follow_up = mailoutbox
    for part in (reopening.body, reopening.alternatives[0][0]):
        assert "The ticket was resolved: this reply reopened it." in part
    assert "reopened" not in follow_up.body


def test_replying_after_the_window_is_refused(client, ticket_a, employee_a, agent):
    ticket_a.move_to(Status.RESOLVED, agent)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        client.force_login(employee_a)
        response = client.post(url(ticket_a, "reply"), {"body": "Still broken"})
        # Refused on the page itself, with the text still there to copy: nothing is lost.
        assert response.status_code == 409
        assert "report a new incident instead" in response.content.decode()
        assert re.search(r"<textarea[^>]*>\s*Still broken</textarea>", response.content.decode())
        content = client.get(url(ticket_a)).content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.status == Status.RESOLVED
    assert not Message.objects.filter(body="Still broken").exists()
    assert "My problem is solved" not in content


@pytest.mark.parametrize("count", [1, 20])
def test_the_detail_query_count_is_constant(
    client, ticket_a, agent, count, django_assert_max_num_queries
):
    for i in range(count):
        services.add_reply(ticket_a, agent, f"Reply {i}")
    client.force_login(agent)
    client.get(url(ticket_a))  # warm up: session adoption and per-user caches
    with django_assert_max_num_queries(12):  # the limit of issue 8
        assert client.get(url(ticket_a)).status_code == 200


def test_the_assignee_line_tells_namesakes_apart_as_the_select_does(
    client, ticket_a, agent, django_assert_num_queries
):
    from django.test.utils import CaptureQueriesContext

    from accounts import roles
    from conftest import make_user

    ticket_a.assign(agent, agent)
    sign_in_verified(client, agent)
    client.get(url(ticket_a))  # warm up: session adoption and per-user caches
    client.get(url(ticket_a))
    with CaptureQueriesContext(connection) as captured:
        client.get(url(ticket_a))
    ana = make_user("support.ana", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    make_user("support.aruiz", group=roles.SUPPORT_AGENTS, first_name="Ana", last_name="Ruiz")
    ticket_a.assign(ana, agent)
    with django_assert_num_queries(len(captured)):
        html = client.get(url(ticket_a)).content.decode()
    line = html.split("<dt>Assignee</dt><dd>", 1)[1].split("<", 1)[0]
    assert line.strip() == "Ana Ruiz (support.ana)"


def test_attachments_are_listed_under_their_own_message(client, ticket_a, employee_a, agent):
    services.add_reply(ticket_a, employee_a, "First", files=[(upload("one.png"), "image/png")])
    services.add_reply(
        ticket_a, agent, "Note", files=[(upload("secret.png"), "image/png")], internal=True
    )
    services.add_reply(
        ticket_a,
        employee_a,
        "Second",
        files=[(upload("two.png"), "image/png"), (upload("three.png"), "image/png")],
    )
    client.force_login(employee_a)
    content = client.get(url(ticket_a)).content.decode()
    first, second = content.index(">First<"), content.index(">Second<")
    assert first < content.index("one.png") < second
    assert second < content.index("two.png") < content.index("three.png")
    assert "secret.png" not in content
    client.force_login(agent)
    content = client.get(url(ticket_a)).content.decode()
    assert content.index("one.png") < content.index("secret.png") < content.index("two.png")


def _page_queries(client, ticket, user) -> int:
    """The ticket page's queries for ``user``, warm (the second request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    client.get(url(ticket))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url(ticket)).status_code == 200
    return len(captured)


def test_the_ticket_page_runs_the_same_queries_however_long_the_conversation(
    client, ticket_a, employee_a, agent, django_assert_max_num_queries
):
    def queries(user) -> int:
        return _page_queries(client, ticket_a, user)

    services.add_reply(ticket_a, employee_a, "First")  # a conversation: its authors' roles
    before = {user.pk: queries(user) for user in (employee_a, agent)}
    for number in range(6):
        services.add_reply(
            ticket_a, agent, f"Answer {number}", files=[(upload(f"{number}.png"), "image/png")]
        )
    assert {user.pk: queries(user) for user in (employee_a, agent)} == before


@pytest.mark.parametrize("pk", ["0", "9223372036854775808", "99999999999999999999999"])
def test_ids_out_of_range_are_404(client, employee_a, agent, pk):
    for user in (employee_a, agent):
        client.force_login(user)
        assert client.get(f"/tickets/{pk}/").status_code == 404


def test_the_requester_hears_when_their_manager_answers_on_their_incident(
    client, ticket_a, employee_a, manager_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    manager_a.first_name, manager_a.last_name = "Marta", "Keller"
    manager_a.save(update_fields=["first_name", "last_name"])
    ticket_a.assign(agent, agent)
    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "I restarted the VPN gateway."})
    to_requester = [m for m in mailoutbox if m.to == [employee_a.email]]
    assert len(to_requester) == 1
    body = to_requester[0].body
    assert "Marta Keller replied to your incident" in body and "Our support team" not in body
    assert "I restarted the VPN gateway." in body
    assert any(m.to == [agent.email] for m in mailoutbox)  # the assignee hears too, as before


def test_a_manager_resolves_an_employees_incident_in_their_own_words(
    client, ticket_a, employee_a, manager_a
):
    client.force_login(manager_a)
    html = client.get(url(ticket_a)).content.decode()
    assert "The problem is solved" in html and "My problem is solved" not in html
    client.force_login(employee_a)
    assert "My problem is solved" in client.get(url(ticket_a)).content.decode()


def _message_heads(html: str) -> dict[str, str]:
    """Each message's header as text, keyed by the author's name."""
    heads = {}
    for head in re.findall(r'<header class="message-head">(.*?)</header>', html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", head).split())
        heads[re.search(r"<strong>(.*?)</strong>", head)[1]] = text
    return heads


def test_each_reply_names_its_authors_role(
    client, ticket_a, employee_a, manager_a, agent, provider_admin
):
    manager_a.first_name, manager_a.last_name = "Marta", "Keller"
    manager_a.save(update_fields=["first_name", "last_name"])
    for author in (employee_a, manager_a, agent, provider_admin):
        services.add_reply(ticket_a, author, f"From {author.username}")
    for viewer in (employee_a, manager_a, agent):
        client.force_login(viewer)
        heads = _message_heads(client.get(url(ticket_a)).content.decode())
        assert "Security Manager" in heads["Marta Keller"], viewer
        assert "Support" in heads[agent.get_full_name()], viewer
        assert "Support" in heads[provider_admin.get_full_name()], viewer
        requester = heads[employee_a.get_full_name()]
        assert "Security Manager" not in requester and "Support" not in requester, viewer


def test_the_conversation_with_its_roles_is_three_queries(
    ticket_a, employee_a, manager_a, agent, django_assert_num_queries
):
    for author in (employee_a, manager_a, agent, employee_a, agent):
        services.add_reply(ticket_a, author, "Hello")
    with django_assert_num_queries(3):  # the messages with their authors, their roles, attachments
        messages = services.conversation(ticket_a, staff=False)
    assert [message.author_role for message in messages] == [
        "",
        services.SECURITY_MANAGER_ROLE,
        services.SUPPORT_ROLE,
        "",
        services.SUPPORT_ROLE,
    ]


def test_a_manager_of_another_company_is_not_shown_as_the_security_manager(
    ticket_a, manager_b, agent
):
    # Not possible through the pages (they cannot see the ticket); the role is that of the
    # ticket's company, not any company's.
    services.add_reply(ticket_a, manager_b, "Hello")
    [message] = services.conversation(ticket_a, staff=True)
    assert message.author_role == ""


def test_the_ticket_page_runs_the_same_queries_whoever_replies(
    client, ticket_a, employee_a, manager_a, agent
):
    def queries(user) -> int:
        return _page_queries(client, ticket_a, user)

    services.add_reply(ticket_a, employee_a, "First")
    viewers = (employee_a, manager_a, agent)
    before = {user.pk: queries(user) for user in viewers}
    for author in (manager_a, agent, employee_a, manager_a, agent):
        services.add_reply(ticket_a, author, "More")
    assert {user.pk: queries(user) for user in viewers} == before


@pytest.mark.parametrize(
    ("zone", "name"),
    [("Europe/Berlin", "CET/CEST"), ("America/Bogota", "UTC-05"), ("UTC", "UTC")],
)
def test_the_page_names_the_readers_time_zone_once(
    client, make_ticket, employee_a, agent, zone, name
):
    with time_machine.travel("2026-01-15 12:00Z", tick=False):
        ticket = make_ticket(employee_a)
        services.add_reply(ticket, agent, "Which client do you use?")
        for reader in (employee_a, agent):
            reader.time_zone = zone
            reader.save(update_fields=["time_zone"])
            client.force_login(reader)
            content = client.get(url(ticket)).content.decode()
            assert content.count(f"All times are shown in {name}.") == 1, reader


@pytest.mark.parametrize(
    ("zone", "name"), [("Europe/Berlin", "CET/CEST"), ("America/Bogota", "UTC-05")]
)
def test_the_lists_name_the_readers_time_zone_beside_their_times(
    client, make_ticket, employee_a, agent, zone, name
):
    """As the log tables do: in the column's header, and in its caption on a phone."""
    with time_machine.travel("2026-01-15 12:00Z", tick=False):
        make_ticket(employee_a)
        for reader, path, label in (
            (employee_a, "/tickets/", "Created"),
            (agent, "/support/", "Due"),
        ):
            reader.time_zone = zone
            reader.save(update_fields=["time_zone"])
            sign_in_verified(client, reader)
            content = client.get(path).content.decode()
            assert f'{label} <span class="muted">({name})</span></th>' in content, path
            assert f'data-label="{label} ({name})"' in content, path


# --- Support hears of customer replies while nobody is assigned --------------------------


def test_every_support_agent_hears_of_a_reply_on_an_unassigned_ticket(
    client,
    ticket_a,
    employee_a,
    agent,
    provider_admin,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from accounts import roles
    from conftest import make_user

    colleague = make_user("support.kim", group=roles.SUPPORT_AGENTS)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "It happens again"})
    assert sorted(m.to[0] for m in mailoutbox) == sorted([agent.email, colleague.email])
    for part in (mailoutbox[0].body, mailoutbox[0].alternatives[0][0]):
        assert (
            f"replied on {ticket_a.reference} “Mail is down”, which nobody is assigned to" in part
        )
        assert "assigned to you" not in part
        assert "It happens again" in part


def test_support_hears_when_a_reply_reopens_an_unassigned_ticket(
    client, ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_a.move_to(Status.RESOLVED, agent)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "Still broken"})
    [email] = mailoutbox
    assert email.to == [agent.email]
    assert "The ticket was resolved: this reply reopened it." in email.body


def test_support_hears_of_a_burst_of_replies_once_per_window(customer_replies, agent, settings):
    """The window runs from the email: a reply in it sends none, a reply at its end (or later)
    sends the next one, which counts the replies held back."""
    from accounts import roles
    from conftest import make_user

    colleague = make_user("support.kim", group=roles.SUPPORT_AGENTS)
    settings.TICKET_REPLY_NOTICE_WINDOW = 15 * 60
    first = customer_replies(0, body="It happens again")
    assert sorted(m.to[0] for m in first) == sorted([agent.email, colleague.email])
    assert "more repl" not in first[0].body
    for seconds in (60, 120, 15 * 60 - 1):  # held back, up to the last second of the window
        assert customer_replies(seconds) == []
    at_the_edge = customer_replies(15 * 60, body="Now the printer too")
    assert sorted(m.to[0] for m in at_the_edge) == sorted([agent.email, colleague.email])
    for part in (at_the_edge[0].body, at_the_edge[0].alternatives[0][0]):
        assert "Now the printer too" in part
        assert (
            "Since the last email about this ticket, 3 more replies came in before this one: "
            "open the ticket to read them." in part
        )
    # The next window runs from that email.
    assert customer_replies(30 * 60 - 1) == []
    assert "1 more reply came in" in customer_replies(30 * 60)[0].body


def test_support_answering_makes_the_next_reply_news_again(customer_replies, ticket_a, agent):
    assert len(customer_replies(0)) == 1
    services.add_reply(ticket_a, agent, "Internal: checking", internal=True)
    assert customer_replies(60) == []  # a note is no answer to the customer
    with time_machine.travel(START + timedelta(seconds=120), tick=False):
        services.add_reply(ticket_a, agent, "Which printer?")
    [email] = customer_replies(180, body="The one on floor 2")
    assert "The one on floor 2" in email.body
    assert "more repl" not in email.body


def test_a_reply_that_reopens_the_ticket_is_news_within_the_window(
    customer_replies, ticket_a, agent
):
    assert len(customer_replies(0)) == 1
    with time_machine.travel(START + timedelta(seconds=60), tick=False):
        services.change_status(ticket_a, Status.RESOLVED, agent)  # resolved without a reply
    [email] = customer_replies(120, body="Still broken")
    assert "The ticket was resolved: this reply reopened it." in email.body


def test_a_reply_that_waited_for_the_ticket_is_counted_once_held_back(
    ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    """Two replies at once: the one that waits for the ticket's lock while the other starts a
    window is held back, and the next email counts it."""
    from unittest.mock import patch

    from tickets.models import Ticket

    lock = Ticket.objects.select_for_update
    others = ["Stored first"]
    with (
        time_machine.travel(START, tick=False) as clock,
        django_capture_on_commit_callbacks(execute=True),
    ):

        def the_other_reply_locks_first(*args, **kwargs):
            if others:
                clock.shift(1)
                services.add_reply(ticket_a, employee_a, others.pop())
                clock.shift(1)
            return lock(*args, **kwargs)

        with patch.object(Ticket.objects, "select_for_update", the_other_reply_locks_first):
            services.add_reply(ticket_a, employee_a, "Waited for the lock")
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert "Stored first" in mailoutbox[0].body
    with (
        time_machine.travel(START + timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.add_reply(ticket_a, employee_a, "Any news?")
    assert "1 more reply came in before this one" in mailoutbox[-1].body


def test_the_assignee_hears_of_every_reply(customer_replies, ticket_a, agent):
    ticket_a.assign(agent, agent)
    assert [len(customer_replies(seconds)) for seconds in (0, 10, 20)] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_replies_at_once_from_two_processes_email_support_once(employee_a, agent, mailoutbox):
    """Web processes store a reply each at the same moment: the ticket's row, locked by
    add_reply, lets only one of them start a window."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tickets.models import Category

    # An earlier transactional test's flush may have removed the migration's categories.
    category, _ = Category.objects.get_or_create(code="other", defaults={"name": "Other"})
    ticket_a = services.create_ticket(
        requester=employee_a,
        category=category,
        subject="Mail is down",
        description="Outlook says disconnected.",
        impact="low",
        urgency="low",
        notify=False,
    )
    start = Barrier(4)

    def reply(number: int) -> None:
        try:
            start.wait()
            services.add_reply(ticket_a, employee_a, f"Reply {number}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(reply, range(4)))
    assert [m.to for m in mailoutbox] == [[agent.email]]


def test_only_the_assignee_hears_of_a_reply_on_an_assigned_ticket(
    client, ticket_a, employee_a, agent, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts import roles
    from conftest import make_user

    make_user("support.kim", group=roles.SUPPORT_AGENTS)
    ticket_a.assign(agent, agent)
    client.force_login(employee_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket_a, "reply"), {"body": "It happens again"})
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert "assigned to you" in mailoutbox[0].body


# --- The files of the report -------------------------------------------------------------


def _report_with_file(make_ticket, requester):
    return make_ticket(
        requester,
        description="The DESCRIPTION-TEXT",
        files=[(upload("report.png"), "image/png")],
    )


def test_the_files_of_the_report_are_shown_once_under_the_description(
    client, make_ticket, employee_a, agent
):
    ticket = _report_with_file(make_ticket, employee_a)
    services.add_reply(ticket, employee_a, "Reply", files=[(upload("later.png"), "image/png")])
    for user in (employee_a, agent):
        client.force_login(user)
        content = client.get(url(ticket)).content.decode()
        assert content.count("DESCRIPTION-TEXT") == 1
        assert content.count("report.png") == 1
        description, conversation = content.split('id="conversation-title"')
        assert "report.png" in description
        assert "later.png" in conversation and "later.png" not in description


def test_a_report_without_further_messages_has_no_conversation_yet(client, make_ticket, employee_a):
    ticket = _report_with_file(make_ticket, employee_a)
    client.force_login(employee_a)
    assert "No messages yet." in client.get(url(ticket)).content.decode()


def test_existing_reports_get_their_files_under_the_description(make_ticket, employee_a, agent):
    """The migration finds the messages create_ticket made before they were marked."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("tickets.migrations.0005_message_is_description")
    ticket = _report_with_file(make_ticket, employee_a)
    services.add_reply(ticket, employee_a, "The DESCRIPTION-TEXT")  # the same words, later
    services.add_reply(ticket, agent, "Answer")
    Message.objects.update(is_description=False)  # as before the migration
    migration.mark_description_messages(apps, None)
    marked = Message.objects.filter(is_description=True)
    assert [(m.body, m.attachments.count()) for m in marked] == [("The DESCRIPTION-TEXT", 1)]
    assert marked.get().created_at == ticket.created_at
