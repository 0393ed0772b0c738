from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import SecurityEvent

STAFF_ORIGIN = ("203.0.113.99", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")


def add_events(user, count: int) -> None:
    now = timezone.now()
    SecurityEvent.objects.bulk_create(
        SecurityEvent(
            user=user,
            kind=SecurityEvent.Kind.SIGN_IN_FAILED,
            created_at=now - timedelta(days=1, minutes=index),
            ip_address="192.0.2.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        for index in range(count)
    )


def test_anonymous_users_go_to_sign_in(client, db):
    assert client.get("/account/security/").url.startswith("/account/login/")


def test_it_shows_the_users_events_newest_first_with_browser(
    client, sign_in, employee_a, employee_b
):
    add_events(employee_a, 3)
    add_events(employee_b, 1)
    SecurityEvent.objects.create(user=employee_b, kind=SecurityEvent.Kind.BLOCKED)
    sign_in(employee_a)
    response = client.get("/account/security/")
    assert "no-store" in response["Cache-Control"]
    events = list(response.context["events"])
    assert events[0].kind == SecurityEvent.Kind.SIGNED_IN  # the sign-in just now
    assert all(event.user_id == employee_a.pk for event in events)
    assert "Firefox 128 on Linux" in response.text
    assert "Account blocked" not in response.text


def test_it_paginates(client, sign_in, employee_a):
    add_events(employee_a, 45)
    sign_in(employee_a)
    first = client.get("/account/security/")
    assert len(first.context["events"]) == 20
    assert "Page 1 of 3" in first.text
    last = client.get("/account/security/?page=3")
    assert len(last.context["events"]) == 6  # 45 + the sign-in event
    assert client.get("/account/security/?page=abc").status_code == 200


def test_query_count_does_not_grow_with_events(
    client, sign_in, employee_a, django_assert_max_num_queries
):
    sign_in(employee_a)
    with django_assert_max_num_queries(10):
        client.get("/account/security/")
    add_events(employee_a, 60)
    with django_assert_max_num_queries(10):
        response = client.get("/account/security/")
    assert response.status_code == 200


def test_account_pages_send_no_store(client, sign_in, employee_a):
    sign_in(employee_a)
    for url in ["/dashboard/", "/account/profile/", "/account/security/"]:
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_the_profile_leads_to_the_password_change_and_the_security_page(
    client, sign_in, employee_a
):
    """The help pages send users to their profile to change the password."""
    sign_in(employee_a)
    page = client.get("/account/profile/").content.decode()
    assert 'href="/account/security/password/"' in page
    assert 'href="/account/security/"' in page.split("<main", 1)[1]


def test_a_deleted_staff_members_action_is_still_the_providers_not_the_users(
    client, sign_in, employee_a, agent
):
    from accounts.services import record_event

    record_event(SecurityEvent.Kind.ROLE_CHANGED, employee_a, actor=agent, origin=STAFF_ORIGIN)
    agent.delete()
    sign_in(employee_a)
    html = client.get("/account/security/").content.decode()
    assert "by the provider" in html
    assert STAFF_ORIGIN[0] not in html
