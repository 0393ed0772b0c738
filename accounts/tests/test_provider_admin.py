"""The provider admin at /admin/: request approval, user actions, filters.

That /admin/ needs a verified second factor is mfa's PortalAdminSite (tested in mfa/)."""

from __future__ import annotations

import zoneinfo

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import Company, SecurityEvent, SecurityManagerRequest, User
from accounts.tests.helpers import manager_request
from accounts.tests.manage_helpers import sign_in_verified
from conftest import PASSWORD

from .helpers import both_parts

Kind = SecurityEvent.Kind

pytestmark = pytest.mark.django_db
REQUESTS = "/admin/accounts/securitymanagerrequest/"


@pytest.fixture
def pending(db) -> SecurityManagerRequest:
    return manager_request(entitled_confirmed=True)


def test_verified_admin_sees_the_lists_with_filters(admin_client_verified, pending, employee_a):
    for url in [
        "/admin/",
        REQUESTS,
        "/admin/accounts/company/",
        "/admin/accounts/user/",
        "/admin/accounts/securityevent/",
    ]:
        assert admin_client_verified.get(url).status_code == 200, url
    content = admin_client_verified.get("/admin/accounts/user/?role=manager").content.decode()
    assert employee_a.username not in content
    content = admin_client_verified.get("/admin/accounts/user/?state=active").content.decode()
    assert employee_a.username in content


def test_approve_creates_company_and_manager_and_emails_both(
    admin_client_verified, pending, provider_admin, mailoutbox
):
    response = admin_client_verified.post(
        REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.decided_by == provider_admin
    company = Company.objects.get(customer_number="30003")
    nominee = User.objects.get(email="nina@gamma.example")
    assert nominee.username == "c30003.nn" and nominee.company == company
    assert roles.is_security_manager(nominee)
    recipients = sorted(m.to[0] for m in mailoutbox)
    assert recipients == ["nina@gamma.example", "nina@gamma.example", "rita@gamma.example"]
    assert any("/access/activate/" in m.body for m in mailoutbox)
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.ROLE_CHANGED, user=nominee, actor=provider_admin
    ).exists()


def test_the_new_security_managers_activation_email_says_so(
    admin_client_verified, pending, mailoutbox
):
    admin_client_verified.post(REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]})
    mail = next(m for m in mailoutbox if "/access/activate/" in m.body)
    assert mail.to == ["nina@gamma.example"]
    for part in both_parts(mail):
        assert (
            "We have approved the request to make you the Security Manager of Gamma GmbH and "
            "created an account for you. Your user name is c30003.nn." in part
        )
        assert "Your company Gamma GmbH has created an account" not in part
        assert "Security Manager can also send you a new link" not in part
        assert "Link expired? Ask for a new one on “Forgot your password?”" in part


def test_approve_reuses_an_existing_account_of_the_company(
    admin_client_verified, company_a, employee_a, mailoutbox
):
    manager_request = SecurityManagerRequest.objects.create(
        company_name="Alpha",
        customer_number=company_a.customer_number,
        nominee_first_name="E",
        nominee_last_name="A",
        nominee_email=employee_a.email.upper(),
        requester_name="R",
        requester_role="CEO",
        requester_email="r@example.com",
    )
    admin_client_verified.post(
        REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [manager_request.pk]}
    )
    employee_a._role_group_names = None
    assert roles.is_security_manager(User.objects.get(pk=employee_a.pk))
    assert User.objects.filter(company=company_a).count() == 1
    assert len(mailoutbox) == 2  # appointed + approved; no activation


def test_reject_asks_for_a_reason_then_emails_it(admin_client_verified, pending, mailoutbox):
    data = {"action": "reject", ACTION_CHECKBOX_NAME: [pending.pk]}
    response = admin_client_verified.post(REQUESTS, data)
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    pending.refresh_from_db()
    assert pending.is_pending

    response = admin_client_verified.post(REQUESTS, {**data, "apply": "1", "reason": "Not signed."})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "rejected" and pending.rejection_reason == "Not signed."
    assert mailoutbox[-1].to == ["rita@gamma.example"]
    assert "Not signed." in mailoutbox[-1].body
    assert not User.objects.filter(email="nina@gamma.example").exists()


def test_decided_requests_are_not_decided_again(admin_client_verified, pending, mailoutbox):
    data = {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]}
    admin_client_verified.post(REQUESTS, data)
    count = len(mailoutbox)
    admin_client_verified.post(REQUESTS, data)
    assert len(mailoutbox) == count


def test_admin_user_actions_use_the_manager_services(admin_client_verified, employee_b):
    admin_client_verified.post(
        "/admin/accounts/user/",
        {"action": "block_employees", ACTION_CHECKBOX_NAME: [employee_b.pk]},
    )
    employee_b.refresh_from_db()
    assert employee_b.is_blocked
    response = admin_client_verified.post(
        "/admin/accounts/user/",
        {"action": "_issue_initial_passwords", ACTION_CHECKBOX_NAME: [employee_b.pk]},
    )
    assert response.status_code == 200
    assert "shown only now" in response.content.decode()


