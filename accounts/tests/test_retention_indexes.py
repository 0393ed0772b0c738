"""The retention job's queries for sign-in records are served by indexes, not by reading the
whole table (accounts/migrations/0016 has the measurements at 2M rows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import UserSession
from accounts.retention import past_sign_in_records

pytestmark = pytest.mark.django_db


def _plan(queryset) -> str:
    """The plan of ``queryset``; on PostgreSQL as for a big table, where a sequential scan
    would not be chosen (a test's few rows are read faster without any index)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def test_a_retention_batch_finds_old_records_and_newer_known_browsers_by_index(employee_a):
    now = timezone.now()
    for days, browser in ((500, "a" * 64), (450, ""), (10, "b" * 64)):
        UserSession.objects.create(
            user=employee_a,
            session_key_hash=str(days),
            browser_key_hash=browser,
            created_at=now - timedelta(days=days),
            last_activity_at=now,
        )
    records = past_sign_in_records(now - timedelta(days=400))
    batch = records.filter(pk__gt=0).order_by("pk").values_list("pk", flat=True)[:1000]
    plan = _plan(batch)
    assert "usersession_known_browser_idx" in plan
    if connection.vendor == "postgresql":
        # SQLite keeps no statistics until ANALYZE: it walks the primary key whatever the size.
        assert "usersession_created_idx" in plan
    assert sorted(batch) == sorted(
        UserSession.objects.filter(session_key_hash__in=["500", "450"]).values_list("pk", flat=True)
    )
