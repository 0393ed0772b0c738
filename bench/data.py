"""The benchmark's data set (issue 8): companies, people, tickets with their conversation and
timeline, and security events, written with bulk inserts into an empty, migrated database.

    python -m bench.data --tickets 100000 --out var/bench/large.json

Everyone signs in with BENCH_PASSWORD and lands on the dashboard: employees have no second
factor, security managers and support agents a confirmed TOTP authenticator whose key is in
the result. The same seed gives the same data (times are relative to the start of the run).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta

BENCH_PASSWORD = "Bench-Portal-2026!"

CHUNK = 5000  # tickets (or users) generated and inserted at a time: memory stays flat
BATCH = 2000  # rows per INSERT; Django lowers it where the database needs (SQLite)
MAX_USERNAMES = 5000
FEATURED_TICKETS = 40  # the returned employee's own tickets
DAY = 86400.0
HOUR = 3600.0
# Passwords were changed at most this long before their expiry, so none expires during a run.
EXPIRY_MARGIN_DAYS = 2

# --- Vocabulary --------------------------------------------------------------------------

NAMES = {
    "de": (
        "Anna Lukas Sophie Jonas Lea Felix Marie Paul Laura Tim Katharina Jan Julia Niklas "
        "Sabine Thomas Monika Stefan Petra Andreas Jürgen Özlem",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
        "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger",
    ),
    "es": (
        "María José Lucía Javier Carmen Alejandro Laura Pablo Elena Diego Sofía Carlos Ana "
        "Miguel Isabel Andrés Paula Jorge Marta Ángel",
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín "
        "Jiménez Ruiz Hernández Díaz Moreno Álvarez Muñoz Romero Alonso Navarro",
    ),
    "en": (
        "Oliver Emma James Olivia William Amelia Harry Isla George Ava Jack Mia Thomas Grace "
        "Daniel Chloe Samuel Lily Joseph Ella",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson "
        "Evans Walker White Roberts Green Hall Wood Jackson Clarke",
    ),
}
COMPANY_NAMES = {
    "de": (
        "Nordwind Alpen Rhein Elbtal Schwarzwald Bodensee Hanse Spree Isar Harz",
        "Logistik Maschinenbau Versicherung Bau Handel Medien Energie Pharma",
        ("GmbH", "AG"),
    ),
    "es": (
        "Andina Iberia Levante Sierra Mediterránea Castilla Atlántica Pampa Cantábrica Sur",
        "Logística Seguros Construcciones Energía Medios Farma Comercio Alimentos",
        ("S.L.", "S.A."),
    ),
    "en": (
        "Northwind Bluewater Highland Riverside Kingsbridge Oakfield Harbour Summit Fenwick",
        "Logistics Insurance Engineering Retail Media Energy Pharma Foods",
        ("Ltd", "plc"),
    ),
}
LANGUAGE_WEIGHTS = {"de": 40, "en": 35, "es": 25}
TIME_ZONES = {
    "de": ["Europe/Berlin"] * 6 + ["Europe/Vienna", "Europe/Zurich"],
    "es": ["Europe/Madrid"] * 5 + ["Atlantic/Canary", "America/Mexico_City", "America/Bogota"],
    "en": ["Europe/London"] * 4 + ["Europe/Dublin", "America/New_York", "America/Chicago", "UTC"],
}
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
]
SUBJECTS = {
    "login_identity": [
        "Cannot sign in to the portal",
        "Password expired while travelling",
        "Authenticator app lost",
        "Account locked after failed sign-ins",
        "Single sign-on redirects in a loop",
        "New phone, authenticator must move",
    ],
    "cloud_desktop": [
        "Cloud desktop freezes at login",
        "Slow desktop in the afternoon",
        "Printer mapping missing",
        "Second monitor not detected",
        "Session disconnects every hour",
        "Clipboard does not work",
    ],
    "email": [
        "Shared mailbox missing",
        "Spam filter too strict",
        "Calendar invitations do not arrive",
        "Out-of-office reply cannot be set",
        "Mailbox almost full",
        "Distribution list needs a new member",
    ],
    "applications": [
        "ERP export fails",
        "CRM shows an error after the update",
        "Licence of the design tool expired",
        "Spreadsheet add-in crashes",
        "Timesheet application does not load",
        "Monthly report takes hours",
    ],
    "other": [
        "Headset requested for a new colleague",
        "Question about the last invoice",
        "VPN drops on hotel Wi-Fi",
        "Access to the project file share",
        "Onboarding of a new colleague",
        "Meeting room screen shows no picture",
    ],
}
PLACES = [
    "Berlin office",
    "Madrid office",
    "London office",
    "home office",
    "warehouse",
    "3rd floor",
]
DETAILS = [
    "It started this morning.",
    "It has happened several times this week.",
    "Colleagues in my team see the same.",
    "Restarting did not help.",
    "The error message says to contact the administrator.",
    "It worked fine until yesterday.",
]
ASKS = [
    "Please have a look as soon as possible.",
    "I can send screenshots if that helps.",
    "Thank you for your help.",
    "This blocks part of my daily work.",
]
REQUESTER_FOLLOW_UPS = [
    "Additional information: it also happens on my laptop.",
    "Any news? It is still blocking my work.",
    "I forgot to mention: the problem started after the last update.",
]
REQUESTER_REPLIES = [
    "Thanks, it happened again this morning at 9:15.",
    "Here is the information you asked for; the screenshot is from today.",
    "I tried that, unfortunately without success.",
    "It only happens when I work from home.",
    "Thank you, I will try this and report back.",
]
SELF_RESOLVED = [
    "It works again, you can close this ticket.",
    "Solved itself after a restart, thanks anyway.",
]
AGENT_REPLIES = [
    "Thank you for reporting this. We are looking into it.",
    "We have reproduced the problem and are working on a fix.",
    "We have restarted the service on our side; please try again.",
    "The issue is known and our specialists are on it.",
]
AGENT_QUESTIONS = [
    "Could you send us a screenshot of the error message?",
    "Could you tell us when this happened for the last time?",
    "Please try again from another browser and tell us whether the problem persists.",
    "Which device and which network were you using when it happened?",
]
AGENT_RESOLUTIONS = [
    "We have fixed the configuration; please check and tell us if anything is still wrong.",
    "The update has been rolled out to your account; the problem should be gone.",
    "We have reset your profile; everything should work again after the next sign-in.",
    "Done: the change is in place. We are closing the ticket; reply within two weeks to reopen.",
]
AGENT_NOTES = [
    "Checked the logs, looks like a profile issue.",
    "Escalated to the second level, waiting for their analysis.",
    "Same root cause as last week's storage incident.",
    "Customer's licence pool is exhausted; sales informed.",
]
# Status mix: about a fifth of the tickets are open.
STATUS_WEIGHTS = {"new": 5, "in_progress": 9, "waiting": 6, "resolved": 8, "closed": 72}
CATEGORY_WEIGHTS = {
    "login_identity": 25,
    "cloud_desktop": 25,
    "email": 20,
    "applications": 20,
    "other": 10,
}
IMPACT_WEIGHTS = {"high": 15, "medium": 35, "low": 50}
URGENCY_WEIGHTS = {"high": 20, "medium": 40, "low": 40}
IMPACTS = [key for key, weight in IMPACT_WEIGHTS.items() for _ in range(weight // 5)]
URGENCIES = [key for key, weight in URGENCY_WEIGHTS.items() for _ in range(weight // 5)]
SECURITY_EVENT_WEIGHTS = {
    "signed_in": 60,
    "signed_out": 15,
    "sign_in_failed": 10,
    "session_expired": 8,
    "reauthenticated": 4,
    "profile_changed": 3,
}


# --- Inserting ---------------------------------------------------------------------------


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _insert(model, rows: list[dict]) -> int:
    """Insert rows (dicts by attribute name, all with the same keys) in bulk.

    On PostgreSQL COPY, which is several times faster than bulk_create here (Django prepares
    every value of every model instance); elsewhere bulk_create.
    """
    from django.db import connection, reset_queries

    if not rows:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if hasattr(cursor.cursor, "copy_expert"):  # psycopg2
                _copy(cursor.cursor, model, rows)
                return len(rows)
    model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
    reset_queries()  # with DEBUG on, the log of huge INSERTs would only eat memory
    return len(rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_converter(field) -> Callable:
    """How a (non-null) value of ``field`` is written in COPY's text format."""
    from django.db import models

    if field.is_relation:
        field = field.target_field
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value).translate(_COPY_ESCAPES)
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, models.DateTimeField):
        return datetime.isoformat
    if isinstance(field, models.IntegerField | models.AutoField):
        return str
    return lambda value: str(value).translate(_COPY_ESCAPES)


