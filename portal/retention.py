"""Deleting what is past its retention, in batches: the one loop behind each app's daily
purge (accounts.retention, mfa.retention, tickets.retention).

Each batch reads at most RETENTION_BATCH_SIZE primary keys after the last one seen and
deletes those rows in a transaction of its own, with the selection's conditions checked
again, so that a row that changed in between (an account verified meanwhile) stays. Memory
and the length of a transaction are bounded whatever the size of the table, a run stopped
halfway keeps what it did, and the next run goes on from there.

A daily task spends at most RETENTION_TIME_BUDGET seconds, then queues itself once more for
the rest (purge_within_budget): a first run over a large backlog would otherwise hit Celery's
soft time limit and leave the rest for the next day.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)


def cutoff(now: datetime, days: int) -> datetime | None:
    """The time before which a record ``days`` old is past its retention; None for 0 days,
    which keeps it forever."""
    return now - timedelta(days=days) if days > 0 else None


def delete_in_batches(
    queryset: QuerySet,
    *,
    batch_size: int | None = None,
    before_delete: Callable[[list], None] | None = None,
    budget: TimeBudget | None = None,
    lock: bool = False,
) -> int:
    """Delete the rows of ``queryset`` by primary-key batches; returns how many of its model.

    ``lock``: each batch's rows are locked and checked again first, for rows a request may
    change meanwhile (a ticket reopened must stay). ``before_delete(pks)`` runs then, in the
    batch's transaction, with the rows that are about to go (locked too), for what goes with
    them but would survive the cascade: an account's security log. A ``budget`` that has run
    out stops it before the next batch, with the rest left for the next run.
    """
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    model = queryset.model
    deleted = last_pk = 0
    while True:
        if budget is not None and not budget.left():
            return deleted
        pks = list(
            queryset.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return deleted
        with transaction.atomic():
            rows = queryset.filter(pk__in=pks)
            if lock or before_delete is not None:
                # In the primary key's order, as the bulk actions lock theirs: no deadlock.
                going = list(rows.select_for_update().order_by("pk").values_list("pk", flat=True))
                if before_delete is not None:
                    before_delete(going)
                rows = model._base_manager.filter(pk__in=going)
            _total, per_model = rows.delete()
        deleted += per_model.get(model._meta.label, 0)
        if len(pks) < batch_size:
            return deleted
        last_pk = pks[-1]


@dataclass(frozen=True)
class Expired:
    """One kind of record past its retention: what a purge deletes and a dry run counts, from
    the one query that selects it."""

    name: str
    rows: QuerySet
    before_delete: Callable[[list], None] | None = None
    lock: bool = False


def delete_expired(
    kinds: list[Expired], *, batch_size: int | None = None, budget: TimeBudget | None = None
) -> dict[str, int]:
    """Delete each kind in turn; returns the number deleted per kind reached before the budget
    ran out."""
    deleted = {}
    for kind in kinds:
        if budget is not None and not budget.left():
            break
        deleted[kind.name] = delete_in_batches(
            kind.rows,
            batch_size=batch_size,
            before_delete=kind.before_delete,
            budget=budget,
            lock=kind.lock,
        )
    return deleted


def count_expired(kinds: list[Expired]) -> dict[str, int]:
    """What delete_expired would delete now, deleting nothing (a dry run)."""
    return {kind.name: kind.rows.count() for kind in kinds}


class TimeBudget:
    """Seconds in which a run may begin new batches; once over, ``ran_out`` stays True."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.ran_out = False

    def left(self) -> bool:
        self.ran_out = self.ran_out or time.monotonic() >= self.ends
        return not self.ran_out


def purge_within_budget(task, purge: Callable[..., dict[str, int]]) -> dict[str, int]:
    """Run a daily retention ``task``'s ``purge`` for RETENTION_TIME_BUDGET seconds, then queue
    the task once more if work is left, rather than be cut off by the soft time limit and leave
    the backlog for tomorrow. Each run queues at most one successor, and only one that stopped
    with work left, so the chain ends when the backlog is gone.

    With eager tasks (the embedded default, tests) a task runs inline with no time limit, and
    queueing itself would only recurse: it deletes everything in one go."""
    if task.app.conf.task_always_eager:
        return purge()
    budget = TimeBudget(settings.RETENTION_TIME_BUDGET)
    try:
        deleted = purge(budget=budget)
    except SoftTimeLimitExceeded:
        # A batch slower than the whole margin: its transaction was rolled back, the batches
        # before it stay deleted.
        logger.warning("%s reached the soft time limit", task.name)
        deleted, budget.ran_out = {}, True
    if budget.ran_out:
        logger.info("%s stopped on its time budget with work left: queued again", task.name)
        task.apply_async()
    return deleted
