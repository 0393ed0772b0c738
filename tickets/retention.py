"""What the tickets app keeps, and for how long: the daily purge behind the beat task.

Tickets are the customer's record and ours, so they are kept unless TICKET_RETENTION_DAYS
is set: then a resolved or closed ticket goes that many days after its last change, with its
conversation, its timeline and its files.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.retention import Expired, TimeBudget, cutoff, delete_expired

from .models import Status, Ticket, forget_status_counts

logger = logging.getLogger(__name__)


def past_tickets(before: datetime) -> QuerySet[Ticket]:
    """Resolved or closed tickets last changed before ``before``."""
    return Ticket.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED), updated_at__lt=before)


def expired(now: datetime) -> list[Expired]:
    """Each kind past its retention at ``now``: none unless TICKET_RETENTION_DAYS is set."""
    before = cutoff(now, settings.TICKET_RETENTION_DAYS)
    if before is None:
        return []
    # Locked: one reopened meanwhile stays. Their attachments' files go once each batch has
    # committed (models.delete_attachment_file).
    return [Expired("tickets", past_tickets(before), lock=True)]


def purge(
    now: datetime | None = None, batch_size: int | None = None, budget: TimeBudget | None = None
) -> dict[str, int]:
    """Delete what is past its retention; returns the number of records deleted per kind."""
    kinds = expired(now or timezone.now())
    if not kinds:
        return {}
    deleted = delete_expired(kinds, batch_size=batch_size, budget=budget)
    if deleted.get("tickets"):
        forget_status_counts()
    logger.info("Tickets retention: deleted %s", deleted)
    return deleted
