"""Password expiry reminders: the daily job behind the beat task and the management command.

Idempotent by construction: for each due reminder a PasswordReminder row (unique per user,
threshold and expiry) is inserted *before* the email is queued, with ON CONFLICT DO NOTHING;
only the run whose row landed sends. Two concurrent runs, a rerun after a worker died
mid-batch (acks_late) or a second run the same day therefore never send a reminder twice.
The price is at-most-once: a worker dying between the insert and the queueing of the email
loses that one reminder, the next threshold still comes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .emails import send_email_to_user
from .models import PasswordReminder, User

USABLE_EMAIL = Q(email__gt="") & Q(email_verified=True)


def due_threshold(expires_at: datetime, now: datetime, thresholds: list[int]) -> int | None:
    """The smallest threshold (in days) the time left falls within, or None.

    Only the nearest threshold counts, so a job that missed days sends one reminder, not
    several at once.
    """
    left = expires_at - now
    if left <= timedelta(0):
        return None
    for days in sorted(thresholds):
        if left <= timedelta(days=days):
            return days
    return None


def _candidates():
    return (
        User.objects.filter(USABLE_EMAIL, is_active=True, password_changed_at__isnull=False)
        .select_related("company")
        .only(
            "pk",
            "username",
            "first_name",
            "last_name",
            "email",
            "preferred_language",
            "time_zone",
            "password_changed_at",
            "company__password_max_age_days",
        )
        .order_by("pk")
    )


def send_password_reminders(now: datetime | None = None, batch_size: int | None = None) -> int:
    """Email every user whose password expires within a threshold; returns the number sent.

    Walks the users by primary-key ranges: three queries per batch, memory bounded by the
    batch size whatever the number of users.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.PASSWORD_REMINDER_BATCH_SIZE
    thresholds = list(settings.PASSWORD_EXPIRY_REMINDER_DAYS)
    if not thresholds:
        return 0
    run_id = uuid.uuid4()
    change_url = settings.SITE_URL + reverse("accounts:change_password")
    sent = 0
    last_pk = 0
    while True:
        batch = list(_candidates().filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return sent
        last_pk = batch[-1].pk
        due = {}
        for user in batch:
            expires_at = user.password_expires_at
            threshold = expires_at and due_threshold(expires_at, now, thresholds)
            if threshold:
                due[user.pk] = (user, threshold, expires_at)
        if not due:
            continue
        PasswordReminder.objects.bulk_create(
            [
                PasswordReminder(
                    user_id=pk, threshold_days=threshold, expires_at=expires_at, run_id=run_id
                )
                for pk, (_user, threshold, expires_at) in due.items()
            ],
            ignore_conflicts=True,
        )
        claimed = PasswordReminder.objects.filter(run_id=run_id, user_id__in=list(due))
        for user_id in claimed.values_list("user_id", flat=True):
            user, threshold, expires_at = due[user_id]
            send_email_to_user(
                user,
                "password_expiry_reminder",
                {"expires_at": expires_at, "days": threshold, "change_url": change_url},
            )
            sent += 1