def _copy(cursor, model, rows: list[dict]) -> None:
    """COPY rows into the model's table; absent fields get their model default, as in save()."""
    from django.utils import timezone

    given, now = rows[0].keys(), timezone.now()
    if any(row.keys() != given for row in rows):
        raise ValueError(f"rows for {model.__name__} must all name the same fields")
    columns = []  # (field, attname or None for a constant, converter, the constant's text)
    for field in model._meta.concrete_fields:
        convert = _copy_converter(field)
        if field.attname in given:
            columns.append((field, field.attname, convert, ""))
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default = now
        elif field.primary_key:
            continue  # the database numbers the row
        else:
            default = field.get_default()
        columns.append((field, None, convert, "\\N" if default is None else convert(default)))
    buffer = io.StringIO()
    for row in rows:
        values = [
            text if attname is None else "\\N" if (v := row[attname]) is None else convert(v)
            for _field, attname, convert, text in columns
        ]
        buffer.write("\t".join(values))
        buffer.write("\n")
    buffer.seek(0)
    names = ", ".join(f'"{column[0].column}"' for column in columns)
    cursor.copy_expert(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN', buffer)


def _analyze() -> None:
    """Fresh statistics and visibility maps, as autovacuum would leave them soon after a load:
    without statistics PostgreSQL plans the first queries for near-empty tables, and where
    autovacuum runs it would otherwise vacuum the loaded tables during the measurements."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # VACUUM cannot run in a transaction (the tests generate data inside one).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def _reset_sequences(models: list) -> None:
    """Rows were inserted with explicit ids; PostgreSQL's sequences must catch up."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _forget_cached_state(user_ids: list[int]) -> None:
    """The rows bypassed the services that keep caches right: a shared cache (Redis) may still
    hold a previous data set's authenticator types for these ids, which would send a manager
    or agent to "set up two-factor" instead of the dashboard for minutes, and the support
    queue's status counts of the previous data."""
    from mfa.services import forget_authenticator_types
    from tickets.models import forget_status_counts

    forget_authenticator_types(user_ids)
    forget_status_counts()


def _weighted(rng: random.Random, weights: dict) -> Callable[[], str]:
    """A fast weighted choice among the keys of ``weights``."""
    keys = list(weights)
    cum, total = [], 0
    for key in keys:
        total += weights[key]
        cum.append(total)
    return lambda: rng.choices(keys, cum_weights=cum)[0]


def _ip(rng: random.Random) -> str:
    # Documentation ranges only (RFC 5737, RFC 3849): nothing here is a real address.
    if rng.random() < 0.2:
        return f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randrange(1, 255)}"


