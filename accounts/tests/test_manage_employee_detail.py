"""One employee's page at /manage/employees/<id>/."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_the_employee_and_their_log(manager_client, employee_a, manager_a):
    from accounts import company_services as cs

    cs.block_employees([employee_a], actor=manager_a)
    content = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert employee_a.username in content
    assert "Account blocked" in content
    assert "Unblock" in content


def test_another_companys_employee_is_404(manager_client, employee_b):
    assert manager_client.get(f"/manage/employees/{employee_b.pk}/").status_code == 404


def test_staff_accounts_are_404(manager_client, agent):
    assert manager_client.get(f"/manage/employees/{agent.pk}/").status_code == 404


def test_own_account_shows_no_actions(manager_client, manager_a):
    content = manager_client.get(f"/manage/employees/{manager_a.pk}/").content.decode()
    assert "This is your own account" in content
    assert 'name="action"' not in content


def test_the_phone_number_is_shown_in_international_format(manager_client, employee_a):
    employee_a.phone = "+49301234567"
    employee_a.save(update_fields=["phone"])
    content = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert "<dd>+49 30 1234567</dd>" in content
