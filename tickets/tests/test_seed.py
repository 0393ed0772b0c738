from __future__ import annotations

from django.core.management import call_command

from tickets.models import Status, Ticket


def test_seed_demo_creates_tickets_in_every_state_once(db, capsys):
    call_command("seed_demo")
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    count = Ticket.objects.count()
    call_command("seed_demo")
    assert Ticket.objects.count() == count
    assert not Ticket.objects.filter(reference__isnull=True).exists()
