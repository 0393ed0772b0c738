from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal import errors


@pytest.mark.django_db
def test_landing_page_offers_sign_in_and_help(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b'href="/account/login/"' in response.content
    assert b'href="/account/login/help/"' in response.content


@pytest.mark.django_db
def test_signed_in_visitor_is_sent_from_landing_to_dashboard(client, employee_a):
    client.force_login(employee_a)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_dashboard_requires_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=/dashboard/")


@pytest.mark.django_db
def test_dashboard_shows_profile_and_security_state(client, employee_a):
    client.force_login(employee_a)
    response = client.get("/dashboard/")
    content = response.content.decode()
    assert employee_a.username in content
    assert employee_a.email in content
    assert "Alpha AG" in content


@pytest.mark.django_db
def test_dashboard_warns_when_the_personal_email_is_missing(client, employee_a):
    employee_a.email = ""
    employee_a.save()
    client.force_login(employee_a)
    assert "personal email address is mandatory" in client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_events(
    client, employee_a, django_assert_max_num_queries
):
    from accounts.services import record_event

    client.force_login(employee_a)
    record_event("signed_in", employee_a)
    client.get("/dashboard/")  # warm up: session adoption and per-user caches
    with django_assert_max_num_queries(12) as few:
        client.get("/dashboard/")
    for _ in range(30):
        record_event("signed_in", employee_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/dashboard/")


@pytest.mark.django_db
def test_user_menu_holds_profile_security_and_a_post_logout(client, employee_a):
    client.force_login(employee_a)
    content = client.get("/dashboard/").content.decode()
    assert 'href="/account/profile/"' in content
    assert 'href="/account/security/"' in content
    assert 'action="/account/logout/" method="post"' in content


@pytest.mark.django_db
def test_unknown_page_is_a_404_in_the_portal_look(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_error_handlers_render_without_details():
    request = RequestFactory().get("/")
    for handler, status in (
        (errors.bad_request, 400),
        (errors.permission_denied, 403),
        (errors.page_not_found, 404),
    ):
        response = handler(request, Exception("secret detail"))
        assert response.status_code == status
        assert b"secret detail" not in response.content
    response = errors.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


@pytest.mark.django_db
def test_a_tampered_wizard_post_is_a_400_not_a_500(client):
    response = client.post("/account/login/", {"identify-username": "someone"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_missing_csrf_token_gets_the_portal_403(employee_a):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/account/logout/")
    assert response.status_code == 403
    assert b"Form expired" in response.content


@pytest.mark.django_db
def test_pages_send_a_content_security_policy_without_inline_scripts(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_forms_tie_help_and_errors_to_their_inputs(client, employee_a):
    client.force_login(employee_a)
    response = client.post("/account/profile/", {"first_name": "", "last_name": "X"})
    assert response.status_code == 400
    content = response.content.decode()
    assert 'aria-describedby="id_first_name_error"' in content
    assert 'id="id_first_name_error"' in content
    assert 'aria-invalid="true"' in content
    assert 'autocomplete="given-name"' in content


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/login/login-help", "/account/login/help/"),
        ("/login/login-help/", "/account/login/help/"),
        ("/login/", "/account/login/"),
        ("/login?next=/tickets/", "/account/login/?next=/tickets/"),
    ],
)
@pytest.mark.django_db
def test_the_previous_portals_printed_addresses_lead_to_their_pages(client, old, new):
    response = client.get(old)

    assert response.status_code == 301
    assert response["Location"] == new
    assert client.get(new).status_code == 200


@pytest.mark.django_db
def test_a_get_to_a_post_only_address_explains_itself(client, sign_in, employee_a):
    sign_in(employee_a)
    response = client.get("/account/logout/")
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert "This page cannot be opened again" in response.text
    assert client.get("/dashboard/").status_code == 200  # nothing happened
