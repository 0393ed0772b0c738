"""Company policies at /manage/policies/."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import company_services as cs
from accounts import roles
from accounts.models import SecurityEvent
from conftest import make_user

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


def _without_second_factor(company, count: int) -> None:
    for n in range(count):
        make_user(f"c{company.customer_number}.n{n}", company=company)


def test_it_counts_the_employees_a_required_second_factor_will_stop(
    manager_client, company_a, employee_a, employee_a2, employee_b
):
    TOTPDevice.objects.create(user=employee_a2, name="app", confirmed=True)
    # Backup codes alone are no authenticator: enrolment is still required.
    StaticDevice.objects.create(user=employee_a, name="backup", confirmed=True)
    make_user("c10001.zz", company=company_a, is_active=False)  # deactivated: not counted
    content = manager_client.get(URL).content.decode()
    # employee_a only: the manager has TOTP, employee_b is another company's.
    assert (
        "1 active employee has no second factor yet that is enough for their role. Security "
        "Managers must set one up at their next sign-in, everyone else if you require"
    ) in content
    assert "?state=active&amp;mfa=no" in content


def test_after_saving_the_count_says_they_must_set_one_up(manager_client, company_a, employee_a):
    _without_second_factor(company_a, 2)
    response = manager_client.post(URL, {"mfa_required": "on"}, follow=True)
    content = response.content.decode()
    assert (
        "3 active employees have no second factor yet that is enough for their role and must "
        "set one up at their next sign-in."
    ) in content
    assert "if you require" not in content


def test_it_says_when_everyone_has_a_second_factor(manager_client, company_a):
    assert "Every active employee has set up a second factor." in (
        manager_client.get(URL).content.decode()
    )


def test_the_count_takes_one_query_whatever_the_number_of_employees(
    manager_client, company_a, django_assert_max_num_queries
):
    make_user("c10001.aa", company=company_a)
    manager_client.get(URL)
    with django_assert_max_num_queries(20) as small:
        assert "1 active employee" in manager_client.get(URL).content.decode()
    _without_second_factor(company_a, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert "11 active employees" in manager_client.get(URL).content.decode()


def test_the_link_lists_exactly_the_employees_the_count_counts(
    manager_client, company_a, employee_a, employee_a2
):
    """Backup codes left after the last authenticator was removed are no second factor: the
    sign-in asks for none, and a required one must be set up. The list behind the count's
    link, its badge and the employee's page say so too."""
    TOTPDevice.objects.create(user=employee_a2, name="app", confirmed=True)
    StaticDevice.objects.create(user=employee_a, name="backup", confirmed=True)
    assert "1 active employee has no second factor" in manager_client.get(URL).content.decode()
    listed = manager_client.get("/manage/", {"state": "active", "mfa": "no"})
    assert [user.username for user in listed.context["page"].object_list] == [employee_a.username]
    detail = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert "not set up" in detail


def _email_codes(user):
    EmailDevice.objects.create(user=user, name="Mail", email=user.email, confirmed=True)
    return user


def test_a_security_manager_with_only_email_codes_is_counted_and_listed(
    manager_client, company_a, employee_a
):
    """Email codes are never enough for a Security Manager: whatever the policy, they must
    set up an authenticator app or push at their next sign-in (enrollment_required). An
    employee's email codes are enough."""
    _email_codes(employee_a)
    deputy = _email_codes(make_user("c10001.dm", company=company_a, group=roles.SECURITY_MANAGERS))
    content = manager_client.get(URL).content.decode()
    assert "1 active employee has no second factor yet that is enough for their role." in content
    assert "Email codes are not enough for Security Managers." in content
    listed = manager_client.get("/manage/", {"state": "active", "mfa": "no"})
    assert [user.username for user in listed.context["page"].object_list] == [deputy.username]
    assert "email codes only: not enough" in listed.content.decode()
    detail = manager_client.get(f"/manage/employees/{deputy.pk}/").content.decode()
    assert '<span class="badge badge-warn">email codes only: not enough</span>' in detail
    assert 'name="action" value="reset_mfa"' in detail  # the email codes are still there
    employee_page = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert '<span class="badge badge-ok">set up</span>' in employee_page


def test_the_count_is_one_query(company_a, manager_a, employee_a, django_assert_num_queries):
    _email_codes(make_user("c10001.dm", company=company_a, group=roles.SECURITY_MANAGERS))
    _email_codes(employee_a)
    make_user("c10001.nn", company=company_a)
    with django_assert_num_queries(1):
        assert cs.count_without_authenticator(company_a) == 2


def test_the_count_is_the_number_of_employees_show_them_lists(
    manager_client, company_a, employee_a, manager_a
):
    """A blocked account cannot sign in to set one up; the list behind "Show them" leaves it
    out (state=active), and so does the count."""
    make_user("c10001.nn", company=company_a)
    cs.block_employees([employee_a], actor=manager_a)
    content = manager_client.get(URL).content.decode()
    listed = manager_client.get("/manage/", {"state": "active", "mfa": "no"})
    names = [user.username for user in listed.context["page"].object_list]
    assert names == ["c10001.nn"]
    assert cs.count_without_authenticator(company_a) == len(names)
    assert "1 active employee has no second factor yet" in content