# --- Companies and people ----------------------------------------------------------------


def _companies(rng: random.Random, count: int) -> list[dict]:
    from accounts.models import Company

    pick_language = _weighted(rng, LANGUAGE_WEIGHTS)
    numbers = rng.sample(range(10000, 100000), count)
    seen: set[str] = set()
    rows = []
    first_id = _next_id(Company)
    for index, number in enumerate(numbers):
        language = pick_language()
        prefixes, sectors, forms = COMPANY_NAMES[language]
        name = f"{rng.choice(prefixes.split())} {rng.choice(sectors.split())} {rng.choice(forms)}"
        while name in seen:
            name = f"{name} {rng.randrange(2, 100)}"
        seen.add(name)
        # Most companies keep the 90-day expiry; some never expire, some use the default.
        max_age = 0 if index % 10 == 9 else None if index % 10 == 4 else 90
        rows.append(
            {
                "id": first_id + index,
                "name": name,
                "customer_number": str(number),
                "password_max_age_days": max_age,
                "language": language,
            }
        )
    _insert(Company, [{k: v for k, v in row.items() if k != "language"} for row in rows])
    return rows


def _split(rng: random.Random, total: int, parts: int, minimum: int = 2) -> list[int]:
    """``total`` people over ``parts`` companies of uneven size, each at least ``minimum``."""
    if total < parts * minimum:
        raise ValueError(f"{total} users cannot fill {parts} companies ({minimum} each)")
    weights = [rng.uniform(0.3, 1.7) for _ in range(parts)]
    sizes = [minimum] * parts
    for index in rng.choices(range(parts), weights=weights, k=total - parts * minimum):
        sizes[index] += 1
    return sizes


