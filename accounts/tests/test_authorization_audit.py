"""Authorization audit of the account pages: who may lift whose block, what a public form's
work tells about an address, what an old session may change without the password."""

from __future__ import annotations

import pytest

from accounts import company_services as cs
from accounts.models import SecurityEvent
from accounts.tests.manage_helpers import sign_in_verified

pytestmark = pytest.mark.django_db
ACTIONS = "/manage/employees/actions/"


# --- A block by provider staff is staff's to lift ---------------------------------------------


@pytest.fixture
def staff_blocked(employee_a, provider_admin):
    cs.block_employees([employee_a], actor=provider_admin)
    employee_a.refresh_from_db()
    assert employee_a.blocked_by_staff
    return employee_a


def test_a_security_manager_cannot_lift_a_block_by_provider_staff(client, manager_a, staff_blocked):
    sign_in_verified(client, manager_a)
    response = client.post(ACTIONS, {"action": "unblock", "ids": [staff_blocked.pk]}, follow=True)
    assert response.redirect_chain == [(f"/manage/employees/{staff_blocked.pk}/", 302)]
    assert "only our support team can unblock them" in response.content.decode()
    staff_blocked.refresh_from_db()
    assert staff_blocked.blocked_by_staff
    assert not SecurityEvent.objects.filter(user=staff_blocked, kind="unblocked").exists()


def test_the_employee_page_offers_no_unblock_for_a_block_by_provider_staff(
    client, manager_a, staff_blocked
):
    sign_in_verified(client, manager_a)
    body = client.get(f"/manage/employees/{staff_blocked.pk}/").content.decode()
    assert 'value="unblock"' not in body


def test_provider_staff_still_lift_their_own_block(staff_blocked, provider_admin):
    assert cs.unblock_employees([staff_blocked], actor=provider_admin) == 1
    staff_blocked.refresh_from_db()
    assert not staff_blocked.is_blocked
