from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def deliver_email(to: list[str], subject: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task
def purge_expired_sessions() -> None:
    from django.core.management import call_command

    call_command("clearsessions")


@shared_task(acks_late=True)
def send_password_reminders() -> int:
    """Daily: email users whose password expires soon (idempotent, see accounts.reminders)."""
    from .reminders import send_password_reminders as run

    return run()
