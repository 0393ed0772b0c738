from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from tickets.models import Status, Ticket, TicketEvent


def test_seed_demo_creates_tickets_in_every_state_once(db, capsys):
    call_command("seed_demo")
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    count = Ticket.objects.count()
    call_command("seed_demo")
    assert Ticket.objects.count() == count
    assert not Ticket.objects.filter(reference__isnull=True).exists()


def test_demo_timelines_are_dated_like_the_work_not_at_seeding_time(db, capsys):
    call_command("seed_demo")
    seeded_at = timezone.now()
    for ticket in Ticket.objects.prefetch_related("events", "messages"):
        times = [event.created_at for event in ticket.events.order_by("id")]
        assert times == sorted(times), ticket.subject  # the timeline reads in order
        assert times[0] == ticket.created_at
        assert all(seeded_at - time > timedelta(hours=12) for time in times), ticket.subject
        kinds = [event.kind for event in ticket.events.all()]
        public = [m for m in ticket.messages.all() if not m.is_internal]
        assert kinds.count(TicketEvent.Kind.REPLY) == len(public)
