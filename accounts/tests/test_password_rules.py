"""The password rules listed under every new password: a customer without a company is not
told about a company's name, the check stays the same for everyone."""

from __future__ import annotations

import pytest

from accounts import tokens
from accounts.company_forms import ActivationForm
from accounts.forms import NewPasswordForm
from accounts.models import User
from accounts.tests.test_password_policy import messages_for

pytestmark = pytest.mark.django_db

WITH_COMPANY = "Your password can’t contain your name, user name, email address or company name."
WITHOUT_COMPANY = "Your password can’t contain your name, user name or email address."


def _reset_link(user) -> str:
    token = tokens.password_reset_token.make_token(user)
    return f"/account/password/reset/{tokens.encode_uid(user)}/{token}/"


def test_the_registration_says_nothing_of_a_company(client):
    page = client.get("/account/register/").content.decode()
    assert WITHOUT_COMPANY in page
    assert "company name" not in page


def test_a_customer_without_company_changing_the_password_is_not_told_of_one(
    client, outsider, sign_in
):
    sign_in(outsider)
    page = client.get("/account/security/password/").content.decode()
    assert WITHOUT_COMPANY in page
    assert WITH_COMPANY not in page


def test_an_employee_changing_the_password_is_told_of_the_company(client, employee_a, sign_in):
    sign_in(employee_a)
    page = client.get("/account/security/password/").content.decode()
    assert WITH_COMPANY in page


def test_the_reset_page_words_the_rule_for_the_account(client, outsider, employee_a):
    assert WITHOUT_COMPANY in client.get(_reset_link(outsider)).content.decode()
    assert WITH_COMPANY in client.get(_reset_link(employee_a)).content.decode()


def test_the_required_change_words_the_rule_for_the_account(client, outsider, sign_in):
    outsider.must_change_password = True
    outsider.save(update_fields=["must_change_password"])
    sign_in(outsider)
    page = client.get("/account/password/initial/").content.decode()
    assert WITHOUT_COMPANY in page
    assert WITH_COMPANY not in page


def test_every_new_password_form_words_the_rule_for_its_user(outsider, employee_a):
    assert WITHOUT_COMPANY in str(NewPasswordForm(outsider)["new_password1"].help_text)
    assert WITH_COMPANY in str(ActivationForm(employee_a)["new_password1"].help_text)


def test_the_check_is_the_same_whatever_the_rule_says(company_a):
    """A customer without a company has no company name to avoid; an employee still has."""
    without = User(username="c99999.ou", first_name="Otto", last_name="Tester")
    employee = User(username="c10001.xx", first_name="Otto", last_name="Tester", company=company_a)
    company_word = "violet-alpha-harbour-77"  # company_a is "Alpha AG"
    assert messages_for(company_word, without) == []
    assert messages_for(company_word, employee) == [
        "This password must not contain your company’s name."
    ]
