"""Account operations that span models or have side effects (audit entries, emails)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .emails import send_email_to_user
from .models import SecurityEvent, User

Kind = SecurityEvent.Kind


def client_ip(request) -> str | None:
    if request is None:
        return None
    if getattr(settings, "USE_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    kind: str,
    user: User | None = None,
    *,
    request=None,
    actor: User | None = None,
    **data,
) -> SecurityEvent:
    """The one way to write the security log."""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor,
        company_id=getattr(user, "company_id", None),
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        data=data,
    )


# --- Per-IP throttle against password spraying ------------------------------------------------


def _ip_key(ip: str | None) -> str:
    return f"login-failures:{ip or 'unknown'}"


def ip_retry_after(request) -> int:
    """Seconds until this IP may try again, or 0 when it is not throttled."""
    failures = cache.get(_ip_key(client_ip(request)), 0)
    if failures >= settings.LOGIN_IP_FAILURE_LIMIT:
        return settings.LOGIN_IP_FAILURE_WINDOW
    return 0


def _count_ip_failure(request) -> None:
    key = _ip_key(client_ip(request))
    if cache.add(key, 1, settings.LOGIN_IP_FAILURE_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_IP_FAILURE_WINDOW)


# --- Password step of the sign-in --------------------------------------------------------------


@dataclass
class PasswordCheck:
    user: User | None
    unverified_email: bool = False


def check_sign_in_password(request, identifier: str, password: str) -> PasswordCheck:
    """Verify a password for an identifier, counting failures and blocking the account.

    The account row is locked for the whole check so that parallel attempts are counted
    exactly and no password is evaluated once the account is blocked. An unknown identifier
    costs the same hashing time as a known one.
    """
    found = User.objects.find_by_identifier(identifier)
    if found is None:
        make_password(password)
        _count_ip_failure(request)
        return PasswordCheck(user=None)

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=found.pk)
        if user.is_blocked or not user.is_active:
            user.failed_login_count += 1
            user.save(update_fields=["failed_login_count"])
            make_password(password)
            ok = False
        else:
            ok = user.check_password(password)
            if ok:
                if user.failed_login_count:
                    user.failed_login_count = 0
                    user.save(update_fields=["failed_login_count"])
            else:
                _register_failure(request, user)
    if not ok:
        _count_ip_failure(request)
        return PasswordCheck(user=None)
    user.backend = settings.AUTHENTICATION_BACKENDS[0]
    return PasswordCheck(user=user, unverified_email=not user.email_verified)


def _register_failure(request, user: User) -> None:
    user.failed_login_count += 1
    fields = ["failed_login_count"]
    record_event(Kind.SIGN_IN_FAILED, user, request=request, count=user.failed_login_count)
    if user.failed_login_count >= settings.LOGIN_FAILURE_LIMIT:
        user.blocked_at = timezone.now()
        fields.append("blocked_at")
        record_event(Kind.BLOCKED, user, request=request, reason="failed_sign_ins")
        send_email_to_user(user, "account_blocked", {"ip": client_ip(request)})
    user.save(update_fields=fields)


def unblock_user(user: User, *, request=None, actor: User | None = None) -> None:
    user.blocked_at = None
    user.failed_login_count = 0
    user.save(update_fields=["blocked_at", "failed_login_count"])
    record_event(Kind.UNBLOCKED, user, request=request, actor=actor)


def record_sign_in(request, user: User) -> None:
    record_event(Kind.SIGNED_IN, user, request=request)


# --- Passwords -------------------------------------------------------------------------------


def password_change_required(user: User) -> bool:
    """An initial, expired or compromised password must be changed before anything else."""
    return bool(
        user.must_change_password or user.password_compromised or user.password_has_expired()
    )


def change_password(request, user: User, new_password: str) -> None:
    """Set a new password, keep this session, end the user's other sessions, notify them."""
    from django.contrib.auth import update_session_auth_hash

    user.set_password(new_password)
    user.must_change_password = False
    user.password_compromised = False
    user.initial_password_expires_at = None
    user.save()
    if request is not None:
        update_session_auth_hash(request, user)
    record_event(Kind.PASSWORD_CHANGED, user, request=request)
    send_email_to_user(user, "password_changed")


def initial_password_expired(user: User, now=None) -> bool:
    """An initial password unused for 7 days stops working (check_sign_in_password refuses it)."""
    return bool(
        user.must_change_password
        and user.initial_password_expires_at is not None
        and (now or timezone.now()) >= user.initial_password_expires_at
    )
