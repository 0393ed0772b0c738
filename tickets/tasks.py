from __future__ import annotations

from celery import shared_task

from . import retention, services


@shared_task
def process_waiting_tickets() -> None:
    """Remind customers who leave tickets waiting, then resolve them (settings TICKET_WAITING_*)."""
    services.process_waiting_tickets()


@shared_task
def purge_expired_tickets() -> dict[str, int]:
    """Daily: delete what is past its retention (tickets.retention; by default nothing)."""
    return retention.purge()


@shared_task
def announce_held_back_replies() -> None:
    """Email support about customer replies held back by TICKET_REPLY_NOTICE_WINDOW once it
    ends (beat runs it every minute)."""
    services.announce_held_back_replies()