def _person_name(rng: random.Random, language: str) -> tuple[str, str]:
    firsts, lasts = NAMES[language]
    return rng.choice(firsts.split()), rng.choice(lasts.split())


def _username(rng, company: dict, language: str, taken: set[str]) -> tuple[str, str, str]:
    """A free user name in the portal's scheme (c12345.ab, then c12345.abx)."""
    from accounts.company_services import username_candidates
    from accounts.models import Company

    number = Company(customer_number=company["customer_number"])
    for _attempt in range(100):
        first, last = _person_name(rng, language)
        for candidate in username_candidates(number, first, last):
            if candidate not in taken:
                taken.add(candidate)
                return candidate, first, last
    raise ValueError(f"no free user name left in company {company['customer_number']}")


def _password_changed_at(rng: random.Random, now: datetime, max_age: int) -> datetime:
    """Uniform over the last 90 days, but never so long ago that the password has expired."""
    span = min(max_age, 90) if max_age else 90
    return now - timedelta(days=rng.uniform(0, max(span - EXPIRY_MARGIN_DAYS, 0.5)))


def _user_row(rng, *, pk, username, first, last, company, language, now, password_hash):
    from django.conf import settings

    max_age = settings.PASSWORD_MAX_AGE_DAYS
    if company is not None and company["password_max_age_days"] is not None:
        max_age = company["password_max_age_days"]
    return {
        "id": pk,
        "username": username,
        "first_name": first,
        "last_name": last,
        "email": f"{username.replace('.', '_')}@example.com",
        "email_verified": True,
        "password": password_hash,
        "password_changed_at": _password_changed_at(rng, now, max_age),
        "preferred_language": language,
        "time_zone": rng.choice(TIME_ZONES[language]),
        "company_id": company["id"] if company else None,
        "is_active": True,
        "is_staff": False,
        "date_joined": now - timedelta(days=rng.uniform(2.1 * 365, 4 * 365)),
    }


def _people(rng, companies: list[dict], users: int, agents: int, now, password_hash) -> dict:
    """Rows of every person; managers come first in their company, agents last."""
    from accounts.models import User

    pick_language = _weighted(rng, LANGUAGE_WEIGHTS)
    pk = _next_id(User)
    rows, managers, employees = [], [], []
    for company, size in zip(companies, _split(rng, users, len(companies)), strict=True):
        taken: set[str] = set()
        for position in range(size):
            # Most people speak their company's language, the others one of the rest.
            language = company["language"] if rng.random() < 0.75 else pick_language()
            username, first, last = _username(rng, company, language, taken)
            rows.append(
                _user_row(
                    rng,
                    pk=pk,
                    username=username,
                    first=first,
                    last=last,
                    company=company,
                    language=language,
                    now=now,
                    password_hash=password_hash,
                )
            )
            (employees if position else managers).append(pk)
            pk += 1
    staff = []
    for index in range(agents):
        language = pick_language()
        first, last = _person_name(rng, language)
        row = _user_row(
            rng,
            pk=pk,
            username=f"support.agent{index + 1:02d}",
            first=first,
            last=last,
            company=None,
            language=language,
            now=now,
            password_hash=password_hash,
        )
        rows.append({**row, "is_staff": True})
        staff.append(pk)
        pk += 1
    return {"rows": rows, "managers": managers, "employees": employees, "agents": staff}


