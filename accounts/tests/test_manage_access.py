"""Who may open /manage/: verified security managers only; scoping on every manager URL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.tests.manage_helpers import sign_in_verified

pytestmark = pytest.mark.django_db

GET_URLS = [
    "/manage/",
    "/manage/employees/new/",
    "/manage/employees/import/",
    "/manage/policies/",
    "/manage/log/",
]
POST_ONLY_URLS = ["/manage/employees/actions/", "/manage/employees/import/confirm/"]


@pytest.mark.parametrize("url", GET_URLS + POST_ONLY_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url) if url in GET_URLS else client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


@pytest.mark.parametrize("url", GET_URLS)
def test_employees_and_support_agents_get_403(client, employee_a, agent, url):
    for user in (employee_a, agent):
        sign_in_verified(client, user)
        assert client.get(url).status_code == 403


def test_a_manager_without_a_company_is_no_manager(client, agent):
    agent.groups.add(Group.objects.get(name=roles.SECURITY_MANAGERS))
    sign_in_verified(client, agent)
    assert client.get("/manage/").status_code == 403


@pytest.mark.parametrize("url", GET_URLS)
def test_a_manager_signed_in_without_second_factor_is_told_to_use_one(client, manager_a, url):
    # The manager has an authenticator but this session was not verified with it.
    TOTPDevice.objects.create(user=manager_a, name="default", confirmed=True)
    client.force_login(manager_a)
    response = client.get(url)
    assert response.status_code == 403
    assert "Second factor required" in response.content.decode()
    assert 'href="/account/security/"' in response.content.decode()


@pytest.mark.parametrize("url", GET_URLS)
def test_a_verified_manager_opens_every_page_without_caching(manager_client, url):
    response = manager_client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", POST_ONLY_URLS)
def test_get_on_post_only_urls_is_405(manager_client, url):
    assert manager_client.get(url).status_code == 405


def test_the_main_nav_links_to_company_administration_for_managers_only(
    client, manager_a, employee_a
):
    sign_in_verified(client, manager_a)
    assert 'href="/manage/"' in client.get("/dashboard/").content.decode()
    sign_in_verified(client, employee_a)
    assert 'href="/manage/"' not in client.get("/dashboard/").content.decode()


def test_posting_a_company_id_never_changes_the_company(manager_client, company_a, company_b):
    """Scoping: every manager page takes the company from the manager, never from input."""
    manager_client.post(
        "/manage/employees/new/",
        {"first_name": "Jana", "last_name": "Doe", "language": "en", "company": company_b.pk},
    )
    manager_client.post(
        f"/manage/policies/?company={company_b.pk}",
        {"mfa_required": "on", "company": company_b.pk, "password_max_age_days": "30"},
    )
    company_b.refresh_from_db()
    assert not company_b.mfa_required
    assert not company_b.users.filter(last_name="Doe").exists()
    assert company_a.users.filter(last_name="Doe").exists()
