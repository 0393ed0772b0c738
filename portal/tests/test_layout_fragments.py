"""The layout's cached fragments: served from the cache, a page is exactly what a fresh render
would be, for every language, role and page; per-user and per-request parts never leak."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client

from conftest import with_strong_factor

CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

PAGES = {
    "anonymous": ["/", "/account/login/", "/account/login/help/", "/account/register/"],
    "employee": [
        "/dashboard/",
        "/tickets/",
        "/tickets/new/",
        "/account/profile/",
        "/account/security/two-factor/setup/",
    ],
    "manager": ["/dashboard/", "/manage/", "/tickets/"],
    "agent": ["/dashboard/", "/support/"],
    # Must add an authenticator first: the layout links nothing that leads back to it.
    "enrolling": ["/account/security/two-factor/setup/", "/account/login/help/"],
}


def _page(client: Client, path: str, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return CSRF_VALUE.sub('name="csrfmiddlewaretoken" value="…"', response.content.decode())


def _client_for(role, users, verified_login) -> Client:
    client = Client()
    if role in ("employee", "enrolling"):
        client.force_login(users[role])
    elif role != "anonymous":
        verified_login(users[role], c=client)
    return client


@pytest.fixture
def users(employee_a, manager_a, agent, employee_b):
    employee_b.company.mfa_required = True
    employee_b.company.save()
    return {
        "employee": employee_a,
        "manager": manager_a,
        "agent": with_strong_factor(agent),
        "enrolling": employee_b,
    }


@pytest.mark.django_db
# Frozen clock: the two passes sign people in again, and "last sign-in" columns show minutes.
@time_machine.travel(datetime(2026, 6, 1, 9, 30, tzinfo=UTC), tick=False)
def test_pages_from_cached_fragments_equal_fresh_renders(settings, users, verified_login):
    rendered = {}
    backends = {
        False: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        True: settings.CACHES["fragments"],
    }
    for cached in (False, True):
        settings.CACHES = {**settings.CACHES, "fragments": backends[cached]}
        assert type(caches["fragments"]).__name__ == ("LocMemCache" if cached else "DummyCache")
        for language in ("en", "de", "es"):
            for role, paths in PAGES.items():
                client = _client_for(role, users, verified_login)
                for path in paths:
                    # Twice: the second answer comes from the fragments the first one stored.
                    _page(client, path, language)
                    rendered[cached, language, role, path] = _page(client, path, language)
    for key in [key[1:] for key in rendered if key[0]]:
        assert rendered[(True, *key)] == rendered[(False, *key)], key


@pytest.mark.django_db
def test_fragments_are_stored_and_reused(client, employee_a):
    client.force_login(employee_a)
    client.get("/dashboard/")
    fragments = caches["fragments"]
    stored = len(fragments._cache)
    assert stored >= 4  # head, top, user menu, footer (and the idle notice)
    client.get("/dashboard/")
    assert len(fragments._cache) == stored


@pytest.mark.django_db
def test_names_tokens_and_paths_are_not_cached(employee_a, employee_a2):
    first, second = Client(), Client()
    first.force_login(employee_a)
    second.force_login(employee_a2)
    page_a = first.get("/dashboard/").content.decode()
    page_b = second.get("/tickets/?status=open").content.decode()
    assert employee_a.username in page_a and employee_a.username not in page_b
    assert employee_a2.username in page_b
    # The language form and the idle notice send the user back to their own page.
    assert page_b.count('name="next" value="/tickets/?status=open"') == 2
    # Every form carries this request's own token (masked once per request).
    tokens_a, tokens_b = set(CSRF_VALUE.findall(page_a)), set(CSRF_VALUE.findall(page_b))
    assert len(tokens_a) == len(tokens_b) == 1 and tokens_a != tokens_b
    assert set(CSRF_VALUE.findall(first.get("/dashboard/").content.decode())) != tokens_a


@pytest.mark.django_db
def test_current_page_and_language_are_part_of_the_key(client, employee_a):
    client.force_login(employee_a)
    dashboard = client.get("/dashboard/").content.decode()
    tickets = client.get("/tickets/").content.decode()
    assert re.search(r'href="/dashboard/" aria-current="page"', dashboard)
    assert not re.search(r'href="/dashboard/" aria-current="page"', tickets)
    assert re.search(r'href="/tickets/" aria-current="page"', tickets)
    client.cookies["django_language"] = "de"
    german = client.get("/dashboard/").content.decode()
    assert 'lang="de"' in german and ">Abmelden<" in german
    assert '<option value="de" selected' in german


@pytest.mark.django_db
def test_roles_are_part_of_the_key(client, employee_a, manager_a, verified_login):
    client.force_login(employee_a)
    assert 'href="/manage/"' not in client.get("/dashboard/").content.decode()
    manager = Client()
    verified_login(manager_a, c=manager)
    assert 'href="/manage/"' in manager.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_idle_limits_are_part_of_the_key(client, employee_a, settings):
    client.force_login(employee_a)
    assert 'data-idle-timeout="7200"' in client.get("/dashboard/").content.decode()
    settings.SESSION_IDLE_TIMEOUT = 1800
    assert 'data-idle-timeout="1800"' in client.get("/dashboard/").content.decode()
