from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def deliver_email(to: list[str], subject: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task(bind=True)
def purge_expired_accounts_data(self) -> dict[str, int]:
    """Daily: delete what is past its retention (accounts.retention), the session store's
    expired sessions with it; a backlog goes on in the run it queues."""
    from portal.retention import purge_within_budget

    from .retention import purge

    return purge_within_budget(self, purge)


@shared_task(acks_late=True)
def send_password_reminders() -> int:
    """Daily: email users whose password expires soon (idempotent, see accounts.reminders)."""
    from .reminders import send_password_reminders as run

    return run()


@shared_task
def report_account_status(
    identifier: str, ip_address: str | None, user_agent: str, language: str
) -> None:
    """ "Check and unblock your account", out of the request so that its time reveals nothing."""
    from . import services

    services.report_account_status(identifier, ip_address, user_agent, language)


@shared_task
def send_password_reset_emails(
    identifier: str, ip_address: str | None, user_agent: str, language: str
) -> None:
    """ "Forgot your password?", out of the request so that its time reveals nothing."""
    from . import services

    services.send_password_reset_emails(identifier, ip_address, user_agent, language)


@shared_task
def send_username_reminder(
    email: str, ip_address: str | None, user_agent: str, language: str
) -> None:
    """ "Forgot your user name?", out of the request so that its time reveals nothing."""
    from . import services

    services.send_username_reminder(email, ip_address, user_agent, language)


@shared_task
def register_account(registration_id, *earlier_release) -> None:
    """Registration, out of the request so that its time does not tell whether the address
    has an account. Only the PendingRegistration's key travels: no password hash in the
    broker.

    A message queued by the release before PendingRegistration (form details, password hash,
    address, browser, language) is still done during the deploy, through a row of its own;
    remove this with the release after next."""
    from . import services

    if earlier_release:
        details, (password_hash, ip_address, user_agent, language) = (
            registration_id,
            earlier_release,
        )
        details = {key: value for key, value in details.items() if key != "terms_accepted_at"}
        registration_id = services.store_pending_registration(
            **details,
            password_hash=password_hash,
            language=language,
            ip_address=ip_address,
            user_agent=user_agent,
        ).pk
    services.register_account(str(registration_id))


@shared_task
def process_pending_registrations() -> tuple[int, int]:
    """Hourly: registrations whose task was lost (see services.process_pending_registrations)."""
    from . import services

    return services.process_pending_registrations()
