"""Changing a user's email: a confirmation link to the new address, notices to the old one.

The link carries a signed (request id, secret) pair: the signature gives the expiry, the
secret is stored only as a SHA-256 hash and compared in constant time, and the request row
is claimed once (``used_at``), so the link works exactly once and only for the latest request.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .emails import send_email_to_user
from .models import EmailChangeRequest, SecurityEvent, User
from .services import origin_of, record_event

SALT = "accounts.email-change"
Kind = SecurityEvent.Kind


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def pending_email_change(user: User) -> EmailChangeRequest | None:
    change = (
        EmailChangeRequest.objects.filter(user=user, used_at__isnull=True, superseded=False)
        .order_by("-created_at")
        .first()
    )
    return change if change is not None and change.is_usable() else None


def request_email_change(request, user: User, new_email: str) -> None:
    with transaction.atomic():
        EmailChangeRequest.objects.filter(user=user, used_at__isnull=True).update(superseded=True)
        secret = secrets.token_urlsafe(32)
        change = EmailChangeRequest.objects.create(
            user=user, new_email=new_email, key_hash=_hash(secret)
        )
        token = signing.dumps({"r": change.pk, "k": secret}, salt=SALT)
        url = settings.SITE_URL + reverse("accounts:confirm_email_change", kwargs={"token": token})
        context = {
            "confirm_url": url,
            "new_email": new_email,
            # confirm_email_change asks for the password again after this (reauth.py)
            "minutes": settings.REAUTHENTICATION_MAX_AGE // 60,
        }
        send_email_to_user(user, "email_change_confirm", context, to=new_email)
        if user.email:
            context = {"new_email": new_email, **origin_of(request)}
            send_email_to_user(user, "email_change_requested", context)
        record_event(Kind.EMAIL_CHANGE_REQUESTED, user, request=request, new_email=new_email)


def _usable_change(token: str, changes) -> EmailChangeRequest | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    change = changes.filter(pk=data.get("r")).first()
    if change is None or not constant_time_compare(change.key_hash, _hash(str(data.get("k")))):
        return None
    return change if change.is_usable() else None


def load_email_change(token: str, user: User) -> EmailChangeRequest | None:
    """The usable request a link names, for this user only; None for anything else."""
    return _usable_change(token, EmailChangeRequest.objects.filter(user=user))


def account_of_link(token: str) -> User | None:
    """The account a usable link was sent for, before anyone signed in: only to speak its
    language on the way to the sign-in page. Confirming needs load_email_change."""
    change = _usable_change(token, EmailChangeRequest.objects.select_related("user"))
    return None if change is None else change.user


def confirm_email_change(request, change: EmailChangeRequest) -> bool:
    """Apply the new address (confirmed by the link) once; False when already used."""
    with transaction.atomic():
        claimed = EmailChangeRequest.objects.filter(
            pk=change.pk, used_at__isnull=True, superseded=False
        ).update(used_at=timezone.now())
        if not claimed:
            return False
        user = User.objects.select_for_update().get(pk=change.user_id)
        old_email = user.email
        user.email = change.new_email
        user.email_verified = True
        user.save(update_fields=["email", "email_verified"])
        record_event(
            Kind.EMAIL_CHANGED, user, request=request, old_email=old_email, new_email=user.email
        )
        if old_email:
            context = {"new_email": user.email, **origin_of(request)}
            send_email_to_user(user, "email_changed", context, to=old_email)
    return True
