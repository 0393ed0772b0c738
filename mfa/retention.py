"""What the mfa app keeps, and for how long: the daily purge behind the beat task.

Push sign-in requests, push enrolment codes and authenticator setups never finished serve
for minutes; MFA_RETENTION_DAYS after that they go (0 keeps them). Used nonces go once the
API refuses their timestamps anyway, as every device request already does.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.retention import Expired, TimeBudget, cutoff, delete_expired

from .models import PushChallenge, PushEnrollment
from .services import TYPES, expired_push_nonces

logger = logging.getLogger(__name__)


def past_push_challenges(before: datetime) -> QuerySet[PushChallenge]:
    """Sign-in requests made before ``before`` (each expires minutes later; created_at has the
    index); a denial stays in the security log."""
    return PushChallenge.objects.filter(created_at__lt=before)


def past_push_enrollments(before: datetime) -> QuerySet[PushEnrollment]:
    """Enrolment codes that expired before ``before``, used or not (the device stays)."""
    return PushEnrollment.objects.filter(expires_at__lt=before)


def abandoned_setups(model, before: datetime) -> QuerySet:
    """Authenticators begun before ``before`` and never confirmed: a setup left halfway (its
    secret never protected anything; starting again replaces it)."""
    return model.objects.filter(confirmed=False, created_at__lt=before)


def expired(now: datetime) -> list[Expired]:
    """Each kind past its retention at ``now``."""
    kinds = [Expired("push nonces", expired_push_nonces(now))]
    before = cutoff(now, settings.MFA_RETENTION_DAYS)
    if before is not None:
        kinds += [
            Expired("push challenges", past_push_challenges(before)),
            Expired("push enrolments", past_push_enrollments(before)),
        ]
        kinds += [
            Expired(f"unfinished {code} setups", abandoned_setups(model, before))
            for code, model in TYPES.items()
        ]
    return kinds


def purge(
    now: datetime | None = None, batch_size: int | None = None, budget: TimeBudget | None = None
) -> dict[str, int]:
    """Delete what is past its retention; returns the number of records deleted per kind."""
    deleted = delete_expired(expired(now or timezone.now()), batch_size=batch_size, budget=budget)
    logger.info("MFA retention: deleted %s", deleted)
    return deleted
