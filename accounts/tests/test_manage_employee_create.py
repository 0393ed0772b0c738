"""Creating an employee at /manage/employees/new/."""

from __future__ import annotations

import pytest

from accounts.company_forms import NewEmployeeForm
from accounts.models import SecurityEvent, User
from conftest import make_user

pytestmark = pytest.mark.django_db
URL = "/manage/employees/new/"


def test_with_email_it_creates_the_account_and_sends_the_activation_link(
    manager_client, company_a, manager_a, mailoutbox
):
    response = manager_client.post(
        URL,
        {
            "first_name": "Jana",
            "last_name": "Doe",
            "email": "jana@example.com",
            "phone": "+49 30 1234567",
            "language": "de",
        },
    )
    user = User.objects.get(username="c10001.jd")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/employees/{user.pk}/"
    assert user.company == company_a
    assert user.preferred_language == "de"
    assert user.phone.as_e164 == "+49301234567"
    assert mailoutbox[-1].to == ["jana@example.com"]
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.ACCOUNT_CREATED, user=user, actor=manager_a
    ).exists()


def test_without_email_the_initial_password_is_shown_once(manager_client, mailoutbox):
    response = manager_client.post(
        URL, {"first_name": "Jana", "last_name": "Doe", "language": "en"}
    )
    assert response.status_code == 200
    password = response.context["issued"][0].initial_password
    assert password in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    user = User.objects.get(username="c10001.jd")
    assert user.check_password(password) and user.must_change_password
    assert mailoutbox == []


def test_posted_privilege_fields_are_ignored(manager_client, company_b):
    manager_client.post(
        URL,
        {
            "first_name": "Jana",
            "last_name": "Doe",
            "language": "en",
            "is_staff": "on",
            "is_superuser": "on",
            "company": company_b.pk,
            "groups": "1",
            "username": "admin",
        },
    )
    user = User.objects.get(last_name="Doe")
    assert (user.is_staff, user.is_superuser, user.company.customer_number) == (
        False,
        False,
        "10001",
    )
    assert user.username == "c10001.jd"
    assert not user.groups.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "", "last_name": "Doe", "language": "en"},
        {"first_name": "Jana", "last_name": "Doe", "language": "xx"},
        {"first_name": "Jana", "last_name": "Doe", "language": "en", "email": "not-an-email"},
        {"first_name": "Jana", "last_name": "Doe", "language": "en", "phone": "12"},
    ],
)
def test_bad_input_is_a_400_with_the_form(manager_client, data):
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert not User.objects.filter(last_name="Doe").exists()


def test_an_email_already_used_in_the_company_is_refused(manager_client, employee_a):
    response = manager_client.post(
        URL, {"first_name": "Jana", "last_name": "Doe", "language": "en", "email": employee_a.email}
    )
    assert response.status_code == 400
    # The manager sees the company's accounts anyway: the error says which one it is.
    assert (
        f"{employee_a.username}, an account of your company, already uses this email address."
        in response.content.decode()
    )


# --- Someone who looks like an active employee already -----------------------------------

KARL = {"first_name": "karl", "last_name": "MAIER", "language": "en"}


def test_a_namesake_of_an_active_employee_shows_the_form_again_with_a_warning(
    manager_client, company_a
):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    make_user("c10001.kma", company=company_a, first_name="Karl", last_name="Maier")
    response = manager_client.post(URL, {**KARL, "phone": "+49 30 1234567"})
    content = response.content.decode()
    assert response.status_code == 400
    assert (
        "An employee with this name already exists: c10001.km, c10001.kma. If this is someone "
        "else, tick “Create anyway”."
    ) in content
    assert '<input type="checkbox" name="create_anyway" id="id_create_anyway">' in content
    # What was entered is kept.
    assert 'value="karl"' in content and 'value="MAIER"' in content
    assert 'value="+49 30 1234567"' in content
    assert company_a.users.filter(last_name__iexact="Maier").count() == 2


def test_a_namesake_is_created_when_create_anyway_is_ticked(manager_client, company_a):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    response = manager_client.post(URL, {**KARL, "create_anyway": "on"})
    assert response.status_code == 200  # no address: the initial password page
    [issued] = response.context["issued"]
    assert issued.user.username == "c10001.kma"
    assert company_a.users.filter(last_name__iexact="Maier").count() == 2


def test_the_language_starts_as_the_managers_page_language(manager_client):
    manager_client.cookies["django_language"] = "de"
    html = manager_client.get("/manage/employees/new/").content.decode()
    assert '<option value="de" selected>' in html
    assert '<option value="en" selected>' not in html


def test_the_form_has_no_create_anyway_box_until_it_warns(manager_client):
    content = manager_client.get(URL).content.decode()
    assert 'type="checkbox"' not in content
    assert "Create anyway" not in content


@pytest.mark.parametrize(
    "existing",
    [
        {"company": "b"},  # another company's
        {"is_active": False},  # deactivated
        {"first_name": "Karla"},  # another first name
    ],
)
def test_only_an_active_employee_of_the_company_with_both_names_is_a_namesake(
    manager_client, company_a, company_b, existing
):
    company = company_b if existing.pop("company", "a") == "b" else company_a
    fields = {"first_name": "Karl", "last_name": "Maier", **existing}
    make_user(f"c{company.customer_number}.km", company=company, **fields)
    response = manager_client.post(URL, KARL)
    assert response.status_code == 200
    assert response.context["issued"][0].user.company == company_a


def test_with_an_email_address_a_namesake_must_have_the_same_address(manager_client, company_a):
    make_user(
        "c10001.km", company=company_a, first_name="Karl", last_name="Maier", email="k@example.com"
    )
    response = manager_client.post(URL, {**KARL, "email": "karl.maier@example.org"})
    assert response.status_code == 302
    # The same address is refused as taken, whatever the box says.
    response = manager_client.post(URL, {**KARL, "email": "K@example.com", "create_anyway": "on"})
    assert response.status_code == 400
    assert "already uses this email" in response.content.decode()
    assert company_a.users.filter(last_name__iexact="Maier").count() == 2


def test_an_address_in_another_case_beyond_ascii_is_taken(manager_client, company_a):
    make_user("c10001.az", company=company_a, email="anna@münchen.example")
    response = manager_client.post(
        URL, {"first_name": "Anna", "last_name": "Zorn", "email": "Anna@MÜNCHEN.example"}
    )
    assert response.status_code == 400
    assert "c10001.az, an account of your company, already uses this email address." in (
        response.content.decode()
    )


@pytest.mark.parametrize("count", [1, 20])
def test_checking_for_namesakes_takes_one_query_whatever_their_number(
    company_a, count, django_assert_num_queries
):
    for number in range(count):
        make_user(f"c10001.km{number}", company=company_a, first_name="Karl", last_name="Maier")
    form = NewEmployeeForm({**KARL, "email": "karl@example.org"}, company=company_a)
    with django_assert_num_queries(2):  # the address in use, the namesakes
        assert form.is_valid()
    form = NewEmployeeForm(KARL, company=company_a)
    with django_assert_num_queries(1):  # no address: the namesakes only
        assert not form.is_valid()
    assert form.errors.as_data()["__all__"][0].code == "namesake"


def test_a_new_employee_starts_in_the_security_managers_time_zone(manager_client, manager_a):
    manager_a.time_zone = "Atlantic/Canary"
    manager_a.save(update_fields=["time_zone"])
    manager_client.post(URL, {"first_name": "Jana", "last_name": "Doe", "language": "es"})
    assert User.objects.get(username="c10001.jd").time_zone == "Atlantic/Canary"
