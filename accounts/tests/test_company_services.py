"""Service functions behind the security manager pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts import company_services as cs
from accounts import services
from accounts.models import Company, SecurityEvent, User, UserSession
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


def test_user_name_is_c_number_dot_initials_ascii_folded(company_a):
    created = cs.create_employee(company_a, first_name="Émile", last_name="Ölberg")
    assert created.user.username == "c10001.eo"


def test_user_name_gets_a_disambiguating_character_on_collision(company_a):
    first = cs.create_employee(company_a, first_name="Jana", last_name="Doe").user
    second = cs.create_employee(company_a, first_name="John", last_name="Dart").user
    third = cs.create_employee(company_a, first_name="Jo", last_name="Dee").user
    assert [first.username, second.username, third.username] == [
        "c10001.jd",
        "c10001.jda",
        "c10001.jdb",
    ]


def test_user_name_without_letters_uses_x(company_a):
    assert cs.create_employee(company_a, first_name="李", last_name="王").user.username == (
        "c10001.xx"
    )


def test_it_gives_up_when_every_user_name_is_taken(company_a):
    for candidate in cs.username_candidates(company_a, "J", "D"):
        User.objects.create(username=candidate, company=company_a)
    with pytest.raises(cs.UserNamesExhausted):
        cs.create_employee(company_a, first_name="Jana", last_name="Doe")


def test_employee_with_email_gets_an_activation_email_and_no_password(
    company_a, manager_a, mailoutbox
):
    created = cs.create_employee(
        company_a, first_name="Jana", last_name="Doe", email="jana@example.com", actor=manager_a
    )
    user = created.user
    assert created.initial_password is None
    assert not user.has_usable_password()
    assert mailoutbox[-1].to == ["jana@example.com"]
    assert "/access/activate/" in mailoutbox[-1].body
    event = SecurityEvent.objects.get(kind=Kind.ACCOUNT_CREATED, user=user)
    assert event.actor == manager_a and event.company == company_a


def test_employee_without_email_gets_a_must_change_initial_password_for_7_days(company_a):
    created = cs.create_employee(company_a, first_name="Jana", last_name="Doe")
    user = created.user
    assert user.check_password(created.initial_password)
    assert user.must_change_password
    assert user.initial_password_expires_at - timezone.now() > timedelta(days=6, hours=23)


def test_initial_password_expires_after_7_days_unused(company_a):
    user = cs.create_employee(company_a, first_name="Jana", last_name="Doe").user
    assert not services.initial_password_expired(user)
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        assert services.initial_password_expired(user)


def test_activation_token_works_once(company_a):
    user = cs.create_employee(company_a, first_name="J", last_name="D", email="j@example.com").user
    token = cs.make_activation_token(user)
    assert cs.user_for_activation_token(token) == user
    cs.activate_account(None, user, "a-new-password-2026")
    assert cs.user_for_activation_token(token) is None


def test_activation_token_expires_after_24_hours(company_a):
    user = cs.create_employee(company_a, first_name="J", last_name="D", email="j@example.com").user
    token = cs.make_activation_token(user)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=5)):
        assert cs.user_for_activation_token(token) is None


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c"])
def test_activation_token_garbage_is_refused(token):
    assert cs.user_for_activation_token(token) is None


def test_deactivation_ends_sessions_and_keeps_history(employee_a, manager_a):
    other = Client()
    other.force_login(employee_a)
    assert other.get("/dashboard/").status_code == 200  # the session is now tracked
    services.record_event(Kind.SIGNED_IN, employee_a)
    assert cs.deactivate_employees([employee_a], actor=manager_a) == 1
    employee_a.refresh_from_db()
    assert not employee_a.is_active
    assert not UserSession.objects.filter(user=employee_a, ended_at__isnull=True).exists()
    assert employee_a.security_events.filter(kind=Kind.SIGNED_IN).exists()
    assert other.get("/dashboard/").status_code == 302


def test_deactivated_employee_cannot_sign_in(employee_a, manager_a, sign_in, client):
    cs.deactivate_employees([employee_a], actor=manager_a)
    response = sign_in(employee_a)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_manager_never_deactivates_themself(manager_a):
    assert cs.deactivate_employees([manager_a], actor=manager_a) == 0


def test_reset_mfa_removes_every_device_and_notifies(employee_a, manager_a, mailoutbox):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=employee_a, name="default", confirmed=True)
    TOTPDevice.objects.create(user=employee_a, name="pending", confirmed=False)
    StaticDevice.objects.create(user=employee_a, name="backup")
    assert cs.reset_mfa([employee_a], actor=manager_a) == 1
    assert not TOTPDevice.objects.filter(user=employee_a).exists()
    assert not StaticDevice.objects.filter(user=employee_a).exists()
    assert mailoutbox[-1].to == [employee_a.email]
    assert SecurityEvent.objects.filter(kind=Kind.AUTHENTICATOR_REMOVED, actor=manager_a).exists()


def test_password_reset_email_is_sent_and_logged_with_the_manager(
    employee_a, manager_a, mailoutbox
):
    assert cs.send_password_resets([employee_a], actor=manager_a) == 1
    assert mailoutbox[-1].to == [employee_a.email]
    event = SecurityEvent.objects.get(kind=Kind.PASSWORD_RESET_REQUESTED)
    assert event.actor == manager_a


def test_password_reset_link_opens_the_update_password_page(
    client, employee_a, manager_a, mailoutbox
):
    from accounts.tests.helpers import link_in

    cs.send_password_resets([employee_a], actor=manager_a)
    response = client.get(link_in(mailoutbox[-1], "/account/password/reset/"))
    assert response.status_code == 200
    assert "accounts/password_reset_confirm.html" in [t.name for t in response.templates]


def test_password_reset_skips_accounts_without_email(company_a, manager_a, mailoutbox):
    user = make_user("c10001.ne", company=company_a, email="")
    assert cs.send_password_resets([user], actor=manager_a) == 0
    assert mailoutbox == []


def test_block_and_unblock_are_logged_with_the_manager(employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    assert employee_a.is_blocked
    cs.unblock_employees([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    assert not employee_a.is_blocked
    kinds = list(SecurityEvent.objects.filter(actor=manager_a).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([Kind.BLOCKED, Kind.UNBLOCKED])


def test_new_initial_password_replaces_the_old_one(employee_a, manager_a):
    [issued] = cs.issue_initial_passwords([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    assert not employee_a.check_password(PASSWORD)
    assert employee_a.check_password(issued.initial_password)
    assert employee_a.must_change_password


def test_scoping_lists_only_the_managers_company_and_no_staff(
    manager_a, employee_a, employee_b, agent, company_a
):
    make_user("c10001.st", company=company_a, is_staff=True)
    visible = set(cs.employees_visible_to(manager_a).values_list("username", flat=True))
    assert visible == {manager_a.username, employee_a.username}


def test_scoping_gives_nothing_to_non_managers(employee_a, agent):
    assert not cs.employees_visible_to(employee_a).exists()
    assert not cs.employees_visible_to(agent).exists()


def test_csv_import_reads_semicolons_and_a_bom(company_a):
    data = "\ufefffirst_name;last_name;email;phone;language\nJana;Doe;j@example.com;;de\n"
    rows = cs.read_employee_csv(data.encode())
    assert rows == [
        {
            "first_name": "Jana",
            "last_name": "Doe",
            "email": "j@example.com",
            "phone": "",
            "language": "de",
        }
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00bad",
        b"name,email\nJana,j@example.com\n",
        b"first_name,last_name\n",
    ],
)
def test_csv_import_refuses_unreadable_files(data):
    with pytest.raises(ValueError):
        cs.read_employee_csv(data)


def test_csv_rows_with_null_characters_are_row_errors(company_a):
    rows = cs.read_employee_csv(b"first_name,last_name\nJa\x00na,Doe\n")
    [row] = cs.validate_import_rows(company_a, rows)
    assert not row.valid


def test_import_creates_nothing_when_a_row_has_errors(company_a, manager_a):
    rows = [
        {"first_name": "Jana", "last_name": "Doe", "email": "", "phone": "", "language": ""},
        {"first_name": "", "last_name": "Doe", "email": "bad", "phone": "", "language": "xx"},
    ]
    assert cs.import_employees(company_a, rows, actor=manager_a) is None
    assert not User.objects.filter(last_name="Doe").exists()
    result = cs.import_employees(company_a, rows, actor=manager_a, only_valid=True)
    assert [item.user.first_name for item in result.created] == ["Jana"]


def _row(first_name: str, last_name: str, email: str = "") -> dict:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": "",
        "language": "",
    }


def test_a_row_without_email_named_like_an_active_employee_needs_confirmation(company_a, company_b):
    karl = make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    make_user("c10001.kma", company=company_a, first_name="Karl", last_name="MAIER")
    make_user("c10001.kmb", company=company_a, first_name="Karl", last_name="Maier")
    User.objects.filter(username="c10001.kmb").update(is_active=False)  # deactivated: no match
    make_user("c20002.km", company=company_b, first_name="Karl", last_name="Maier")
    rows = [_row(" karl ", "maier"), _row("Karla", "Maier"), _row("Jana", "Doe")]
    flagged, other_first_name, new = cs.validate_import_rows(company_a, rows)
    assert flagged.valid and flagged.needs_confirmation
    assert flagged.namesakes == [karl.username, "c10001.kma"]
    assert flagged.warnings == ["An employee with this name already exists: c10001.km, c10001.kma"]
    for row in (other_first_name, new):
        assert row.valid and not row.needs_confirmation and row.warnings == []


def test_namesakes_fold_the_case_of_every_letter(company_a):
    """On SQLite too, where LOWER() used to fold A to Z only."""
    make_user("c10001.jm", company=company_a, first_name="JÜRGEN", last_name="MÜLLER")
    [row] = cs.validate_import_rows(company_a, [_row("Jürgen", "Müller")])
    assert row.namesakes == ["c10001.jm"]


def test_provider_staff_with_the_company_are_no_namesakes(company_a):
    """Only the company's employees count, as everywhere a manager looks
    (``employees_visible_to``)."""
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier", is_staff=True)
    make_user(
        "c10001.kma", company=company_a, first_name="Karl", last_name="Maier", is_superuser=True
    )
    [row] = cs.validate_import_rows(company_a, [_row("Karl", "Maier")])
    assert row.namesakes == [] and not row.needs_confirmation


def test_a_row_with_email_is_the_same_person_only_with_the_same_address(company_a):
    make_user(
        "c10001.km",
        company=company_a,
        first_name="Karl",
        last_name="Maier",
        email="karl@example.com",
    )
    other_address, same_address = cs.validate_import_rows(
        company_a,
        [
            _row("Karl", "Maier", "karl.maier@example.org"),
            _row("Karl", "Maier", "KARL@example.com"),
        ],
    )
    assert other_address.valid and not other_address.needs_confirmation
    # The address is taken, so the row cannot be created at all: the error names the account.
    assert same_address.errors == [
        "An employee with this name and email address already exists: c10001.km"
    ]


def test_a_name_again_in_the_file_needs_confirmation_by_the_same_rule(company_a):
    rows = [
        _row("Karl", "Maier"),  # 2
        _row(" karl ", "MAIER"),  # 3: line 2 again
        _row("Karl", "Maier", "karl@example.com"),  # 4: with an address, another person
        _row("Karl", "Maier"),  # 5: lines 2, 3 and 4 again: the first is named
        _row("Karla", "Maier"),  # 6: another first name
        _row("Jana", "Doe", "not-an-address"),  # 7: an error, never created
        _row("Jana", "Doe"),  # 8: so no earlier Jana Doe
        _row("Anna", "Berg", "anna@example.com"),  # 9
        _row("Anna", "Berg", "ANNA@example.com"),  # 10: the address twice: an error, as before
    ]
    checked = cs.validate_import_rows(company_a, rows)
    assert {row.line: row.same_as_line for row in checked if row.same_as_line} == {3: 2, 5: 2}
    assert [row.line for row in checked if row.needs_confirmation] == [3, 5]
    assert [row.line for row in checked if not row.valid] == [7, 10]
    assert checked[1].warnings == ["This name appears more than once in the file: see line 2."]


def test_a_row_may_look_like_an_employee_and_an_earlier_row_at_once(company_a):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    first, second = cs.validate_import_rows(company_a, [_row("Karl", "Maier")] * 2)
    assert first.warnings == ["An employee with this name already exists: c10001.km"]
    assert second.warnings == [
        "An employee with this name already exists: c10001.km",
        "This name appears more than once in the file: see line 2.",
    ]


def test_import_creates_a_name_again_in_the_file_only_when_confirmed(company_a, manager_a):
    rows = [_row("Karl", "Maier"), _row("Karl", "Maier"), _row("Jana", "Doe")]
    result = cs.import_employees(company_a, rows, actor=manager_a)
    assert [item.user.username for item in result.created] == ["c10001.km", "c10001.jd"]
    assert [row.line for row in result.skipped] == [3]
    result = cs.import_employees(company_a, rows[1:2], actor=manager_a)
    assert result.created == []  # the first is an employee now: a namesake
    result = cs.import_employees(
        company_a, [_row("Anna", "Berg")] * 2, actor=manager_a, confirmed_lines={3}
    )
    assert [item.user.username for item in result.created] == ["c10001.ab", "c10001.aba"]


def test_an_address_taken_by_someone_else_is_still_the_plain_error(company_a):
    make_user("c10001.ab", company=company_a, email="shared@example.com")
    [row] = cs.validate_import_rows(company_a, [_row("Karl", "Maier", "Shared@example.com")])
    assert row.errors == [
        "Personal email: c10001.ab, an account of your company, already uses this email address."
    ]


@pytest.mark.parametrize("count", [3, 30])
def test_validating_an_import_takes_two_queries_whatever_the_number_of_rows(
    company_a, count, django_assert_num_queries
):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    make_user("c10001.jd", company=company_a, first_name="Jana", last_name="Doe")
    rows = [
        _row("Karl", "Maier")
        if number % 3 == 0
        else _row("Jana", "Doe", f"jana{number}@example.com")
        if number % 3 == 1
        else _row(f"Person{number}", f"Name{number}", f"p{number}@example.com")
        for number in range(count)
    ]
    with django_assert_num_queries(2):  # the addresses in use, the namesakes
        checked = cs.validate_import_rows(company_a, rows)
    assert sum(row.needs_confirmation for row in checked) == len(range(0, count, 3))


def test_import_creates_a_likely_duplicate_only_when_confirmed(company_a, manager_a):
    make_user("c10001.km", company=company_a, first_name="Karl", last_name="Maier")
    rows = [_row("Karl", "Maier"), _row("Jana", "Doe")]
    result = cs.import_employees(company_a, rows, actor=manager_a)
    assert [item.user.last_name for item in result.created] == ["Doe"]
    assert [row.line for row in result.skipped] == [2]
    assert company_a.users.filter(last_name="Maier").count() == 1
    result = cs.import_employees(company_a, rows[:1], actor=manager_a, confirmed_lines={2})
    assert [item.user.username for item in result.created] == ["c10001.kma"]
    assert result.skipped == []


def test_policy_update_logs_what_changed(company_a, manager_a):
    values = {
        "mfa_required": True,
        "allowed_authenticator_types": ["totp"],
        "password_max_age_days": 60,
        "trust_browser_allowed": False,
    }
    changes = cs.update_company_policies(company_a, values, actor=manager_a)
    assert set(changes) == {"mfa_required", "allowed_authenticator_types", "password_max_age_days"}
    company_a.refresh_from_db()
    assert company_a.password_max_age_days == 60
    event = SecurityEvent.objects.get(kind=Kind.POLICY_CHANGED)
    assert event.company == company_a and event.actor == manager_a
    assert cs.update_company_policies(company_a, values, actor=manager_a) == {}


def test_password_state_filter_respects_the_company_maximum_age(company_a):
    company_a.password_max_age_days = 30
    company_a.save()
    now = timezone.now()
    old = make_user("c10001.ol", company=company_a)
    soon = make_user("c10001.so", company=company_a)
    fresh = make_user("c10001.fr", company=company_a)
    User.objects.filter(pk=old.pk).update(password_changed_at=now - timedelta(days=31))
    User.objects.filter(pk=soon.pk).update(password_changed_at=now - timedelta(days=25))
    qs = User.objects.filter(company=company_a)
    assert list(qs.filter(cs.password_state_filter(company_a, "expired"))) == [old]
    assert list(qs.filter(cs.password_state_filter(company_a, "expiring"))) == [soon]
    assert fresh in qs.filter(cs.password_state_filter(company_a, "ok"))
    never = Company.objects.create(name="N", customer_number="30003", password_max_age_days=0)
    assert not qs.filter(cs.password_state_filter(never, "expired")).exists()
