from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def process_waiting_tickets() -> None:
    """Remind customers who leave tickets waiting, then resolve them (settings TICKET_WAITING_*)."""
    services.process_waiting_tickets()