def _security_events(rng, user: dict, count: int, now: datetime) -> list[dict]:
    """The user's recent log: their last password change, then sign-ins and the like."""
    pick_kind = _weighted(rng, SECURITY_EVENT_WEIGHTS)
    home_ip, browser = _ip(rng), rng.choice(USER_AGENTS)
    base = {"user_id": user["id"], "company_id": user["company_id"], "user_agent": browser}
    events = []
    if count:
        changed = user["password_changed_at"]
        events.append(
            {
                **base,
                "kind": "password_changed",
                "ip_address": home_ip,
                "data": {},
                "created_at": changed,
            }
        )
    for _index in range(count - 1):
        kind = pick_kind()
        data: dict = {}
        ip = home_ip if rng.random() < 0.8 else _ip(rng)
        if kind == "sign_in_failed":
            data = {"count": rng.randint(1, 3)}
            ip = _ip(rng) if rng.random() < 0.5 else ip
        elif kind == "session_expired":
            data = {"reason": rng.choice(("idle", "idle", "absolute"))}
        at = now - timedelta(seconds=rng.uniform(60, 90 * DAY))
        events.append({**base, "kind": kind, "ip_address": ip, "data": data, "created_at": at})
    return events


def _write_people(rng, people: dict, events_per_user: int, now: datetime) -> dict:
    """Users, their roles, TOTP authenticators for managers and agents, their security log."""
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import roles
    from accounts.models import SecurityEvent, User
    from mfa.models import MfaSettings

    rows = people["rows"]
    event_count = 0
    event_id = _next_id(SecurityEvent)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        events = []
        for user in chunk:
            log = _security_events(rng, user, events_per_user, now)
            sign_ins = [event["created_at"] for event in log if event["kind"] == "signed_in"]
            user["last_login"] = max(sign_ins, default=None)
            events += log
        _insert(User, chunk)
        for event in events:
            event["id"] = event_id
            event_id += 1
        event_count += _insert(SecurityEvent, events)

    group_ids = {
        name: Group.objects.get_or_create(name=name)[0].pk
        for name in (roles.SECURITY_MANAGERS, roles.SUPPORT_AGENTS)
    }
    membership = [
        {"user_id": pk, "group_id": group_ids[roles.SECURITY_MANAGERS]} for pk in people["managers"]
    ] + [{"user_id": pk, "group_id": group_ids[roles.SUPPORT_AGENTS]} for pk in people["agents"]]
    _insert(User.groups.through, membership)

    # Mirrors activating an authenticator: confirmed, and the user's default.
    keys, devices, preferences = {}, [], []
    device_id = _next_id(TOTPDevice)
    for pk in people["managers"] + people["agents"]:
        keys[pk] = f"{rng.getrandbits(160):040x}"
        devices.append(
            {"id": device_id, "user_id": pk, "name": "TOTP", "key": keys[pk], "confirmed": True}
        )
        default = TOTPDevice(id=device_id).persistent_id
        preferences.append({"user_id": pk, "default_device": default})
        device_id += 1
    _insert(TOTPDevice, devices)
    _insert(MfaSettings, preferences)
    return {"security_events": event_count, "totp_keys": keys}


# --- Tickets -----------------------------------------------------------------------------


def _open_age(rng: random.Random, last: float, target: float) -> float:
    """Seconds since an open ticket was created: mostly within its service-level clock, a
    backlog of up to a month behind it, so that the queue's "overdue" is a minority."""
    if rng.random() < 0.8:
        return max(last + 60, rng.uniform(0, 1.2 * target))
    return last + rng.uniform(60, 30 * DAY)


