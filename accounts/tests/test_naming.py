"""One name for one thing across pages: what the audits found named two ways."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .helpers import assert_title_is_the_heading, title_and_heading

pytestmark = pytest.mark.django_db


def _badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge[^"]*">([^<]+)</span>', html)


def test_two_factor_state_reads_set_up_or_not_set_up(client, sign_in, employee_a):
    sign_in(employee_a)
    badges = _badges(client.get("/account/security/").content.decode())
    assert "not set up" in badges
    assert "off" not in badges and "on" not in badges


def test_account_pages_have_their_heading_as_their_tab_title(client, sign_in, employee_a):
    anonymous = Client()
    pages = {
        "register": anonymous.get("/account/register/"),
        "invalid link": anonymous.get("/account/verify/MQ/nonsense/"),
    }
    employee_a.must_change_password = True
    employee_a.save(update_fields=["must_change_password"])
    sign_in(employee_a)
    pages["initial password"] = client.get("/account/password/initial/")
    employee_a.must_change_password = False
    employee_a.save(update_fields=["must_change_password"])
    pages["profile"] = client.get("/account/profile/")
    for name, response in pages.items():
        assert response.status_code in (200, 400), name
        title, heading = title_and_heading(response)
        assert title == heading, name


def test_the_accounts_address_is_the_personal_email_everywhere(client, sign_in, employee_a):
    registration = Client().get("/account/register/").text
    assert '<label for="id_email">Personal email' in registration
    assert "professional" not in registration.lower()
    # "Personal" means the user's own, not private: the help says a work address is fine.
    assert "only you read, such as your work address" in registration
    assert "Your own work address" not in registration
    sign_in(employee_a)
    for path in ("/dashboard/", "/account/profile/"):
        html = client.get(path).text
        assert "<dt>Personal email</dt>" in html, path
        assert "<dt>Email</dt>" not in html, path


def test_the_help_page_has_one_card_per_topic(client):
    html = client.get("/account/login/help/").text
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert len(headings) == len(set(headings))
    assert "No login yet?" not in headings  # the same topic as "You have no login yet"
    assert html.count('href="/access/"') == 1


def test_the_employee_list_says_set_up_or_not_set_up(manager_client, employee_a):
    badges = _badges(manager_client.get("/manage/").content.decode())
    assert "not set up" in badges
    assert "off" not in badges and "on" not in badges


def test_the_manage_pages_call_the_address_personal_email(manager_client, employee_a):
    for path in ("/manage/", f"/manage/employees/{employee_a.pk}/"):
        html = manager_client.get(path).content.decode()
        assert "Personal email</t" in html or "<dt>Personal email</dt>" in html, path
        assert ">Email<" not in html, path


def test_the_check_your_inbox_pages_name_their_flow_in_the_tab_title(client):
    paths = {
        "password": "/account/password/forgot/sent/",
        "username": "/account/username/forgot/sent/",
        "check": "/account/unblock/sent/",
    }
    titles = {}
    for name, path in paths.items():
        page = client.get(path)
        assert "<h1>Check your inbox</h1>" in page.content.decode(), name
        titles[name] = assert_title_is_the_heading(page, name)
    assert titles == {
        "password": "Check your inbox: password reset",
        "username": "Check your inbox: user name reminder",
        "check": "Check your inbox: account status",
    }


def test_the_spanish_state_filter_speaks_of_accounts_as_the_badges_do(
    manager_client, employee_a, settings
):
    """The list's state badges say "activa", "bloqueada" (la cuenta): the state filter's words
    are feminine too ("Todas", "Activas"), so its "All" is not the security log's "Todos"
    (los eventos) but a message of its own (context "accounts")."""
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    html = manager_client.get("/manage/").content.decode()
    assert 'lang="es"' in html
    state_select = re.search(r'<select name="state".*?</select>', html, re.S)[0]
    labels = re.findall(r">([^<]+)</option>", state_select)
    assert len(labels) == 4
    assert [label for label in labels if label.endswith(("o", "os"))] == []
