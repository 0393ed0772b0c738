from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from accounts.models import SecurityEvent
from conftest import make_user

from .helpers import both_parts, page_text

pytestmark = pytest.mark.django_db

URL = "/account/username/forgot/"


def test_known_and_unknown_addresses_get_the_same_page(client, outsider, mailoutbox):
    known = client.post(URL, {"email": outsider.email}, follow=True)
    unknown = client.post(URL, {"email": "nobody@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert page_text(known, outsider.email) == page_text(unknown, "nobody@example.org")
    assert [m.to for m in mailoutbox] == [[outsider.email], ["nobody@example.org"]]
    assert outsider.username in mailoutbox[0].body
    assert "No account uses this email address." in mailoutbox[1].body


def test_the_email_lists_every_user_name_with_that_address(client, company_a, mailoutbox):
    make_user("c10001.xa", company=company_a, email="shared@example.org")
    make_user("c10001.xb", company=company_a, email="shared@example.org")
    make_user("c10001.xc", company=company_a, email="other@example.org")
    client.post(URL, {"email": "SHARED@example.org"})
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "c10001.xa" in body and "c10001.xb" in body
    assert "c10001.xc" not in body
    assert SecurityEvent.objects.filter(kind="username_reminder").count() == 2


def test_bad_input_is_a_form_error(client, mailoutbox):
    response = client.post(URL, {"email": ""})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert mailoutbox == []


def test_the_form_page_renders(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"]


def test_the_email_greets_the_account_holder_by_name(client, outsider, mailoutbox):
    outsider.first_name, outsider.last_name = "Olga", "Owens"
    outsider.save()
    client.post(URL, {"email": outsider.email})
    for part in both_parts(mailoutbox[0]):
        assert "Hello Olga Owens," in part


def test_one_persons_accounts_are_greeted_by_name(client, company_a, mailoutbox):
    make_user("c10001.xa", company=company_a, email="jd@example.org", first_name="Jo")
    make_user("c99998.xb", email="jd@example.org", first_name="Jo")
    client.post(URL, {"email": "jd@example.org"})
    for part in both_parts(mailoutbox[0]):
        assert "Hello Jo Tester," in part


def test_accounts_of_different_people_get_a_neutral_greeting(client, company_a, mailoutbox):
    make_user("c10001.xa", company=company_a, email="team@example.org", first_name="Ann")
    make_user("c10001.xb", company=company_a, email="team@example.org", first_name="Ben")
    client.post(URL, {"email": "team@example.org"})
    for part in both_parts(mailoutbox[0]):
        assert "Hello,\n" in part or "<p>Hello,</p>" in part
        assert "Ann" not in part and "Ben" not in part


def test_the_sent_page_shows_the_address_and_fits_every_account(client, outsider):
    for address in (outsider.email, "nobody@example.org"):
        page = client.post(URL, {"email": address}, follow=True).content.decode()
        assert f"We have sent an email to <strong>{address}</strong>." in page
        assert "If accounts are registered with this email address" in page
        assert "If your company's Security Manager created your account" in unescape(page)
        assert "If you registered yourself, our support team can help" in page
        assert 'href="/tickets/cannot-sign-in/"' in page


def test_the_address_is_shown_once_and_only_to_whoever_entered_it(client, outsider):
    client.post(URL, {"email": outsider.email})
    first = client.get("/account/username/forgot/sent/")
    assert outsider.email in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    assert outsider.email not in client.get("/account/username/forgot/sent/").content.decode()
    assert outsider.email not in Client().get("/account/username/forgot/sent/").content.decode()


def test_one_user_name_is_announced_in_the_singular(client, outsider, mailoutbox):
    client.post(URL, {"email": outsider.email})
    for part in both_parts(mailoutbox[0]):
        assert "This user name is registered with this email address:" in part
        assert "These user names" not in part
