"""The portal's password policy: the validators behind AUTH_PASSWORD_VALIDATORS.

Length, Django's common-password and similarity checks, and a check against the account's own
names. No composition rules (NIST SP 800-63B). Every password form runs them through
``django.contrib.auth.password_validation.validate_password``.

Every rule and message is ours, Django's checks subclassed for their words only: the rules
(help texts) read "Your password …", the errors "This password …", in each language alike
(German "Ihr Passwort …" / "Dieses Passwort …", Spanish "Su contraseña …" / "Esta
contraseña …"); Django's own mixed "Das Passwort" and "Ihr Passwort".
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
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

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must be at least %(min_length)d character long.",
            "Your password must be at least %(min_length)d characters long.",
            self.min_length,
        ) % {"min_length": self.min_length}


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_help_text(self) -> str:
        return _("Your password can’t be one that many people use.")


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    # Django's error names the attribute after "the" ("zu ähnlich zu Benutzername" in German):
    # ours puts it in brackets, which reads well in every language.
    def get_error_message(self) -> str:
        return _("This password is too similar to your personal information (%(verbose_name)s).")

    def get_help_text(self) -> str:
        return _("Your password can’t be too similar to your name, user name or email address.")


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
                _("This password must not contain your name."),
                "password_contains_name",
                _tokens(getattr(user, "first_name", "")) | _tokens(getattr(user, "last_name", "")),
            ),
            (
                _("This password must not contain your user name."),
                "password_contains_username",
                _tokens(getattr(user, "username", "")),
            ),
            (
                _("This password must not contain your email address."),
                "password_contains_email",
                _tokens(email.split("@")[0]) | ({email.lower()} if email else set()),
            ),
            (
                _("This password must not contain your company’s name."),
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

    def help_text_for(self, user) -> str:
        """The rule for ``user``: a customer without a company is not told about one."""
        if getattr(user, "company_id", None):
            return self.get_help_text()
        return _("Your password can’t contain your name, user name or email address.")


def password_rules_html(user) -> str:
    """The rules as the password forms list them, worded for ``user`` (None: a newcomer on
    the registration, who has no company). Django's password_validators_help_text_html
    knows no user; the checks themselves stay the same for everyone."""
    rules = [
        validator.help_text_for(user)
        if hasattr(validator, "help_text_for")
        else validator.get_help_text()
        for validator in password_validation.get_default_password_validators()
    ]
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in rules)))