def _conversation(rng, status: str, requester: int, agents: list[int], targets) -> dict:
    """What happened to one ticket, as offsets in seconds from its creation.

    Each ticket gets 1-4 messages and 1-3 timeline entries; the timeline keeps the entries
    that matter most for its final state (created, assigned, status changes, reminder).
    """
    first_target, resolution_target = targets
    messages: list[tuple[float, int, str, bool]] = []
    events: list[tuple[float, str, int | None, dict]] = [(0.0, "created", requester, {})]
    story: dict = {"assignee": None, "first_responded": None}

    if status == "new":
        at = rng.uniform(300, 2 * HOUR)
        messages.append((at, requester, rng.choice(REQUESTER_FOLLOW_UPS), False))
        if rng.random() < 0.5:
            events.append((at, "reply", requester, {}))
        story["age"] = _open_age(rng, at, first_target)
        return {**story, "messages": messages, "events": events}

    if status in ("resolved", "closed") and rng.random() < 0.06:
        # The requester declared the problem solved before anybody answered.
        at = rng.uniform(600, min(first_target, DAY))
        messages.append((at, requester, rng.choice(SELF_RESOLVED), False))
        events.append((at, "status", requester, {"old": "new", "new": "resolved"}))
        story["resolved"] = last = at
        if status == "closed":
            story["closed"] = last = at + rng.uniform(HOUR, 3 * DAY)
            events.append(
                (last, "status", rng.choice(agents), {"old": "resolved", "new": "closed"})
            )
        story["age"] = last + rng.uniform(60, 700 * DAY if status == "closed" else 45 * DAY)
        return {**story, "messages": messages, "events": events}

    agent = rng.choice(agents)
    assignee = agent if rng.random() < 0.92 else None
    story["assignee"] = assignee
    response = first_target * rng.uniform(0.05, 1.3)  # about one in five misses its target
    story["first_responded"] = response
    if rng.random() < 0.35:
        messages.append((response * 0.6, agent, rng.choice(AGENT_NOTES), True))
    assigned = (response * 0.5, "assigned", agent, {"old": "", "new": None})  # name set later

    if status == "waiting":
        messages.append((response, agent, rng.choice(AGENT_QUESTIONS), False))
        story["waiting_since"] = response
        waiting_for = rng.uniform(0.5 * HOUR, 7 * DAY)
        events += [(response, "status", agent, {"old": "new", "new": "waiting"})]
        if waiting_for > 3 * DAY:
            story["reminder"] = response + 3 * DAY
            events.append((response + 3 * DAY, "reminder", None, {}))
        elif assignee:
            events.insert(1, assigned)
        story["age"] = response + waiting_for
        return {**story, "messages": messages, "events": events}

    messages.append((response, agent, rng.choice(AGENT_REPLIES), False))
    last = response
    if rng.random() < (0.55 if status == "in_progress" else 0.4):
        last += rng.uniform(600, DAY)
        messages.append((last, requester, rng.choice(REQUESTER_REPLIES), False))
    if status == "in_progress":
        if len(messages) < 4 and rng.random() < 0.3:
            last += rng.uniform(600, DAY)
            messages.append((last, agent, rng.choice(AGENT_REPLIES), False))
        if assignee:
            events.append(assigned)
        events.append((response, "status", agent, {"old": "new", "new": "in_progress"}))
        story["age"] = _open_age(rng, last, resolution_target)
        return {**story, "messages": messages, "events": events}

    solved = max(last + rng.uniform(600, 4 * HOUR), resolution_target * rng.uniform(0.1, 1.3))
    messages.append((solved, agent, rng.choice(AGENT_RESOLUTIONS), False))
    story["resolved"] = last = solved
    if status == "resolved":
        if assignee and rng.random() < 0.5:
            events += [assigned, (solved, "status", agent, {"old": "new", "new": "resolved"})]
        else:
            events += [
                (response, "status", agent, {"old": "new", "new": "in_progress"}),
                (solved, "status", agent, {"old": "in_progress", "new": "resolved"}),
            ]
        story["age"] = last + rng.uniform(60, 45 * DAY)
    else:
        story["closed"] = last = solved + rng.uniform(HOUR, 10 * DAY)
        events += [
            (solved, "status", agent, {"old": "new", "new": "resolved"}),
            (last, "status", agent, {"old": "resolved", "new": "closed"}),
        ]
        story["age"] = last + rng.uniform(60, max(730 * DAY - last, 60))
    return {**story, "messages": messages, "events": events}


