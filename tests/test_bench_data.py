"""The benchmark's data set: its numbers, its consistency, and that its people can sign in."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import USERNAME_PATTERN, Company, SecurityEvent, User
from accounts.services import password_change_required
from bench.data import BENCH_PASSWORD, generate, main
from mfa.services import required_action_url_name
from tickets.models import OPEN_STATUSES, Message, Ticket, TicketEvent, service_targets

LOGIN = "/account/login/"


@pytest.fixture
def data(db) -> dict:
    return generate(tickets=300, users=40, companies=3, agents=2, events_per_user=4)


def code(key: str) -> str:
    return str(totp(bytes.fromhex(key))).zfill(6)


def sign_in(client: Client, username: str, totp_key: str = ""):
    client.post(LOGIN, {"login_view-current_step": "identify", "identify-username": username})
    response = client.post(
        LOGIN, {"login_view-current_step": "auth", "auth-password": BENCH_PASSWORD}
    )
    if totp_key:
        assert response["Location"] == f"{LOGIN}?step=token"  # the second-factor step
        response = client.post(
            LOGIN, {"login_view-current_step": "token", "token-otp_token": code(totp_key)}
        )
    return response


def test_it_makes_the_numbers_asked_for(data):
    counts = data["counts"]
    assert counts["companies"] == Company.objects.count() == 3
    assert counts["users"] == User.objects.count() == 42
    assert (counts["employees"], counts["managers"], counts["agents"]) == (37, 3, 2)
    assert counts["tickets"] == Ticket.objects.count() == 300
    assert counts["messages"] == Message.objects.count()
    assert 300 <= counts["messages"] <= 4 * 300
    assert counts["ticket_events"] == TicketEvent.objects.count()
    assert 300 <= counts["ticket_events"] <= 3 * 300
    assert counts["security_events"] == SecurityEvent.objects.count() == 42 * 4
    assert len(data["usernames"]) == 37
    assert json.loads(json.dumps(data)) == data


def test_people_follow_the_portals_rules(data):
    usernames = list(User.objects.filter(company__isnull=False).values_list("username", flat=True))
    assert all(re.match(USERNAME_PATTERN, name) for name in usernames)
    assert len({name.lower() for name in usernames}) == len(usernames)
    managers = Group.objects.get(name=roles.SECURITY_MANAGERS).user_set
    assert managers.count() == 3
    assert set(managers.values_list("company", flat=True)) == set(
        Company.objects.values_list("pk", flat=True)
    )
    agents = Group.objects.get(name=roles.SUPPORT_AGENTS).user_set
    assert agents.filter(company=None, is_staff=True).count() == 2
    assert TOTPDevice.objects.filter(confirmed=True).count() == 5


def test_nobody_has_a_pending_required_action(data):
    for user in User.objects.select_related("company"):
        assert user.is_active and user.email and user.email_verified
        assert not password_change_required(user), user.username
        assert required_action_url_name(user) is None, user.username
        assert user.check_password(BENCH_PASSWORD)


def test_the_security_log_matches_the_people(data):
    now = timezone.now()
    for user in User.objects.all():
        log = list(user.security_events.all())
        assert len(log) == 4
        assert all(now - timedelta(days=90) <= e.created_at <= now for e in log)
        assert all(e.company_id == user.company_id and e.ip_address for e in log)
        changes = [e.created_at for e in log if e.kind == "password_changed"]
        assert changes == [user.password_changed_at]
        sign_ins = [e.created_at for e in log if e.kind == "signed_in"]
        assert user.last_login == max(sign_ins, default=None)
    failed = SecurityEvent.objects.filter(kind="sign_in_failed")
    assert failed.exists()
    assert all(event.data["count"] >= 1 for event in failed)


def test_tickets_are_consistent(data):
    tickets = list(Ticket.objects.select_related("requester"))
    assert len({t.reference for t in tickets}) == 300
    assert all(t.reference == f"INC-{t.pk:06d}" for t in tickets)
    for ticket in tickets:
        assert ticket.company_id == ticket.requester.company_id
        first, resolution = service_targets(ticket.priority)
        assert ticket.first_response_due == ticket.created_at + first
        assert ticket.resolution_due == ticket.created_at + resolution
        assert ticket.created_at <= ticket.updated_at
    last_message = {m.ticket_id: m.created_at for m in Message.objects.order_by("created_at")}
    assert all(last_message[t.pk] <= t.updated_at for t in tickets)
    oldest = min(t.created_at for t in tickets)
    assert oldest < max(t.created_at for t in tickets) - timedelta(days=180)
    open_share = sum(t.status in OPEN_STATUSES for t in tickets) / len(tickets)
    assert 0.1 < open_share < 0.4


def test_the_employee_signs_in_straight_to_the_dashboard(data, client):
    employee = data["employee"]
    response = sign_in(client, employee["username"])
    assert response.status_code == 302
    assert response.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    ticket = Ticket.objects.get(pk=employee["ticket_id"])
    page = client.get("/tickets/")
    assert page.status_code == 200
    assert ticket.reference in page.text
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200


def test_the_employee_has_many_tickets_open_and_closed(data):
    employee = data["employee"]
    mine = Ticket.objects.filter(requester__username=employee["username"])
    assert employee["tickets"] == mine.count() >= 30
    assert mine.filter(pk=employee["ticket_id"]).exists()
    assert mine.open().exists()
    assert mine.exclude(status__in=OPEN_STATUSES).exists()


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_agent_and_manager_sign_in_with_their_totp_key(data, role):
    person = data[role]
    device = TOTPDevice.objects.get(user__username=person["username"], confirmed=True)
    assert device.key == person["totp_key"]
    client = Client()
    response = sign_in(client, person["username"], person["totp_key"])
    assert response.status_code == 302
    assert response.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_a_previous_data_sets_cached_state_does_not_get_in_the_way(db):
    from django.core.cache import cache

    from mfa.services import _types_cache_key

    # What an earlier data set with the same ids may have left in a shared cache.
    cache.set_many({_types_cache_key(User(pk=pk)): [] for pk in range(1, 100)}, 300)
    data = generate(tickets=10, users=6, companies=2, agents=1, events_per_user=1)
    client = Client()
    assert sign_in(client, data["agent"]["username"], data["agent"]["totp_key"]).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_the_portal_adds_rows_after_it(data):
    """Ids were given explicitly; the database's own numbering must carry on after them."""
    from accounts.services import record_event
    from tickets.services import create_ticket

    employee = User.objects.get(username=data["employee"]["username"])
    ticket = create_ticket(
        requester=employee,
        category=Ticket.objects.first().category,
        subject="After the benchmark data",
        description="A new ticket.",
        impact="low",
        urgency="low",
        notify=False,
    )
    assert ticket.pk > data["counts"]["tickets"]
    assert Message.objects.create(ticket=ticket, author=employee, body="More.").pk
    assert record_event(SecurityEvent.Kind.SIGNED_IN, employee).pk
    assert TOTPDevice.objects.create(user=employee, name="Phone", confirmed=False).pk
    assert User.objects.create(username="c99999.zz").pk


def test_the_command_refuses_a_database_with_users(db, tmp_path, capsys):
    User.objects.create(username="someone")
    out = tmp_path / "data.json"
    assert main(["--tickets", "10", "--out", str(out)]) == 2
    assert "already holds users" in capsys.readouterr().err
    assert not out.exists()
