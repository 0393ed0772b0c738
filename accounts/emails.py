"""The one way the portal sends email: a template trio rendered in the recipient's language,
delivered by Celery once the current transaction has committed."""

from __future__ import annotations

from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from portal.celery import enqueue_after_commit

from .tasks import deliver_email


def send_email(
    template: str,
    to: str,
    context: dict | None = None,
    language: str | None = None,
    time_zone: str | None = None,
):
    """Render templates/emails/<template>{_subject.txt,.txt,.html} and queue the message.

    ``to`` is one address; ``language`` and ``time_zone`` (in which dates are shown) default
    to the portal's. ``sent_at`` in the templates is when the email was written, which for a
    security notice is when the event happened. Other apps call this rather than Django's
    mail functions.
    """
    if not to:
        return
    context = {
        "SITE_URL": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
        "sent_at": timezone.now(),
        **(context or {}),
    }
    with (
        translation.override(language or settings.LANGUAGE_CODE),
        timezone.override(time_zone or settings.TIME_ZONE),
    ):
        subject = _render_plain(f"emails/{template}_subject.txt", context).strip()
        subject = " ".join(subject.splitlines())
        text = _render_plain(f"emails/{template}.txt", context)
        text = text.rstrip() + "\n\n" + _render_plain("emails/_footer.txt", context)
        html = get_template(f"emails/{template}.html").render(context)
    enqueue_after_commit(deliver_email, [to], subject, text, html)


def _render_plain(name: str, context: dict) -> str:
    """Render a subject or text part without HTML escaping: in plain text, "&#x27;" would
    stand for every apostrophe in a name, a ticket subject or a reply."""
    return get_template(name).template.render(Context(context, autoescape=False))


def send_email_to_user(
    user, template: str, context: dict | None = None, to: str | None = None, language: str = ""
):
    """Email a user at their address (or ``to``), in their language (or ``language``: that of
    the page they are reading, for an email that page sends) and time zone."""
    send_email(
        template,
        to or user.email,
        {"user": user, **(context or {})},
        language or user.preferred_language,
        user.time_zone,
    )