def _ticket_rows(rng, *, pk, status, requester, company_id, category, agents, names, now):
    """One ticket with its messages and timeline entries, all times before ``now``."""
    from tickets.models import REFERENCE_PREFIX, priority_for, service_targets

    impact, urgency = rng.choice(IMPACTS), rng.choice(URGENCIES)
    priority = priority_for(impact, urgency)
    first_target, resolution_target = service_targets(priority)
    targets = (first_target.total_seconds(), resolution_target.total_seconds())
    story = _conversation(rng, status, requester, agents, targets)
    created = now - timedelta(seconds=story["age"])

    def at(key):
        offset = story.get(key)
        return None if offset is None else created + timedelta(seconds=offset)

    subject = rng.choice(SUBJECTS.get(category[1], SUBJECTS["other"]))
    if rng.random() < 0.3:
        subject = f"{subject} ({rng.choice(PLACES)})"
    offsets = [m[0] for m in story["messages"]] + [e[0] for e in story["events"]]
    for key in ("resolved", "closed", "reminder"):
        if story.get(key) is not None:
            offsets.append(story[key])
    ticket = {
        "id": pk,
        "reference": f"{REFERENCE_PREFIX}{pk:06d}",
        "requester_id": requester,
        "company_id": company_id,
        "category_id": category[0],
        "subject": subject,
        "description": f"{subject}. {rng.choice(DETAILS)} {rng.choice(ASKS)}",
        "impact": impact,
        "urgency": urgency,
        "priority": priority,
        "status": status,
        "assignee_id": story["assignee"],
        "created_at": created,
        "updated_at": created + timedelta(seconds=max(offsets)),
        "first_response_due": created + first_target,
        "resolution_due": created + resolution_target,
        "first_responded_at": at("first_responded"),
        "waiting_since": at("waiting_since"),
        "reminder_sent_at": at("reminder"),
        "resolved_at": at("resolved"),
        "closed_at": at("closed"),
    }
    messages = [
        {
            "ticket_id": pk,
            "author_id": author,
            "body": body,
            "is_internal": internal,
            "is_description": False,
            "created_at": created + timedelta(seconds=offset),
        }
        for offset, author, body, internal in story["messages"]
    ]
    events = []
    for offset, kind, actor, data in story["events"]:
        if kind == "assigned":
            data = {"old": "", "new": names[story["assignee"]]}
        events.append(
            {
                "ticket_id": pk,
                "actor_id": actor,
                "kind": kind,
                "data": data,
                "created_at": created + timedelta(seconds=offset),
            }
        )
    return ticket, messages, events


# The returned employee's first tickets are in these states; their ticket_id is the first.
FEATURED_STATUSES = ["in_progress", "new", "waiting", "resolved", "closed"]


def _write_tickets(rng, count: int, people: dict, featured: int, now: datetime) -> dict:
    from tickets.models import Category, Message, Ticket, TicketEvent

    if not Category.objects.exists():
        for position, code in enumerate(CATEGORY_WEIGHTS):
            Category.objects.create(
                code=code, name=code.replace("_", " ").capitalize(), position=10 * (position + 1)
            )
    categories = [(c.pk, c.code) for c in Category.objects.filter(is_active=True)]
    category_weights = [CATEGORY_WEIGHTS.get(code, 10) for _pk, code in categories]
    pick_status = _weighted(rng, STATUS_WEIGHTS)
    rows = {row["id"]: row for row in people["rows"]}
    names = {pk: rows[pk]["username"] for pk in people["agents"]}
    employees = people["employees"]
    # Some people open far more tickets than others.
    activity = [rng.lognormvariate(0, 0.8) for _ in employees]
    cum, total = [], 0.0
    for weight in activity:
        total += weight
        cum.append(total)

    ticket_id, message_id, event_id = (_next_id(m) for m in (Ticket, Message, TicketEvent))
    first_ticket = ticket_id
    totals = {"tickets": 0, "messages": 0, "ticket_events": 0}
    statuses: dict[str, int] = {}
    featured_count = min(FEATURED_TICKETS, count)
    for start in range(0, count, CHUNK):
        tickets, messages, events = [], [], []
        for index in range(start, min(start + CHUNK, count)):
            if index < featured_count:
                requester = featured
                status = (
                    FEATURED_STATUSES[index] if index < len(FEATURED_STATUSES) else pick_status()
                )
            else:
                requester = rng.choices(employees, cum_weights=cum)[0]
                status = pick_status()
            statuses[status] = statuses.get(status, 0) + 1
            ticket, ticket_messages, ticket_events = _ticket_rows(
                rng,
                pk=ticket_id,
                status=status,
                requester=requester,
                company_id=rows[requester]["company_id"],
                category=rng.choices(categories, weights=category_weights)[0],
                agents=people["agents"],
                names=names,
                now=now,
            )
            ticket_id += 1
            tickets.append(ticket)
            for message in ticket_messages:
                message["id"] = message_id
                message_id += 1
            for event in ticket_events:
                event["id"] = event_id
                event_id += 1
            messages += ticket_messages
            events += ticket_events
        totals["tickets"] += _insert(Ticket, tickets)
        totals["messages"] += _insert(Message, messages)
        totals["ticket_events"] += _insert(TicketEvent, events)
    return {**totals, "statuses": statuses, "featured_ticket": first_ticket}


