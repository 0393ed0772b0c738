from __future__ import annotations

import re

from django.test import Client
from django.urls import resolve
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import ALWAYS_ALLOWED
from mfa.tests.conftest import current_code, token_post

SETUP = "/account/security/two-factor/setup/"


def _header(page: str) -> str:
    return re.search(r"<header.*?</header>", page, re.S).group(0)


def _header_targets(page: str) -> set[str]:
    """The URL names the page's header links and posts to."""
    targets = set()
    for url in re.findall(r'(?:href|action)="([^"#]+)"', _header(page)):
        match = resolve(url)
        targets.add(f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name)
    return targets


def test_a_user_of_an_mfa_company_without_authenticator_must_enrol_first(
    client, employee_a, sign_in
):
    employee_a.company.mfa_required = True
    employee_a.company.save()
    response = sign_in(employee_a)
    assert response.status_code == 302
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 302 and dashboard["Location"] == SETUP
    assert client.get("/account/profile/")["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    # Right after the password the sudo window is open: the user can enrol at once.
    assert client.get(f"{SETUP}totp/").status_code == 200


def test_during_a_required_enrolment_the_header_offers_only_what_the_user_may_reach(
    client, employee_a, sign_in
):
    """Every other page leads back to the enrolment: the header keeps the language and
    "Log out", and no dashboard, incidents, profile or security links (nor the home link)."""
    employee_a.company.mfa_required = True
    employee_a.company.save()
    sign_in(employee_a)
    for path in (SETUP, "/account/login/help/"):  # the enrolment, and a page always allowed
        header = _header(client.get(path).content.decode())
        assert _header_targets(header) == {"switch_language", "accounts:logout"}, path
        assert _header_targets(header) <= ALWAYS_ALLOWED
        assert ">Log out<" in header and 'id="language-select"' in header
        for label in ("Dashboard", "My incidents", "New incident", "Profile", "Security"):
            assert f">{label}<" not in header, (path, label)


def test_a_security_manager_enrolling_a_strong_factor_sees_no_company_link(
    client, manager_a, email_device
):
    TOTPDevice.objects.filter(user=manager_a).delete()
    email_device(manager_a)
    client.force_login(manager_a)
    header = _header(client.get(SETUP).content.decode())
    assert _header_targets(header) == {"switch_language", "accounts:logout"}
    assert ">Company<" not in header


def test_an_authenticator_added_by_choice_keeps_the_whole_header(client, employee_a, employee_a2):
    """Same page, same language: the cached layout keeps the two apart."""
    employee_a.company.mfa_required = True
    employee_a.company.save()
    TOTPDevice.objects.create(user=employee_a2, name="app", confirmed=True)
    required, by_choice = Client(), Client()
    required.force_login(employee_a)
    by_choice.force_login(employee_a2)
    assert _header_targets(required.get(SETUP).content.decode()) == {
        "switch_language",
        "accounts:logout",
    }
    targets = _header_targets(by_choice.get(SETUP).content.decode())
    assert {"home", "dashboard", "tickets:list", "accounts:profile", "accounts:security"} <= (
        targets
    )
    assert "home" not in _header_targets(required.get(SETUP).content.decode())


def test_after_enrolment_the_portal_is_reachable(client, employee_a, sign_in):
    employee_a.company.mfa_required = True
    employee_a.company.save()
    sign_in(employee_a)
    client.post(f"{SETUP}totp/", {"name": "app"})
    device = client.get(f"{SETUP}totp/").context["device"]
    response = client.post(f"{SETUP}totp/", {"code": current_code(device)})
    # The required action done, the portal opens where the sign-in was going.
    assert response["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert {"dashboard", "accounts:profile"} <= _header_targets(dashboard.content.decode())


def test_an_authenticator_added_by_choice_leads_back_to_the_list(client, employee_a, sign_in):
    sign_in(employee_a)
    client.post(f"{SETUP}totp/", {"name": "app"})
    device = client.get(f"{SETUP}totp/").context["device"]
    response = client.post(f"{SETUP}totp/", {"code": current_code(device)})
    assert response["Location"] == "/account/security/two-factor/"


def test_users_without_the_policy_are_not_forced(client, employee_a, sign_in):
    sign_in(employee_a)
    assert client.get("/dashboard/").status_code == 200


def test_security_managers_need_totp_or_push_not_email(
    client, manager_a, email_device, totp_device, sign_in
):
    TOTPDevice.objects.filter(user=manager_a).delete()
    email_device(manager_a)
    client.force_login(manager_a)
    assert client.get("/dashboard/")["Location"] == SETUP
    page = client.get(SETUP).content.decode()
    assert "Add email" not in page and "Add authenticator app" in page
    totp_device(manager_a)
    from mfa.services import forget_authenticator_state

    forget_authenticator_state(manager_a)  # not cache.clear(): sessions may live in the cache
    assert client.get("/dashboard/").status_code == 200


def test_support_staff_and_admins_must_enrol_a_strong_factor(client, agent, provider_admin):
    for user in (agent, provider_admin):
        TOTPDevice.objects.filter(user=user).delete()
        client.force_login(user)
        assert client.get("/dashboard/")["Location"] == SETUP


def test_the_admin_requires_a_verified_second_factor(client, provider_admin, totp_device, sign_in):
    device = TOTPDevice.objects.get(user=provider_admin)
    client.force_login(provider_admin)  # a session without a second factor
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 403  # said so, rather than back to the sign-in page
    assert "Second factor required" in response.content.decode()
    client.post("/account/logout/")
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/account/login/?next=%2Fadmin%2F"
    sign_in(provider_admin)
    token_post(client, current_code(device))
    assert client.get("/admin/").status_code == 200
