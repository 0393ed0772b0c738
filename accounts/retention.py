"""What the accounts app keeps, and for how long: the daily purge behind the beat task.

Each kind has its setting (*_RETENTION_DAYS, 0 keeps it forever) and its query here; the
deleting is portal.retention's batches. The smaller kinds go first: a run that meets a large
backlog of security events and runs out of its time budget has done the rest by then, and
the run it queues goes on where it stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from portal.retention import Expired, TimeBudget, cutoff, delete_expired

from .models import (
    EmailChangeRequest,
    PasswordReminder,
    SecurityEvent,
    SecurityManagerRequest,
    User,
    UserSession,
)

logger = logging.getLogger(__name__)


def past_sign_in_records(before: datetime) -> QuerySet[UserSession]:
    """Sessions that began before ``before``, ended by now, except each user's latest one in a
    recognised browser: start_session takes a user with no such record for one who never
    signed in, and would not warn of a new browser at their next sign-in."""
    newer_in_a_known_browser = UserSession.objects.filter(
        user_id=OuterRef("user_id"), pk__gt=OuterRef("pk")
    ).exclude(browser_key_hash="")
    return UserSession.objects.filter(created_at__lt=before).filter(
        Q(browser_key_hash="") | Exists(newer_in_a_known_browser)
    )


def past_email_changes(before: datetime) -> QuerySet[EmailChangeRequest]:
    """Requests whose link stopped working before ``before`` (used, replaced or expired)."""
    made_before = before - timedelta(seconds=settings.EMAIL_CHANGE_TIMEOUT)
    return EmailChangeRequest.objects.filter(created_at__lt=made_before)


def past_password_reminders(before: datetime) -> QuerySet[PasswordReminder]:
    """Reminders of an expiry before ``before``: the job only looks at expiries to come."""
    return PasswordReminder.objects.filter(expires_at__lt=before)


def past_manager_requests(before: datetime) -> QuerySet[SecurityManagerRequest]:
    """Requests decided before ``before``; pending ones wait for staff however old."""
    return SecurityManagerRequest.objects.exclude(
        status=SecurityManagerRequest.Status.PENDING
    ).filter(decided_at__lt=before)


def abandoned_registrations(before: datetime) -> QuerySet[User]:
    """Accounts registered before ``before`` by someone who never confirmed the address nor
    signed in: most often a mistyped address, which the account would hold forever
    (registering it again only emails its owner). Never an account someone else made
    (an employee, a Security Manager's or staff's: no terms accepted, or a company), one that
    staff blocked or deactivated, one with a role, or one with tickets, nor one whose address
    an open "cannot sign in" request names: support may be helping its owner just then."""
    from tickets.services import open_help_requests_from, tickets_requested_by

    return User.objects.filter(
        Q(blocked_at__isnull=True) | Q(blocked_reason=User.BlockReason.LOCKOUT),
        date_joined__lt=before,
        terms_accepted_at__isnull=False,  # self-registration is the only way to accept them
        email_verified=False,
        last_login__isnull=True,
        company__isnull=True,
        is_active=True,
        is_staff=False,
        is_superuser=False,
    ).filter(
        ~Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"))),
        ~Exists(tickets_requested_by(OuterRef("pk"))),
        ~Exists(open_help_requests_from(OuterRef("email"))),
    )


def past_security_events(before: datetime) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.filter(created_at__lt=before)


def _forget_their_log(user_pks: list) -> None:
    # The log outlives a deleted account, but this one's person never showed up: nothing
    # is kept about them (the deletion itself is not logged either).
    SecurityEvent.objects.filter(user_id__in=user_pks).delete()


def expired(now: datetime) -> list[Expired]:
    """Each kind past its retention at ``now``, the smaller kinds first (see above)."""
    kinds = [
        ("sign-in records", past_sign_in_records, settings.SESSION_HISTORY_RETENTION_DAYS),
        ("email changes", past_email_changes, settings.EMAIL_CHANGE_RETENTION_DAYS),
        ("password reminders", past_password_reminders, settings.PASSWORD_REMINDER_RETENTION_DAYS),
        ("manager requests", past_manager_requests, settings.MANAGER_REQUEST_RETENTION_DAYS),
        (
            "unverified accounts",
            abandoned_registrations,
            settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS,
        ),
        ("security events", past_security_events, settings.SECURITY_EVENT_RETENTION_DAYS),
    ]
    return [
        Expired(
            name,
            rows(before),
            before_delete=_forget_their_log if rows is abandoned_registrations else None,
        )
        for name, rows, days in kinds
        if (before := cutoff(now, days)) is not None
    ]


def purge(
    now: datetime | None = None, batch_size: int | None = None, budget: TimeBudget | None = None
) -> dict[str, int]:
    """Delete what is past its retention; returns the number of records deleted per kind."""
    # The session store's own leftovers: database sessions past their expiry. Cache sessions
    # (Redis, in production) expire by themselves, and clearsessions leaves them alone.
    call_command("clearsessions")
    deleted = delete_expired(expired(now or timezone.now()), batch_size=batch_size, budget=budget)
    logger.info("Accounts retention: deleted %s", deleted)
    return deleted