# --- The whole set -----------------------------------------------------------------------


def generate(
    *,
    tickets: int,
    users: int = 10_000,
    companies: int = 50,
    agents: int = 20,
    events_per_user: int = 5,
    seed: int = 2026,
) -> dict:
    """Fill an empty, migrated database (Django already set up); returns a JSON-able summary."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Company, SecurityEvent, User
    from mfa.models import MfaSettings
    from tickets.models import Message, Ticket, TicketEvent

    if agents < 1:
        raise ValueError("at least one support agent is needed to answer tickets")
    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    password_hash = make_password(BENCH_PASSWORD)  # one Argon2 hash, shared by everybody
    with transaction.atomic():
        company_rows = _companies(rng, companies)
        people = _people(rng, company_rows, users, agents, now, password_hash)
        written = _write_people(rng, people, events_per_user, now)
        featured = people["employees"][0]
        made = _write_tickets(rng, tickets, people, featured, now)
        _reset_sequences(
            [Company, User, SecurityEvent, TOTPDevice, MfaSettings, Ticket, Message, TicketEvent]
        )
    _analyze()
    rows = {row["id"]: row for row in people["rows"]}
    _forget_cached_state(list(rows))
    manager, agent = people["managers"][0], people["agents"][0]
    employee_tickets = Ticket.objects.filter(requester_id=featured).count()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "seed": seed,
        "counts": {
            "companies": len(company_rows),
            "users": len(rows),
            "employees": len(people["employees"]),
            "managers": len(people["managers"]),
            "agents": len(people["agents"]),
            "tickets": made["tickets"],
            "messages": made["messages"],
            "ticket_events": made["ticket_events"],
            "security_events": written["security_events"],
            "totp_devices": len(written["totp_keys"]),
            "ticket_statuses": made["statuses"],
            "groups": Group.objects.count(),
        },
        "employee": {
            "username": rows[featured]["username"],
            "ticket_id": made["featured_ticket"],
            "tickets": employee_tickets,
        },
        "agent": {"username": rows[agent]["username"], "totp_key": written["totp_keys"][agent]},
        "manager": {
            "username": rows[manager]["username"],
            "totp_key": written["totp_keys"][manager],
        },
        "usernames": [rows[pk]["username"] for pk in people["employees"][:MAX_USERNAMES]],
    }


# --- Command line ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.data", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--events-per-user", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True, help="where to write the summary (JSON)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.core.management import call_command

    django.setup()
    from accounts.models import User

    call_command("migrate", verbosity=0, interactive=False)
    if User.objects.exists():
        print("bench.data: the database already holds users; use an empty one.", file=sys.stderr)
        return 2
    result = generate(
        tickets=args.tickets,
        users=args.users,
        companies=args.companies,
        agents=args.agents,
        events_per_user=args.events_per_user,
        seed=args.seed,
    )
    result["password"] = BENCH_PASSWORD
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items() if isinstance(v, int))
    print(f"bench.data: {counts} in {result['seconds']:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
