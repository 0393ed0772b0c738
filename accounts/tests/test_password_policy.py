from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User


def messages_for(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


def test_it_accepts_a_long_unrelated_passphrase(employee_a):
    assert messages_for("violet-harbour-lantern-77", employee_a) == []


def test_it_requires_the_configured_minimum_length(settings):
    assert messages_for("short-pass1") == [
        "This password is too short. It must contain at least 12 characters."
    ]


def test_the_minimum_length_follows_the_setting(settings):
    settings.PASSWORD_MIN_LENGTH = 16
    assert "at least 16 characters" in messages_for("fifteen-chars-x")[0]


def test_it_rejects_more_than_128_characters():
    assert messages_for("x7-" * 43) == [
        "This password is too long. It must contain at most 128 characters."
    ]
    assert messages_for(("q9-" * 43)[:128]) == []


def test_it_rejects_common_passwords():
    assert "This password is too common." in messages_for("password1234")


def test_it_has_no_composition_rules():
    assert messages_for("lanternharbourvioletmeadow") == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("dietrich-rules-the-world", "This password must not contain your name."),
        ("my-c10001.ea-secret-pw", "This password must not contain your user name."),
        ("jonas.mail.secret-pw", "This password must not contain your email address."),
        ("best-alpha-company-ever", "This password must not contain your company’s name."),
    ],
)
def test_it_rejects_the_users_own_names(company_a, password, message):
    user = User(
        username="c10001.ea",
        first_name="Jonas",
        last_name="Dietrich",
        email="jonas.mail@example.com",
        company=company_a,
    )
    assert message in messages_for(password, user)


def test_the_policy_applies_to_the_required_password_change_form(employee_a):
    from accounts.forms import RequiredPasswordChangeForm

    form = RequiredPasswordChangeForm(
        employee_a, {"new_password1": "alpha-ag-2026", "new_password2": "alpha-ag-2026"}
    )
    assert not form.is_valid()
    assert "This password must not contain your company’s name." in form.errors["new_password1"]


def test_every_rule_and_message_is_the_portals_own():
    """Django's words mixed "Das Passwort …" and "Ihr Passwort …" in German: each validator
    is one of ours, whose texts the portal's catalogues translate alike."""
    from django.conf import settings

    names = [validator["NAME"] for validator in settings.AUTH_PASSWORD_VALIDATORS]
    assert all(name.startswith("accounts.password_policy.") for name in names), names


def test_the_rules_all_read_your_password():
    from django.contrib.auth.password_validation import password_validators_help_texts

    rules = password_validators_help_texts()
    assert len(rules) == 5
    assert all(rule.startswith("Your password ") for rule in rules), rules
    assert "Your password must be at least 12 characters long." in rules


@pytest.mark.parametrize(
    "password",
    ["short-pass1", "x7-" * 43, "password1234", "c10001.ea-", "dietrich-rules-the-world"],
)
def test_the_errors_all_read_this_password(company_a, password):
    user = User(
        username="c10001.ea",
        first_name="Dietrich",
        last_name="Tester",
        email="c10001.ea@example.com",
        company=company_a,
    )
    messages = messages_for(password, user)
    assert messages
    assert all(message.startswith("This password ") for message in messages), messages


def test_a_password_too_like_the_user_name_names_it(company_a):
    user = User(username="c10001.ea", first_name="Jo", last_name="Li", email="x@example.com")
    assert messages_for("c10001.ea-12", user) == [
        "This password is too similar to your personal information (username).",
        "This password must not contain your user name.",
    ]
