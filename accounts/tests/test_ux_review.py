"""Findings of a walk through the portal in a browser: forms, times, language, warnings and the
Security Manager's actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import date as date_filter
from django.test import Client
from django.utils import timezone

from accounts import company_services as cs
from accounts.models import SecurityEvent, User

from .helpers import manager_request, title_and_heading

pytestmark = pytest.mark.django_db


def test_a_checkbox_group_is_a_fieldset_with_its_legend_above(manager_client):
    html = manager_client.get("/manage/policies/").content.decode()
    group = re.search(r"<fieldset([^>]*)>\s*<legend>([^<]+)</legend>", html)
    assert group and group[2] == "Allowed authenticator types"
    # The group's help text is read with it (the inputs are not described one by one).
    assert 'aria-describedby="id_allowed_authenticator_types_helptext"' in group[1]
    assert 'class="field field-checkbox"><div id="id_allowed_authenticator_types"' not in html


def test_pages_show_times_in_the_users_time_zone_and_name_it(client, sign_in, employee_a):
    employee_a.time_zone = "Asia/Kolkata"  # UTC+05:30 all year
    employee_a.save(update_fields=["time_zone"])
    sign_in(employee_a)
    event = SecurityEvent.objects.filter(user=employee_a).latest("created_at")
    with timezone.override("Asia/Kolkata"):
        local = date_filter(timezone.localtime(event.created_at), "SHORT_DATETIME_FORMAT")
    with timezone.override("UTC"):
        utc = date_filter(timezone.localtime(event.created_at), "SHORT_DATETIME_FORMAT")
    html = client.get("/account/security/").content.decode()
    assert "(IST)" in html
    assert local in html and utc not in html


def test_a_language_chosen_before_signing_in_is_kept_and_becomes_the_preference(
    client, sign_in, employee_a
):
    assert employee_a.preferred_language == "en"
    client.post("/language/", {"language": "es", "next": "/account/login/"})
    sign_in(employee_a)
    employee_a.refresh_from_db()
    assert employee_a.preferred_language == "es"
    assert (
        "Panel" in client.get("/dashboard/").content.decode()
        or client.cookies["django_language"].value == "es"
    )


def test_a_preferred_language_saved_in_the_profile_is_the_portals_language_at_once(
    client, sign_in, employee_a
):
    sign_in(employee_a)
    client.post("/language/", {"language": "en", "next": "/account/profile/"})
    data = {
        "first_name": employee_a.first_name,
        "last_name": employee_a.last_name,
        "email": employee_a.email,
        "phone": "",
        "preferred_language": "es",
        "time_zone": "Europe/Madrid",
    }
    response = client.post("/account/profile/", data, follow=True)
    assert client.cookies["django_language"].value == "es"
    assert '<html lang="es"' in response.content.decode()


def test_another_users_language_cookie_does_not_change_ones_preference(
    client, sign_in, employee_a, employee_a2
):
    employee_a2.preferred_language = "de"
    employee_a2.save(update_fields=["preferred_language"])
    sign_in(employee_a2)
    client.post("/account/logout/")
    sign_in(employee_a)  # the browser still has the German cookie of the first user
    employee_a.refresh_from_db()
    assert employee_a.preferred_language == "en"


def test_the_dashboard_says_whether_a_second_factor_protects_the_account(client, outsider):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mfa.services import forget_authenticator_state

    client.force_login(outsider)
    html = client.get("/dashboard/").content.decode()
    assert "Two-factor authentication" in html and "not set up" in html
    assert 'href="/account/security/two-factor/setup/"' in html
    TOTPDevice.objects.create(user=outsider, name="phone", confirmed=True)
    forget_authenticator_state(outsider)  # what adding one through the portal does
    html = client.get("/dashboard/").content.decode()
    assert "not set up" not in html and ">set up<" in html


def test_the_dashboard_warns_before_the_password_expires(client, sign_in, employee_a, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    sign_in(employee_a)
    assert "Your password expires in" not in client.get("/dashboard/").content.decode()
    User.objects.filter(pk=employee_a.pk).update(
        password_changed_at=timezone.now() - timedelta(days=85)
    )
    html = client.get("/dashboard/").content.decode()
    assert "Your password expires in 4\xa0days, 23\xa0hours" in html or re.search(
        r"Your password expires in 4.days", html
    )
    assert 'href="/account/security/password/"' in html


def test_password_rules_are_shown_under_the_new_password_with_a_mismatch(
    client, sign_in, employee_a
):
    sign_in(employee_a)
    response = client.post(
        "/account/security/password/",
        {"old_password": "x", "new_password1": "short", "new_password2": "other"},
    )
    form = response.context["form"]
    assert "new_password1" in form.errors or "old_password" in form.errors
    assert all("too short" not in e for e in form.errors.get("new_password2", []))


def test_registration_reports_the_rules_together_with_a_mismatch(client, db, settings):
    settings.REGISTRATION_OPEN = True
    response = client.post(
        "/account/register/",
        {
            "first_name": "Ana",
            "last_name": "Alba",
            "email": "ana@example.org",
            "password1": "abc",
            "password2": "abd",
            "accept_terms": "on",
        },
    )
    errors = response.context["form"].errors
    assert "password2" in errors
    assert any("too short" in e for e in errors["password1"])


def test_saving_a_new_email_shows_the_pending_change_once(client, sign_in, employee_a):
    sign_in(employee_a)
    data = {
        "first_name": employee_a.first_name,
        "last_name": employee_a.last_name,
        "email": "new.address@example.org",
        "preferred_language": "en",
        "time_zone": employee_a.time_zone,
    }
    page = client.post("/account/profile/", data, follow=True).content.decode()
    assert page.count("new.address@example.org") >= 1
    assert page.count("We sent a confirmation link to") == 1


def test_employee_page_offers_only_what_changes_the_account(manager_client, employee_a, manager_a):
    def offered():
        html = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
        return re.findall(r'name="action" value="([a-z_]+)"', html)

    assert offered() == ["block", "send_password_reset", "initial_password", "deactivate"]
    cs.block_employees([employee_a], actor=manager_a)
    assert offered() == ["unblock", "deactivate"]
    html = manager_client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert "data-confirm=" in html


def test_the_bulk_bar_preselects_no_action(manager_client, employee_a):
    html = manager_client.get("/manage/").content.decode()
    select = re.search(r'<select id="bulk-action" name="action" required>(.*?)</select>', html)
    assert select and select[1].startswith('<option value="">')
    response = manager_client.post("/manage/employees/actions/", {"ids": str(employee_a.pk)})
    employee_a.refresh_from_db()
    assert not employee_a.is_blocked
    assert response.status_code in (302, 400)


def test_files_must_be_chosen_again_after_a_form_error(client, sign_in, employee_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sign_in(employee_a)
    upload = SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain")
    response = client.post("/tickets/new/", {"subject": "", "attachments": upload})
    assert response.status_code == 400
    assert "choose your attachments again" in response.content.decode()
    assert "choose your attachments again" not in client.get("/tickets/new/").content.decode()


def test_every_manage_page_has_its_heading_as_its_title(manager_client, employee_a):
    anonymous = Client()
    employee_a.first_name, employee_a.last_name = "Anna", "Berg"
    employee_a.save(update_fields=["first_name", "last_name"])
    csv = b"first_name,last_name\nKarl,Maier\n"
    pages = {
        "employees": manager_client.get("/manage/"),
        "employee": manager_client.get(f"/manage/employees/{employee_a.pk}/"),
        "new employee": manager_client.get("/manage/employees/new/"),
        "created with an initial password": manager_client.post(
            "/manage/employees/new/", {"first_name": "Jana", "last_name": "Doe", "language": "en"}
        ),
        "new initial passwords": manager_client.post(
            "/manage/employees/actions/", {"action": "initial_password", "ids": [employee_a.pk]}
        ),
        "import": manager_client.get("/manage/employees/import/"),
        "import preview": manager_client.post(
            "/manage/employees/import/", {"file": SimpleUploadedFile("a.csv", csv, "text/csv")}
        ),
        "import done": manager_client.post("/manage/employees/import/confirm/"),
        "policies": manager_client.get("/manage/policies/"),
        "security log": manager_client.get("/manage/log/"),
        "request status": anonymous.get(
            "/access/security-manager/status/" + cs.request_status_token(manager_request()) + "/"
        ),
        "invalid activation link": anonymous.get("/access/activate/nonsense/"),
    }
    for name, response in pages.items():
        title, heading = title_and_heading(response)
        assert title == heading, name
    assert title_and_heading(pages["employee"])[0] == "Anna Berg"
    assert title_and_heading(pages["new initial passwords"])[0] == "New initial passwords"


PHONE_EXAMPLE = "for example +49 30 1234567"


def test_every_phone_field_gives_one_example_in_its_help_and_its_error(
    client, manager_client, employee_a2, sign_in
):
    """The registration, the request for a Security Manager, a new employee and the profile."""
    profile = Client()
    sign_in(employee_a2, c=profile)
    bad = "12"
    responses = [
        Client().post("/account/register/", {"phone": bad}),
        Client().post("/access/security-manager/", {"nominee_phone": bad}),
        manager_client.post("/manage/employees/new/", {"phone": bad}),
        profile.post(
            "/account/profile/",
            {"first_name": "E", "last_name": "B", "phone": bad, "preferred_language": "en"},
        ),
    ]
    for response in responses:
        form = response.context["form"]
        field = "nominee_phone" if "nominee_phone" in form.fields else "phone"
        assert PHONE_EXAMPLE in str(form.fields[field].help_text)
        assert [PHONE_EXAMPLE in error for error in form.errors[field]] == [True]
        assert "2125552368" not in response.content.decode()


def test_every_user_name_example_is_the_same(manager_client):
    pages = [
        Client().get("/account/login/"),
        Client().get("/account/login/help/"),
        Client().get("/account/unblock/"),
        manager_client.get("/manage/employees/new/"),
    ]
    for response in pages:
        html = response.content.decode()
        examples = set(re.findall(r"for example (c\d{5}\.[a-z]+)", html, re.IGNORECASE))
        assert examples == {"c12345.ab"}, response.request["PATH_INFO"]


def test_switching_language_on_a_page_shown_once_asks_and_goes_to_the_start(
    manager_client, employee_a
):
    """The passwords cannot be shown again; a GET of that address would be a 405."""
    html = manager_client.post(
        "/manage/employees/actions/", {"action": "initial_password", "ids": [employee_a.pk]}
    ).text
    switcher = html.split('class="language-switcher"')[1].split("</form>")[0]
    assert 'name="next" value="/" data-confirm-leave="Switching the language' in switcher
    assert 'value="/manage/employees/actions/"' not in switcher


def test_one_initial_password_is_announced_in_the_singular(manager_client, employee_a):
    html = manager_client.post(
        "/manage/employees/actions/", {"action": "initial_password", "ids": [employee_a.pk]}
    ).text
    assert "This password is shown only now." in html and "These passwords" not in html


def test_ones_own_log_credits_others_actions_to_them_not_to_ones_browser(
    client, sign_in, employee_a, manager_a, agent
):
    """An action of the Security Manager or the provider showed their browser and address in
    the user's own log as if they were the user's (and invited a false "this wasn't me")."""
    from accounts.services import record_event

    record_event(
        SecurityEvent.Kind.BLOCKED,
        employee_a,
        actor=manager_a,
        origin=("198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
    )
    record_event(
        SecurityEvent.Kind.ROLE_CHANGED,
        employee_a,
        actor=agent,
        origin=("203.0.113.99", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
    )
    sign_in(employee_a)
    for path in ("/account/security/", "/dashboard/"):
        html = client.get(path).content.decode()
        assert "by your company&#x27;s Security Manager" in html
        assert "by the provider" in html
        assert "198.51.100.23" not in html and "203.0.113.99" not in html
