"""Run the password expiry reminder job once (for deployments without Celery beat)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.reminders import send_password_reminders


class Command(BaseCommand):
    help = "Email users whose password expires soon. Safe to run more than once a day."

    def handle(self, *args, **options):
        sent = send_password_reminders()
        self.stdout.write(self.style.SUCCESS(f"Password expiry reminders sent: {sent}"))
