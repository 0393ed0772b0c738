from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa.tests.conftest import current_code, token_post

SETUP = "/account/security/two-factor/setup/"


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


def test_after_enrolment_the_portal_is_reachable(client, employee_a, sign_in):
    employee_a.company.mfa_required = True
    employee_a.company.save()
    sign_in(employee_a)
    client.post(f"{SETUP}totp/", {"name": "app"})
    device = client.get(f"{SETUP}totp/").context["device"]
    response = client.post(f"{SETUP}totp/", {"code": current_code(device)})
    # The required action done, the portal opens where the sign-in was going.
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


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
