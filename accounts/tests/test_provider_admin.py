"""The provider admin at /admin/: request approval, user actions, filters.

That /admin/ needs a verified second factor is mfa's PortalAdminSite (tested in mfa/)."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts import roles
from accounts.models import Company, SecurityEvent, SecurityManagerRequest, User
from accounts.tests.manage_helpers import sign_in_verified

pytestmark = pytest.mark.django_db
REQUESTS = "/admin/accounts/securitymanagerrequest/"


@pytest.fixture
def pending(db) -> SecurityManagerRequest:
    return SecurityManagerRequest.objects.create(
        company_name="Gamma GmbH",
        customer_number="30003",
        nominee_first_name="Nina",
        nominee_last_name="Nominee",
        nominee_email="nina@gamma.example",
        requester_name="Rita",
        requester_role="CEO",
        requester_email="rita@gamma.example",
        entitled_confirmed=True,
    )


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
