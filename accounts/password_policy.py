"""The portal's password policy: the validators behind AUTH_PASSWORD_VALIDATORS.

Length, Django's common-password and similarity checks, and a check against the account's own
names. No composition rules (NIST SP 800-63B). Every password form runs them through
``django.contrib.auth.password_validation.validate_password``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Parts of names shorter than this are too common to forbid ("Li", "ag").
MIN_TOKEN_LENGTH = 3


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's validator with the portal minimum (PASSWORD_MIN_LENGTH) as default.

    The setting is read at each validation: Django caches the validator instances.
    """

    def __init__(self, min_length: int | None = None):
        self._min_length = min_length

    @property
    def min_length(self) -> int:
        return self._min_length or settings.PASSWORD_MIN_LENGTH


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can contain at most %(max_length)d character.",
            "Your password can contain at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


def _tokens(value: str) -> set[str]:
    """The value and its parts (split at spaces, dots, @, hyphens …), lower case."""
    value = (value or "").lower().strip()
    parts = {part for part in re.split(r"[\W_]+", value) if len(part) >= MIN_TOKEN_LENGTH}
    if len(value) >= MIN_TOKEN_LENGTH:
        parts.add(value)
    return parts


class PersonalInformationValidator:
    """The password must not contain the user's name, user name, email or company name."""

    def _checks(self, user):
        company = getattr(user, "company", None) if getattr(user, "company_id", None) else None
        email = getattr(user, "email", "") or ""
        return [
            (
                _("The password must not contain your name."),
                "password_contains_name",
                _tokens(getattr(user, "first_name", "")) | _tokens(getattr(user, "last_name", "")),
            ),
            (
                _("The password must not contain your user name."),
                "password_contains_username",
                _tokens(getattr(user, "username", "")),
            ),
            (
                _("The password must not contain your email address."),
                "password_contains_email",
                _tokens(email.split("@")[0]) | ({email.lower()} if email else set()),
            ),
            (
                _("The password must not contain your company’s name."),
                "password_contains_company",
                _tokens(company.name) if company else set(),
            ),
        ]

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        lowered = password.lower()
        errors = [
            ValidationError(message, code=code)
            for message, code, tokens in self._checks(user)
            if any(token in lowered for token in tokens)
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _("Your password can’t contain your name, user name, email address or company name.")
