"""Company policies at /manage/policies/."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db
URL = "/manage/policies/"


def test_it_saves_the_policies_and_logs_the_change(manager_client, company_a, manager_a):
    response = manager_client.post(
        URL,
        {
            "mfa_required": "on",
            "allowed_authenticator_types": ["push", "totp"],
            "password_max_age_days": "60",
            "trust_browser_allowed": "on",
        },
    )
    assert response.status_code == 302
    company_a.refresh_from_db()
    assert company_a.mfa_required and company_a.trust_browser_allowed
    assert company_a.allowed_authenticator_types == ["totp", "push"]
    assert company_a.password_max_age_days == 60
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.POLICY_CHANGED)
    assert event.actor == manager_a and event.company == company_a
    assert event.data["changes"]["password_max_age_days"] == [None, 60]


def test_empty_maximum_age_means_the_portal_default(manager_client, company_a):
    company_a.password_max_age_days = 30
    company_a.save()
    manager_client.post(URL, {"password_max_age_days": ""})
    company_a.refresh_from_db()
    assert company_a.password_max_age_days is None


@pytest.mark.parametrize(
    "data",
    [
        {"password_max_age_days": "-1"},
        {"password_max_age_days": "abc"},
        {"allowed_authenticator_types": ["sms"]},
        {"mfa_required": "on", "allowed_authenticator_types": ["email"]},
    ],
)
def test_bad_input_is_a_400(manager_client, company_a, data):
    assert manager_client.post(URL, data).status_code == 400
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.POLICY_CHANGED).exists()


def test_the_form_shows_the_current_policies(manager_client, company_a):
    company_a.password_max_age_days = 45
    company_a.save()
    assert 'value="45"' in manager_client.get(URL).content.decode()


def test_another_companys_policies_cannot_be_reached(manager_client, company_b):
    manager_client.post(URL, {"mfa_required": "on", "company": company_b.pk, "id": company_b.pk})
    company_b.refresh_from_db()
    assert not company_b.mfa_required


def test_a_company_name_ending_with_a_dot_gets_no_second_dot(manager_client, company_a):
    company_a.name = "Acme S.L."
    company_a.save(update_fields=["name"])
    content = manager_client.get(URL).content.decode()
    assert "every employee of Acme S.L. (10001)." in content
    assert "S.L.." not in content
