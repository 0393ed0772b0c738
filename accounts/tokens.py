"""Emailed link tokens: one generator per purpose, each with its own salt and lifetime.

Each token is an HMAC over state that changes when the link is used, so a link works once;
it expires after ``timeout`` seconds and is compared in constant time (Django's
PasswordResetTokenGenerator pattern).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from .models import User


def _seconds(value) -> str:
    return "" if value is None else str(value.replace(microsecond=0, tzinfo=None))


class _PurposeTokenGenerator(PasswordResetTokenGenerator):
    timeout = 3600

    def get_timeout(self) -> int:
        return self.timeout

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = str(token).split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return 0 <= self._num_seconds(self._now()) - ts <= self.get_timeout()


class EmailVerificationTokenGenerator(_PurposeTokenGenerator):
    """Valid 24 h; used up once the address is verified (or changed)."""

    key_salt = "accounts.tokens.email_verification"
    timeout = 24 * 3600

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}|{user.email.lower()}|{user.email_verified}|{timestamp}"


class UnblockTokenGenerator(_PurposeTokenGenerator):
    """Valid 1 h; used up once the account is unblocked (bound to this block).

    Only a lockout after failed sign-ins can be lifted by link: once a Security Manager (or
    provider staff) blocks the account, links sent for an earlier lockout stop working."""

    key_salt = "accounts.tokens.unblock"
    timeout = 3600

    def check_token(self, user, token) -> bool:
        return super().check_token(user, token) and user.is_locked_out

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}|{_seconds(user.blocked_at)}|{timestamp}"


class ResetPasswordTokenGenerator(_PurposeTokenGenerator):
    """Valid PASSWORD_RESET_TIMEOUT; used up once the password changes or the user signs in."""

    key_salt = "accounts.tokens.password_reset"

    def get_timeout(self) -> int:
        return settings.PASSWORD_RESET_TIMEOUT

    def check_token(self, user, token) -> bool:
        # A reset does not lift a Security Manager's block, so a link sent before the block
        # (or by the manager, or by "This wasn't me") is refused until staff lift it.
        return super().check_token(user, token) and not user.is_blocked_by_manager

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}|{user.password}|{_seconds(user.last_login)}|{user.email}|{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
unblock_token = UnblockTokenGenerator()
password_reset_token = ResetPasswordTokenGenerator()


def encode_uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk).first()
