"""The company security log at /manage/log/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db
URL = "/manage/log/"
Kind = SecurityEvent.Kind


def events(response):
    return list(response.context["page"].object_list)


def test_it_shows_only_the_companys_events(manager_client, employee_a, employee_b, manager_a):
    mine = services.record_event(Kind.BLOCKED, employee_a, actor=manager_a)
    services.record_event(Kind.BLOCKED, employee_b)
    response = manager_client.get(URL)
    assert events(response) == [mine]
    assert employee_b.username not in response.content.decode()
    assert manager_a.username in response.content.decode()  # who did it


def test_filters_by_kind_user_and_dates(manager_client, employee_a, employee_a2):
    blocked = services.record_event(Kind.BLOCKED, employee_a)
    signed_in = services.record_event(Kind.SIGNED_IN, employee_a2)
    old = services.record_event(Kind.SIGNED_IN, employee_a2)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert events(manager_client.get(URL, {"kind": "blocked"})) == [blocked]
    assert events(manager_client.get(URL, {"q": employee_a2.username})) == [signed_in, old]
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert old not in events(manager_client.get(URL, {"date_from": since}))
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert events(manager_client.get(URL, {"date_to": until})) == [old]


def test_the_search_is_named_as_the_column_it_searches(manager_client, employee_a):
    services.record_event(SecurityEvent.Kind.SIGNED_IN, employee_a)
    html = manager_client.get(URL).content.decode()
    assert '<label for="id_q">Account</label>' in html
    assert '<th scope="col">Account</th>' in html


def test_bad_filters_are_a_400_not_a_500(manager_client):
    assert manager_client.get(URL, {"date_from": "yesterday", "kind": "nope"}).status_code == 400


def test_query_count_is_constant(manager_client, employee_a, django_assert_max_num_queries):
    services.record_event(Kind.BLOCKED, employee_a)
    manager_client.get(URL)
    with django_assert_max_num_queries(8) as small:
        manager_client.get(URL)
    for _ in range(30):
        services.record_event(Kind.SIGNED_IN, employee_a, actor=employee_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        manager_client.get(URL)
