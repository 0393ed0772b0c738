"""Deleting what is past its retention, in batches: the one loop behind each app's daily
purge (accounts.retention, mfa.retention, tickets.retention).

Each batch reads at most RETENTION_BATCH_SIZE primary keys after the last one seen and
deletes those rows in a transaction of its own, with the selection's conditions checked
again, so that a row that changed in between (an account verified meanwhile) stays. Memory
and the length of a transaction are bounded whatever the size of the table, a run stopped
halfway keeps what it did, and the next run goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet


def cutoff(now: datetime, days: int) -> datetime | None:
    """The time before which a record ``days`` old is past its retention; None for 0 days,
    which keeps it forever."""
    return now - timedelta(days=days) if days > 0 else None


def delete_in_batches(
    queryset: QuerySet,
    *,
    batch_size: int | None = None,
    before_delete: Callable[[list], None] | None = None,
) -> int:
    """Delete the rows of ``queryset`` by primary-key batches; returns how many of its model.

    ``before_delete(pks)`` runs in each batch's transaction first, with the rows that are
    about to go (locked and checked again), for what goes with them but would survive the
    cascade: an account's security log.
    """
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    model = queryset.model
    deleted = last_pk = 0
    while True:
        pks = list(
            queryset.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return deleted
        with transaction.atomic():
            rows = queryset.filter(pk__in=pks)
            if before_delete is not None:
                # In the primary key's order, as the bulk actions lock theirs: no deadlock.
                going = list(rows.select_for_update().order_by("pk").values_list("pk", flat=True))
                before_delete(going)
                rows = model._base_manager.filter(pk__in=going)
            _total, per_model = rows.delete()
        deleted += per_model.get(model._meta.label, 0)
        if len(pks) < batch_size:
            return deleted
        last_pk = pks[-1]
