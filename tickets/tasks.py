from __future__ import annotations

from celery import shared_task

from portal.retention import purge_within_budget

from . import retention, services


@shared_task
def process_waiting_tickets() -> None:
    """Remind customers who leave tickets waiting, then resolve them (settings TICKET_WAITING_*)."""
    services.process_waiting_tickets()


@shared_task(bind=True)
def purge_expired_tickets(self) -> dict[str, int]:
    """Daily: delete what is past its retention (tickets.retention; by default nothing); a
    backlog goes on in the run it queues."""
    return purge_within_budget(self, retention.purge)


@shared_task
def announce_held_back_replies() -> None:
    """Email support about customer replies held back by TICKET_REPLY_NOTICE_WINDOW once it
    ends (beat runs it every minute)."""
    services.announce_held_back_replies()