def test_support_agents_without_model_permissions_cannot_approve(client, agent, pending):
    sign_in_verified(client, agent)
    response = client.post(REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.is_pending


def form_user_zone(client) -> str:
    return User.objects.get(pk=client.session["_auth_user_id"]).time_zone


def _change_form_data(client, user) -> dict:
    """What the admin's change page for ``user`` submits when nothing is edited."""
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or name == "password":
            continue
        if hasattr(value, "all"):
            data[name] = [item.pk for item in value.all()]
        elif isinstance(value, (list, tuple)):
            data[name] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif hasattr(value, "hour"):
            # as the widgets show it: in the signed-in admin's time zone
            value = timezone.localtime(value, zoneinfo.ZoneInfo(form_user_zone(client)))
            data[f"{name}_0"], data[f"{name}_1"] = (
                value.strftime("%Y-%m-%d"),
                value.strftime("%H:%M:%S"),
            )
        else:
            data[name] = getattr(value, "pk", value)
    return data


def test_role_and_state_changes_in_the_admin_reach_the_security_log(
    admin_client_verified, employee_a, provider_admin
):
    managers = Group.objects.get_or_create(name=roles.SECURITY_MANAGERS)[0]
    data = _change_form_data(admin_client_verified, employee_a)
    data.pop("is_active")
    data.update(company="", is_staff="on", groups=[managers.pk], phone="+49 30 1234567")
    response = admin_client_verified.post(f"/admin/accounts/user/{employee_a.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    events = {e.kind: e for e in SecurityEvent.objects.filter(user=employee_a)}
    assert set(events) == {Kind.ROLE_CHANGED, Kind.ACCOUNT_DEACTIVATED, Kind.PROFILE_CHANGED}
    assert events[Kind.ROLE_CHANGED].data["fields"] == ["company", "groups", "is_staff"]
    assert events[Kind.PROFILE_CHANGED].data["fields"] == ["phone"]
    assert {e.actor_id for e in events.values()} == {provider_admin.pk}


def test_the_admin_gives_the_portals_phone_example(admin_client_verified, employee_a):
    data = {**_change_form_data(admin_client_verified, employee_a), "phone": "12"}
    response = admin_client_verified.post(f"/admin/accounts/user/{employee_a.pk}/change/", data)
    assert response.status_code == 400
    [error] = response.context["adminform"].form.errors["phone"]
    assert "for example +49 30 1234567" in error


def test_a_password_set_in_the_admin_reaches_the_security_log(
    admin_client_verified, employee_a, provider_admin
):
    new = "admin-set-passphrase-99"
    response = admin_client_verified.post(
        f"/admin/accounts/user/{employee_a.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )

    assert response.status_code == 302
    event = SecurityEvent.objects.get(user=employee_a)
    assert (event.kind, event.actor_id) == (Kind.PASSWORD_CHANGED, provider_admin.pk)


def test_an_unchanged_admin_save_logs_nothing(admin_client_verified, employee_a):
    data = _change_form_data(admin_client_verified, employee_a)
    admin_client_verified.post(f"/admin/accounts/user/{employee_a.pk}/change/", data)
    assert not SecurityEvent.objects.filter(user=employee_a).exists()


def test_an_account_added_in_the_admin_reaches_the_security_log(
    admin_client_verified, provider_admin
):
    password = "admin-made-passphrase-7"
    response = admin_client_verified.post(
        "/admin/accounts/user/add/",
        {
            "username": "c99999.nw",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    event = SecurityEvent.objects.get(user__username="c99999.nw")
    assert (event.kind, event.actor_id, event.data) == (
        Kind.ACCOUNT_CREATED,
        provider_admin.pk,
        {"via": "admin"},
    )


def test_blocks_are_not_edited_in_the_admins_form_but_through_its_actions(
    admin_client_verified, employee_a
):
    """The Block and Unblock actions record who blocked and why; a date field cannot."""
    data = _change_form_data(admin_client_verified, employee_a)
    data.update(blocked_at_0="2026-11-20", blocked_at_1="10:00:00", blocked_reason="lockout")
    admin_client_verified.post(f"/admin/accounts/user/{employee_a.pk}/change/", data)
    employee_a.refresh_from_db()
    assert (employee_a.blocked_at, employee_a.blocked_reason) == (None, "")
    page = admin_client_verified.get(f"/admin/accounts/user/{employee_a.pk}/change/").text
    assert 'name="blocked_at_0"' not in page and "Reason for the block" in page


def test_a_company_policy_changed_in_the_admin_reaches_the_companys_log(
    admin_client_verified, company_a, provider_admin, manager_a
):
    form = admin_client_verified.get(f"/admin/accounts/company/{company_a.pk}/change/")
    data = {
        name: value
        for name, value in form.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, bool)
    }
    data.update(
        {
            name: "on"
            for name, value in form.context["adminform"].form.initial.items()
            if value is True
        }
    )
    data["mfa_required"] = "on"
    data["password_max_age_days"] = 30
    response = admin_client_verified.post(f"/admin/accounts/company/{company_a.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = SecurityEvent.objects.get(kind=Kind.POLICY_CHANGED)
    assert (event.company_id, event.actor_id) == (company_a.pk, provider_admin.pk)
    assert event.data["changes"]["mfa_required"] == [company_a.mfa_required, True]
    assert event.data["changes"]["password_max_age_days"][1] == 30
    manager_client = sign_in_verified(Client(), manager_a)
    assert event in manager_client.get("/manage/log/").context["page"].object_list


def test_the_admin_offers_known_authenticator_types_not_free_json(admin_client_verified, company_a):
    """Anything but a list of known types would break enrolment for the whole company."""
    url = f"/admin/accounts/company/{company_a.pk}/change/"
    page = admin_client_verified.get(url)
    data = {
        name: value
        for name, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, (bool, list))
    }
    response = admin_client_verified.post(url, {**data, "allowed_authenticator_types": "5"})
    assert response.status_code == 400
    assert "allowed_authenticator_types" in response.context["adminform"].form.errors

    response = admin_client_verified.post(
        url, {**data, "allowed_authenticator_types": ["totp", "push"]}
    )
    assert response.status_code == 302
    company_a.refresh_from_db()
    assert company_a.allowed_authenticator_types == ["totp", "push"]


@pytest.mark.parametrize("view", ["config", "qrcode"])
def test_the_admin_shows_no_totp_secrets_and_no_500_for_unknown_devices(
    admin_client_verified, view
):
    response = admin_client_verified.get(f"/admin/otp_totp/totpdevice/0/{view}/")
    assert response.status_code == 403


def test_the_request_page_names_the_requester_as_such_and_offers_the_decision(
    admin_client_verified, pending
):
    body = admin_client_verified.get(f"{REQUESTS}{pending.pk}/change/").content.decode()
    assert "Your name" not in body and "Your email" not in body  # the requester's own words
    assert "Requested by" in body and "Requester&#x27;s email" in body
    assert f'name="_selected_action" value="{pending.pk}"' in body
    assert 'name="action" value="approve"' in body and 'name="action" value="reject"' in body
    listing = admin_client_verified.get(REQUESTS).content.decode()
    assert "Your name" not in listing and "Requested by" in listing


def test_a_decided_request_offers_no_decision(admin_client_verified, pending):
    admin_client_verified.post(REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]})
    body = admin_client_verified.get(f"{REQUESTS}{pending.pk}/change/").content.decode()
    assert 'name="action" value="approve"' not in body


def test_the_approval_message_shows_the_user_name_as_it_is(admin_client_verified, pending):
    response = admin_client_verified.post(
        REQUESTS, {"action": "approve", ACTION_CHECKBOX_NAME: [pending.pk]}, follow=True
    )
    body = response.content.decode()
    assert "c30003.nn" in body and "C30003.nn" not in body  # the admin capitalises messages


@pytest.mark.parametrize(
    "staff", [{"is_staff": "on"}, {"is_superuser": "on"}, {"group": roles.SUPPORT_AGENTS}]
)
def test_the_admin_refuses_provider_staff_with_a_company(admin_client_verified, employee_a, staff):
    """Else the company's Security Manager could block them, and its log would show them."""
    data = _change_form_data(admin_client_verified, employee_a)
    if group := staff.pop("group", None):
        data["groups"] = [Group.objects.get_or_create(name=group)[0].pk]
    data.update(staff)
    response = admin_client_verified.post(f"/admin/accounts/user/{employee_a.pk}/change/", data)

    assert response.status_code == 400
    assert "Provider staff belong to no company" in response.content.decode()
    employee_a.refresh_from_db()
    assert not (employee_a.is_staff or employee_a.is_superuser or employee_a.groups.exists())
    assert not SecurityEvent.objects.filter(user=employee_a).exists()


def test_the_admin_refuses_a_mismatched_new_password_with_400(admin_client_verified, employee_a):
    url = f"/admin/accounts/user/{employee_a.pk}/password/"
    response = admin_client_verified.post(
        url,
        {
            "password1": "Long-enough-2026!",
            "password2": "Something-else-2026!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert employee_a.check_password(PASSWORD)


def test_the_migration_takes_provider_staff_out_of_their_company(company_a, employee_a, agent):
    import importlib

    from django.apps import apps

    from conftest import make_user

    migration = importlib.import_module("accounts.migrations.0015_provider_staff_leave_companies")
    agent.company = company_a
    agent.save(update_fields=["company"])
    staff = make_user("c10001.st", company=company_a, is_staff=True)
    root = make_user("c10001.su", company=company_a, is_superuser=True)

    migration.provider_staff_leave_companies(apps, None)

    for user in (agent, staff, root, employee_a):
        user.refresh_from_db()
    assert (agent.company, staff.company, root.company) == (None, None, None)
    assert employee_a.company == company_a
