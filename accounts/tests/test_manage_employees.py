"""The employees list at /manage/: search, filters, sort, pagination, scoping, query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import User
from conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/manage/"


def usernames(response) -> list[str]:
    return [user.username for user in response.context["page"].object_list]


def test_it_lists_only_the_managers_company(manager_client, employee_a, employee_b, agent):
    response = manager_client.get(URL)
    content = response.content.decode()
    assert employee_a.username in content
    assert employee_b.username not in content
    assert agent.username not in content


def test_search_matches_name_user_name_and_email(manager_client, company_a, employee_a):
    make_user("c10001.kw", company=company_a, first_name="Karla", email="karla@corp.example")
    assert usernames(manager_client.get(URL, {"q": "karla"})) == ["c10001.kw"]
    assert usernames(manager_client.get(URL, {"q": "corp.example"})) == ["c10001.kw"]
    assert usernames(manager_client.get(URL, {"q": "c10001.ea"})) == ["c10001.ea"]


def test_state_filters(manager_client, manager_a, employee_a, employee_a2):
    User.objects.filter(pk=employee_a.pk).update(blocked_at=timezone.now())
    User.objects.filter(pk=employee_a2.pk).update(is_active=False)
    assert usernames(manager_client.get(URL, {"state": "blocked"})) == [employee_a.username]
    assert usernames(manager_client.get(URL, {"state": "inactive"})) == [employee_a2.username]
    assert usernames(manager_client.get(URL, {"state": "active"})) == [manager_a.username]


def test_password_filters(manager_client, company_a, employee_a, employee_a2):
    now = timezone.now()
    User.objects.filter(pk=employee_a.pk).update(password_changed_at=now - timedelta(days=100))
    User.objects.filter(pk=employee_a2.pk).update(password_changed_at=now - timedelta(days=80))
    assert usernames(manager_client.get(URL, {"password": "expired"})) == [employee_a.username]
    assert usernames(manager_client.get(URL, {"password": "expiring"})) == [employee_a2.username]


def test_mfa_and_never_signed_in_filters(manager_client, manager_a, employee_a, employee_a2):
    TOTPDevice.objects.create(user=employee_a, name="default", confirmed=True)
    TOTPDevice.objects.create(user=employee_a2, name="default", confirmed=False)
    assert usernames(manager_client.get(URL, {"mfa": "yes"})) == [
        employee_a.username,
        manager_a.username,
    ]
    assert usernames(manager_client.get(URL, {"mfa": "no"})) == [employee_a2.username]
    User.objects.filter(pk=employee_a.pk).update(last_login=timezone.now())
    never = usernames(manager_client.get(URL, {"never_signed_in": "on"}))
    assert employee_a.username not in never and employee_a2.username in never


def test_sort_by_last_name(manager_client, company_a, manager_a):
    make_user("c10001.zz", company=company_a, last_name="Aardvark")
    assert usernames(manager_client.get(URL, {"sort": "last_name"}))[0] == "c10001.zz"


def test_bad_filter_values_are_ignored_not_500(manager_client, employee_a):
    response = manager_client.get(URL, {"state": "nope", "sort": "password", "page": "x"})
    assert response.status_code == 200
    assert employee_a.username in response.content.decode()


def test_pagination_keeps_filters(manager_client, company_a):
    for number in range(30):
        make_user(f"c10001.p{number:02d}"[:11], company=company_a, first_name="Page")
    response = manager_client.get(URL, {"q": "Page"})
    assert len(response.context["page"].object_list) == 25
    assert "q=Page&amp;page=2" in response.content.decode()
    assert len(manager_client.get(URL, {"q": "Page", "page": 2}).context["page"]) == 5


def test_query_count_does_not_grow_with_the_page(
    manager_client, company_a, django_assert_max_num_queries
):
    manager_client.get(URL)  # warm up
    with django_assert_max_num_queries(8) as small:
        manager_client.get(URL)
    for number in range(24):
        # Every state of the two-factor column: TOTP, email codes, a manager's email codes.
        group = roles.SECURITY_MANAGERS if number % 3 == 2 else None
        user = make_user(f"c10001.q{number:02d}"[:11], company=company_a, group=group)
        if number % 3:
            EmailDevice.objects.create(user=user, name="Mail", email=user.email, confirmed=True)
        else:
            TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = manager_client.get(URL)
    assert len(response.context["page"].object_list) == 25
    assert response.content.decode().count("email codes only: not enough") == 8


def test_the_rows_are_captioned_for_phones(manager_client, employee_a):
    """On a phone the rows are cards (portal.css, "table-cards"); data-label captions a cell,
    and the selection box keeps its own cell at the start of the card."""
    content = manager_client.get(URL).content.decode()
    assert '<table class="employees table-cards">' in content
    assert f'<td class="cell-select"><input type="checkbox" name="ids" value="{employee_a.pk}"' in (
        content
    )
    for label in ("State", "Two-factor", "Last sign-in"):
        assert f'<td data-label="{label}"' in content
