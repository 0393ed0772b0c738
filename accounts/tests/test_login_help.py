from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_help_page_covers_every_way_back_in(client):
    response = client.get("/account/login/help/")
    assert response.status_code == 200
    text = response.content.decode()
    for heading in [
        "You forgot your password",
        "You forgot your user name",
        "Your account is blocked",
        "You have no login yet",
        "Security Manager",
    ]:
        assert heading in text
    for path in ["/account/password/forgot/", "/account/username/forgot/", "/account/unblock/"]:
        assert f'href="{path}"' in text
    assert "After 5 failed sign-in attempts in a row" in text


def test_the_help_page_is_linked_from_the_sign_in_page(client):
    assert b'href="/account/login/help/"' in client.get("/account/login/").content


def test_the_help_page_is_available_in_german(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/account/login/help/")
    assert response.status_code == 200
    assert b'lang="de"' in response.content


def _hrefs(html: str) -> set[str]:
    import re

    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return {href.split("?")[0] for href in re.findall(r'href="([^"#]*)', main)}


@pytest.mark.parametrize(
    ("action", "target"),
    [("initial_password", "/account/password/initial/"), ("enrolment", None)],
)
def test_while_an_action_is_required_the_help_page_links_only_to_it(
    client, employee_a, action, target
):
    """Every other page would bounce back to the action: its name stays, as text."""
    from django.urls import reverse

    if action == "initial_password":
        employee_a.must_change_password = True
        employee_a.save()
    else:
        employee_a.company.mfa_required = True
        employee_a.company.save()
        target = reverse("mfa:setup")
    client.force_login(employee_a)
    response = client.get("/account/login/help/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _hrefs(html) == {target}
    for name in ("Security", "Report an incident", "Reset your password", "Get your user name"):
        assert name in html


def test_without_a_required_action_the_help_page_links_to_the_pages_it_names(client, employee_a):
    client.force_login(employee_a)
    hrefs = _hrefs(client.get("/account/login/help/").content.decode())
    assert "/account/security/" in hrefs and "/tickets/new/" in hrefs
    assert "/account/password/forgot/" in hrefs
