"""manage.py purge_expired: the three daily retention jobs, now, for operators."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts import services
from accounts.models import SecurityEvent
from mfa.models import PushChallenge, PushDevice
from tickets import services as tickets_services
from tickets.models import Category, Status, Ticket


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def backlog(settings, employee_a, agent):
    """Three old security events, an old push sign-in request and an old resolved ticket, with one
    young security event that stays."""
    settings.TICKET_RETENTION_DAYS = 365
    with time_machine.travel(days_ago(1000)):
        for _ in range(3):
            services.record_event(SecurityEvent.Kind.SIGNED_IN, employee_a)
        device = PushDevice.objects.create(
            user=employee_a, name="phone", confirmed=True, key_id="k1", public_key="-"
        )
        PushChallenge.objects.create(
            public_id="old-request",
            user=employee_a,
            device=device,
            attempt_digest="a" * 64,
            number=42,
            choices=[42, 17, 88],
            expires_at=timezone.now() + timedelta(minutes=2),
        )
        ticket = tickets_services.create_ticket(
            requester=employee_a,
            category=Category.objects.get(code="email"),
            subject="Mail is down",
            description="Outlook says disconnected.",
            impact="low",
            urgency="low",
            notify=False,
        )
        tickets_services.add_reply(ticket, agent, "Fixed.", status=Status.RESOLVED)
    services.record_event(SecurityEvent.Kind.SIGNED_IN, employee_a)


def purge_expired(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_it_runs_the_three_apps_retention_in_order_and_prints_what_each_deleted(backlog):
    output = purge_expired()
    lines = output.splitlines()
    assert [line for line in lines if not line.startswith(" ")][:3] == [
        "accounts",
        "mfa",
        "tickets",
    ]
    assert "  security events: 3" in lines
    assert "  push challenges: 1" in lines
    assert "  tickets: 1" in lines
    assert "Deleted 5 records." in output
    assert SecurityEvent.objects.count() == 1
    assert not PushChallenge.objects.exists()
    assert not Ticket.objects.exists()


def test_a_dry_run_counts_what_the_run_then_deletes_and_deletes_nothing(backlog):
    dry = purge_expired("--dry-run")
    assert "  security events: 3" in dry.splitlines()
    assert "Would delete 5 records (dry run: nothing deleted" in dry
    assert SecurityEvent.objects.count() == 4
    assert PushChallenge.objects.count() == 1
    assert Ticket.objects.count() == 1
    counted = [line for line in dry.splitlines() if line.startswith("  ")]
    assert counted == [line for line in purge_expired().splitlines() if line.startswith("  ")]


def test_it_drains_the_whole_backlog_whatever_the_tasks_time_budget(settings, backlog):
    settings.RETENTION_TIME_BUDGET = 0
    settings.RETENTION_BATCH_SIZE = 1
    assert "  security events: 3" in purge_expired().splitlines()
    assert SecurityEvent.objects.count() == 1


def test_an_app_that_keeps_everything_says_so(settings, db):
    settings.TICKET_RETENTION_DAYS = 0
    lines = purge_expired("--dry-run").splitlines()
    assert lines[lines.index("tickets") + 1] == "  nothing: kept forever by its settings"
