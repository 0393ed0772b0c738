from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from accounts.admin import UserAdmin
from accounts.models import SecurityEvent, User

CHANGED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _changed_at(user, when=CHANGED):
    user.password_changed_at = when
    user.save()
    return user


def test_the_portal_default_applies_without_a_company_policy(settings, employee_a):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    _changed_at(employee_a)
    assert employee_a.password_expires_at == CHANGED + timedelta(days=90)


def test_the_company_policy_overrides_the_default(employee_a):
    employee_a.company.password_max_age_days = 30
    employee_a.company.save()
    _changed_at(employee_a)
    assert employee_a.password_expires_at == CHANGED + timedelta(days=30)


def test_zero_means_never(employee_a):
    employee_a.company.password_max_age_days = 0
    employee_a.company.save()
    _changed_at(employee_a)
    assert employee_a.password_expires_at is None
    assert not employee_a.password_has_expired(now=CHANGED + timedelta(days=5000))


def test_users_without_company_use_the_default(settings, outsider):
    settings.PASSWORD_MAX_AGE_DAYS = 60
    _changed_at(outsider)
    assert outsider.password_expires_at == CHANGED + timedelta(days=60)


def test_expiry_boundary_one_second_before_and_at_the_limit(employee_a):
    _changed_at(employee_a)
    limit = CHANGED + timedelta(days=90)
    with time_machine.travel(limit - timedelta(seconds=1), tick=False):
        assert not employee_a.password_has_expired()
    with time_machine.travel(limit, tick=False):
        assert employee_a.password_has_expired()


def test_an_expired_password_allows_only_the_change_page(client, sign_in, employee_a):
    _changed_at(employee_a)
    with time_machine.travel(CHANGED + timedelta(days=90, minutes=1), tick=False):
        sign_in(employee_a)
        response = client.get("/account/security/")
        assert response.status_code == 302
        assert response.url == "/account/password/initial/"
        assert client.get("/account/security/sessions/").url == "/account/password/initial/"


def test_one_day_before_expiry_the_portal_is_usable(client, sign_in, employee_a):
    _changed_at(employee_a)
    with time_machine.travel(CHANGED + timedelta(days=89), tick=False):
        sign_in(employee_a)
        assert client.get("/account/security/").status_code == 200


def test_staff_can_mark_an_account_compromised(admin_client, employee_a, employee_a2):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "mark_password_compromised", "_selected_action": [employee_a.pk]},
    )
    assert response.status_code == 302
    employee_a.refresh_from_db()
    employee_a2.refresh_from_db()
    assert employee_a.password_compromised
    assert not employee_a2.password_compromised
    assert SecurityEvent.objects.filter(
        user=employee_a, kind=SecurityEvent.Kind.PASSWORD_COMPROMISED
    ).exists()


def test_a_compromised_account_must_change_its_password_at_sign_in(client, sign_in, employee_a):
    employee_a.password_compromised = True
    employee_a.save()
    sign_in(employee_a)
    assert client.get("/dashboard/").url == "/account/password/initial/"


def test_the_admin_lists_users_without_usable_email(admin_client, employee_a, employee_a2):
    User.objects.filter(pk=employee_a.pk).update(email="")
    response = admin_client.get("/admin/accounts/user/?usable_email=no")
    assert employee_a.username in response.text
    assert employee_a2.username not in response.text
    assert UserAdmin.actions
