from __future__ import annotations

import re

import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.tests.manage_helpers import sign_in_verified
from tickets.models import LOGIN_CATEGORY_CODE, Ticket

URL = reverse("tickets:cannot_sign_in")


def _data(**extra):
    return {
        "name": "Eva Example",
        "email": "eva@example.com",
        "username": "c10001.ea",
        "description": "It says my password is wrong, but it is right.",
        **extra,
    }


def test_it_is_reachable_without_signing_in(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_it_creates_a_login_ticket_for_support(client, employee_a):
    response = client.post(URL, _data())
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:cannot_sign_in_sent")
    ticket = Ticket.objects.get()
    assert ticket.category.code == LOGIN_CATEGORY_CODE
    assert ticket.requester is None
    assert ticket.contact_email == "eva@example.com"
    assert ticket.contact_username == "c10001.ea"
    assert ticket.reference.startswith("INC-")


def test_it_answers_the_same_whatever_was_entered(client, employee_a):
    known = client.post(URL, _data(), follow=True)
    unknown = client.post(URL, _data(username="c99999.zz", email="x@y.org"), follow=True)
    assert known.status_code == unknown.status_code == 200

    def strip(response):
        return re.sub(r'value="[^"]{64}"', "", response.content.decode())

    assert strip(known) == strip(unknown)
    assert Ticket.objects.count() == 2


def test_the_request_never_links_the_ticket_to_an_account(client, employee_a):
    client.post(URL, _data(username=employee_a.username, email=employee_a.email))
    client.force_login(employee_a)
    assert client.get("/tickets/").content.decode().count("Cannot sign in") == 0


def test_invalid_input_is_a_form_error(client, db):
    response = client.post(URL, _data(email="not-an-email"))
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_it_is_throttled_per_ip(client, settings, db):
    settings.TICKET_HELP_REQUEST_LIMIT, settings.TICKET_HELP_REQUEST_WINDOW = 3, 3600
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            assert client.post(URL, _data()).status_code == 302
        traveller.shift(3000)
        response = client.post(URL, _data(description="Still locked out, see above."))
        assert response.status_code == 429
        assert response["Retry-After"] == "600"  # what is left of the hour, not the hour
        text = response.content.decode()
        assert (
            "There were too many requests from your network. Please try again in ten minutes."
        ) in text
        assert 'value="eva@example.com"' in text  # nothing typed is lost
        assert "Still locked out, see above.</textarea>" in text
        assert Ticket.objects.count() == 3
        other_ip = client.post(URL, _data(), REMOTE_ADDR="10.9.8.7")
        assert other_ip.status_code == 302
        traveller.shift(600)
        assert client.post(URL, _data()).status_code == 302


def test_agents_see_the_request_in_the_queue(client, agent):
    client.post(URL, _data())
    sign_in_verified(client, agent)
    content = client.get("/support/").content.decode()
    assert "Cannot sign in: c10001.ea" in content


def test_the_contact_gets_answers_in_the_requests_language_with_a_way_to_answer(
    client, agent, db, mailoutbox
):
    from tickets import services

    client.post(URL, _data(), HTTP_ACCEPT_LANGUAGE="de")
    ticket = Ticket.objects.get()
    assert ticket.contact_language == "de"
    services.add_reply(ticket, agent, "Bitte prüfen Sie die Feststelltaste & melden Sie sich.")
    mail = mailoutbox[-1]
    assert mail.to == ["eva@example.com"]
    assert mail.subject.startswith("Neue Antwort")  # German, as the form was
    assert ticket.reference in mail.body
    assert f"http://portal.test{URL}" in mail.body  # where to answer, without an account
    assert f"http://portal.test{URL}" in mail.alternatives[0][0]
    assert "Bitte prüfen Sie die Feststelltaste & melden Sie sich." in mail.body


def test_someone_who_forgot_their_user_name_too_can_ask(client, db):
    """The "no email?" advice of the forgotten-user-name page links here."""
    response = client.post(URL, _data(username=""))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.contact_username == ""
    assert ticket.subject == "Cannot sign in: eva@example.com"


def test_forms_sent_back_for_correction_do_not_use_up_the_limit(client, settings, db):
    settings.TICKET_HELP_REQUEST_LIMIT = 2
    for _ in range(3):
        assert client.post(URL, _data(email="")).status_code == 400
    assert client.post(URL, _data()).status_code == 302
    assert client.post(URL, _data()).status_code == 302
    assert client.post(URL, _data()).status_code == 429


def test_the_page_is_for_anyone_who_needs_support_to_sign_in(client, db):
    html = client.get(URL).text
    assert "<h1>Ask support for help with signing in</h1>" in html
    assert "know my credentials" not in html
