from __future__ import annotations

import pytest

from accounts.models import SecurityEvent
from conftest import make_user

from .helpers import page_text

pytestmark = pytest.mark.django_db

URL = "/account/username/forgot/"


def test_known_and_unknown_addresses_get_the_same_page(client, outsider, mailoutbox):
    known = client.post(URL, {"email": outsider.email}, follow=True)
    unknown = client.post(URL, {"email": "nobody@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert page_text(known) == page_text(unknown)
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
