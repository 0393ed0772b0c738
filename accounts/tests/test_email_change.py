from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import EmailChangeRequest, SecurityEvent
from conftest import PASSWORD

from .helpers import both_parts

PROFILE = {
    "first_name": "Jonas",
    "last_name": "Dietrich",
    "phone": "",
    "preferred_language": "en",
    "time_zone": "Europe/Berlin",
}


def request_change(client, email="new.address@example.org"):
    return client.post("/account/profile/", {**PROFILE, "email": email})


def confirm_link(mailoutbox) -> str:
    mail = next(m for m in mailoutbox if m.to == ["new.address@example.org"])
    return re.search(r"http://portal\.test(/account/email/confirm/\S+/)", mail.body).group(1)


def test_the_profile_page_requires_sign_in_and_is_not_cached(client, sign_in, employee_a):
    assert client.get("/account/profile/").status_code == 302
    sign_in(employee_a)
    response = client.get("/account/profile/")
    assert "no-store" in response["Cache-Control"]
    assert 'value="c10001_ea@example.com"' in response.text


def test_the_email_is_mandatory(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.post("/account/profile/", {**PROFILE, "email": ""})
    assert response.status_code == 400
    assert "This field is required." in response.text


def test_changing_the_email_sends_a_link_to_the_new_and_a_notice_to_the_old(
    client, sign_in, employee_a, mailoutbox
):
    sign_in(employee_a)
    mailoutbox.clear()
    response = request_change(client)
    assert response.url == "/account/profile/"
    employee_a.refresh_from_db()
    assert employee_a.email == "c10001_ea@example.com"  # not yet
    recipients = sorted(mail.to[0] for mail in mailoutbox)
    assert recipients == ["c10001_ea@example.com", "new.address@example.org"]
    assert "We sent a confirmation link" in client.get("/account/profile/").text


def test_the_change_applies_only_on_post_of_the_confirmation_page(
    client, sign_in, employee_a, mailoutbox
):
    sign_in(employee_a)
    request_change(client)
    link = confirm_link(mailoutbox)
    mailoutbox.clear()
    page = client.get(link)
    assert page.status_code == 200
    employee_a.refresh_from_db()
    assert employee_a.email == "c10001_ea@example.com"
    assert client.post(link).url == "/account/profile/"
    employee_a.refresh_from_db()
    assert employee_a.email == "new.address@example.org"
    assert employee_a.email_verified
    assert [mail.to for mail in mailoutbox] == [["c10001_ea@example.com"]]
    assert mailoutbox[0].subject == "Your email address was changed"
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.EMAIL_CHANGED
    ).exists()


def test_the_link_works_once(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    request_change(client)
    link = confirm_link(mailoutbox)
    client.post(link)
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_the_link_expires(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    request_change(client)
    link = confirm_link(mailoutbox)
    client.post("/account/logout/")
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        sign_in(employee_a)
        assert client.post(link).status_code == 404
    employee_a.refresh_from_db()
    assert employee_a.email == "c10001_ea@example.com"


def test_a_newer_request_supersedes_the_older_link(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    request_change(client)
    first = confirm_link(mailoutbox)
    request_change(client, email="other@example.org")
    assert client.post(first).status_code == 404
    assert EmailChangeRequest.objects.filter(superseded=False).count() == 1


def test_another_user_cannot_use_the_link(client, sign_in, employee_a, employee_a2, mailoutbox):
    sign_in(employee_a)
    request_change(client)
    link = confirm_link(mailoutbox)
    client.post("/account/logout/")
    sign_in(employee_a2)
    assert client.post(link).status_code == 404


def test_a_tampered_link_is_404(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    request_change(client)
    link = confirm_link(mailoutbox)
    assert client.get(link.replace("/confirm/", "/confirm/x")).status_code == 404


def test_confirming_a_new_email_asks_for_the_password_when_the_sign_in_is_old(
    client, sign_in, employee_a, mailoutbox
):
    """A session alone must not move the address that recovers the account."""
    sign_in(employee_a)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        request_change(client)
        link = confirm_link(mailoutbox)
        response = client.post(link)
        assert response.url == f"/account/security/confirm/?{urlencode({'next': link})}"
        employee_a.refresh_from_db()
        assert employee_a.email == "c10001_ea@example.com"

        client.post(response.url, {"password": PASSWORD})
        assert client.post(link).url == "/account/profile/"
    employee_a.refresh_from_db()
    assert employee_a.email == "new.address@example.org"


def test_the_confirmation_email_says_it_needs_a_sign_in_and_maybe_the_password(
    client, sign_in, employee_a, mailoutbox, settings
):
    assert settings.REAUTHENTICATION_MAX_AGE == 300
    sign_in(employee_a)
    request_change(client)
    mail = next(m for m in mailoutbox if m.to == ["new.address@example.org"])
    for part in both_parts(mail):
        assert (
            "You need to be signed in as c10001.ea to confirm. If you last entered your "
            "password more than 5 minutes ago, you will be asked for it again." in part
        )


def test_a_link_opened_signed_out_leads_to_the_sign_in_which_says_why(
    client, sign_in, employee_a, mailoutbox
):
    sign_in(employee_a)
    request_change(client)
    path = confirm_link(mailoutbox)
    other_browser = Client()
    response = other_browser.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=")
    page = other_browser.get(response["Location"]).content.decode()
    assert "Sign in to confirm your new email address." in page


def test_the_log_names_the_profile_fields_that_changed_and_nothing_when_none_did(
    client, sign_in, employee_a
):
    """As when a Security Manager edits an employee: a save that changed nothing, or only
    asked for a new email (logged as its own request), is no "Profile changed"."""
    sign_in(employee_a)
    unchanged = {
        "first_name": employee_a.first_name,
        "last_name": employee_a.last_name,
        "phone": "",
        "preferred_language": employee_a.preferred_language,
        "time_zone": employee_a.time_zone,
        "email": employee_a.email,
    }
    profile_changes = SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.PROFILE_CHANGED
    )
    assert client.post("/account/profile/", unchanged).status_code == 302
    client.post("/account/profile/", {**unchanged, "email": "new.address@example.org"})
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.EMAIL_CHANGE_REQUESTED
    ).exists()
    assert not profile_changes.exists()
    client.post("/account/profile/", {**unchanged, "phone": "+49 30 1234567"})
    assert [event.data["fields"] for event in profile_changes] == [["phone"]]
