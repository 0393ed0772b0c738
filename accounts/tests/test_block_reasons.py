"""Who may lift a block: its owner for a lockout after failed sign-ins, only staff for a block
by a Security Manager or the provider (offboarding, suspension)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from accounts import company_services as cs
from accounts import roles, services, tokens
from accounts.models import SecurityEvent, User
from conftest import PASSWORD, make_user

from .helpers import link_in, page_text

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
Reason = User.BlockReason
NEW = "a-brand-new-passphrase-7"
CHECK_URL = "/account/unblock/"
FORGOT_URL = "/account/password/forgot/"


@pytest.fixture
def locked_out(employee_a, sign_in):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(employee_a, password="wrong-password-1")
    employee_a.refresh_from_db()
    return employee_a


@pytest.fixture
def manager_blocked(employee_a, manager_a):
    cs.block_employees([employee_a], actor=manager_a)
    employee_a.refresh_from_db()
    return employee_a


def _reset_link(user) -> str:
    token = tokens.password_reset_token.make_token(user)
    return f"/account/password/reset/{tokens.encode_uid(user)}/{token}/"


def _unblock_link(user) -> str:
    return f"/account/unblock/{tokens.encode_uid(user)}/{tokens.unblock_token.make_token(user)}/"


def test_failed_sign_ins_record_a_lockout(locked_out):
    assert locked_out.is_blocked
    assert locked_out.blocked_reason == Reason.LOCKOUT
    assert locked_out.is_locked_out and not locked_out.is_blocked_by_manager


def test_a_managers_block_is_recorded_as_such(manager_blocked):
    assert manager_blocked.blocked_reason == Reason.MANAGER
    assert manager_blocked.is_blocked_by_manager and not manager_blocked.is_locked_out


def test_staff_blocking_a_managers_block_take_it_over(
    admin_client_verified, manager_blocked, manager_a, provider_admin
):
    admin_client_verified.post(
        "/admin/accounts/user/",
        {"action": "block_employees", ACTION_CHECKBOX_NAME: [manager_blocked.pk]},
    )
    manager_blocked.refresh_from_db()
    assert manager_blocked.blocked_reason == Reason.STAFF and manager_blocked.blocked_by_staff
    event = SecurityEvent.objects.filter(user=manager_blocked).order_by("-id").first()
    assert event.kind == Kind.BLOCKED and event.actor == provider_admin
    # The Security Manager can no longer lift it.
    assert cs.unblock_employees([manager_blocked], actor=manager_a) == 0
    manager_blocked.refresh_from_db()
    assert manager_blocked.is_blocked


def test_blocking_again_changes_nothing_for_the_same_side(manager_blocked, manager_a, agent):
    assert cs.block_employees([manager_blocked], actor=manager_a) == 0
    cs.block_employees([manager_blocked], actor=agent)
    assert cs.block_employees([manager_blocked], actor=agent) == 0
    assert SecurityEvent.objects.filter(user=manager_blocked, kind=Kind.BLOCKED).count() == 2


def test_a_block_of_unknown_origin_counts_as_a_managers(employee_a):
    employee_a.blocked_at = timezone.now()  # e.g. set in the admin's form
    assert employee_a.is_blocked_by_manager and not employee_a.is_locked_out


def test_the_report_on_a_manager_blocked_account_says_ask_the_security_manager(
    client, manager_blocked, mailoutbox
):
    client.post(CHECK_URL, {"identifier": manager_blocked.username})
    [mail] = mailoutbox
    assert "blocked by a Security Manager of your company" in mail.body
    assert "please contact one of them" in mail.body
    assert "/account/unblock/" not in mail.body
    assert "/account/unblock/" not in mail.alternatives[0][0]
    event = SecurityEvent.objects.get(kind=Kind.ACCOUNT_CHECKED)
    assert event.user == manager_blocked and event.data == {"blocked": True}


def test_the_report_on_an_account_blocked_by_provider_staff_points_to_support(
    client, outsider, provider_admin, mailoutbox
):
    cs.block_employees([outsider], actor=provider_admin)
    client.post(CHECK_URL, {"identifier": outsider.email})
    [mail] = mailoutbox
    assert "blocked by our staff" in mail.body
    assert "http://portal.test/account/login/help/" in mail.body
    assert "/account/unblock/" not in mail.body


def test_the_report_on_a_locked_out_account_still_has_an_unblock_link(
    client, locked_out, mailoutbox
):
    mailoutbox.clear()
    client.post(CHECK_URL, {"identifier": locked_out.username})
    path = link_in(mailoutbox[-1], "/account/unblock/")
    assert client.post(path).status_code == 302
    locked_out.refresh_from_db()
    assert not locked_out.is_blocked and locked_out.blocked_reason == ""


def test_an_unblock_link_does_not_lift_a_managers_block(client, manager_blocked):
    link = _unblock_link(manager_blocked)
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400
    manager_blocked.refresh_from_db()
    assert manager_blocked.is_blocked


def test_blocking_a_locked_out_account_kills_its_unblock_link(
    client, locked_out, manager_a, mailoutbox
):
    path = link_in(mailoutbox[-1], "/account/unblock/")  # the lockout email
    assert cs.block_employees([locked_out], actor=manager_a) == 1
    locked_out.refresh_from_db()
    assert locked_out.blocked_reason == Reason.MANAGER
    assert client.post(path).status_code == 400
    locked_out.refresh_from_db()
    assert locked_out.is_blocked


def test_unblocking_by_the_manager_clears_the_reason(manager_blocked, manager_a):
    assert cs.unblock_employees([manager_blocked], actor=manager_a) == 1
    manager_blocked.refresh_from_db()
    assert not manager_blocked.is_blocked
    assert manager_blocked.blocked_reason == ""
    assert manager_blocked.failed_login_count == 0


def test_forgotten_password_of_a_manager_blocked_account_sends_no_link(
    client, manager_blocked, mailoutbox
):
    known = client.post(FORGOT_URL, {"identifier": manager_blocked.email}, follow=True)
    unknown = client.post(FORGOT_URL, {"identifier": "nobody@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    # the page tells nobody about the block
    assert page_text(known, manager_blocked.email) == page_text(unknown, "nobody@example.org")
    mail = next(m for m in mailoutbox if m.to == [manager_blocked.email])
    assert mail.subject == "Your password cannot be reset while your account is blocked"
    assert "/account/password/reset/" not in mail.body
    assert "/account/password/reset/" not in mail.alternatives[0][0]
    assert "blocked by a Security Manager of your company" in mail.body
    event = SecurityEvent.objects.get(user=manager_blocked, kind=Kind.PASSWORD_RESET_REQUESTED)
    assert event.data == {"refused": "blocked"}


def test_forgotten_password_of_a_locked_out_account_still_sends_a_link(
    client, locked_out, mailoutbox
):
    client.post(FORGOT_URL, {"identifier": locked_out.email})
    assert link_in(mailoutbox[-1], "/account/password/reset/")


def test_a_reset_link_from_before_the_block_is_refused(client, employee_a, manager_a):
    link = _reset_link(employee_a)
    cs.block_employees([employee_a], actor=manager_a)
    response = client.get(link)
    assert response.status_code == 400
    assert "accounts/link_invalid.html" in [t.name for t in response.templates]
    response = client.post(link, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert employee_a.is_blocked_by_manager
    assert employee_a.check_password(PASSWORD)
    assert "_auth_user_id" not in client.session


def test_reset_password_itself_keeps_a_managers_block_and_signs_nobody_in(rf, manager_blocked):
    request = rf.post("/")
    assert services.reset_password(request, manager_blocked, NEW) is False
    manager_blocked.refresh_from_db()
    assert manager_blocked.is_blocked_by_manager
    assert not SecurityEvent.objects.filter(user=manager_blocked, kind=Kind.UNBLOCKED).exists()


def test_a_reset_lifts_a_lockout_and_signs_in(client, locked_out):
    response = client.post(_reset_link(locked_out), {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/dashboard/"
    locked_out.refresh_from_db()
    assert not locked_out.is_blocked and locked_out.blocked_reason == ""


def test_the_manager_sends_no_reset_link_to_an_account_they_blocked(
    manager_blocked, manager_a, mailoutbox
):
    assert cs.send_password_resets([manager_blocked], actor=manager_a) == 0
    assert mailoutbox == []


def test_the_manager_may_send_a_reset_link_to_a_locked_out_account(
    client, locked_out, manager_a, mailoutbox
):
    assert cs.send_password_resets([locked_out], actor=manager_a) == 1
    path = link_in(mailoutbox[-1], "/account/password/reset/")
    response = client.post(path, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    locked_out.refresh_from_db()
    assert not locked_out.is_blocked


def test_the_help_page_says_only_the_manager_lifts_their_block(client):
    page = client.get("/account/login/help/").content.decode()
    assert "only they can lift it" in page


# --- The migration that recorded the reason of the blocks that existed before ---------------

migration = importlib.import_module("accounts.migrations.0006_block_reason_and_kept_security_log")


def _block(user, *, at, reason="", event=None, event_at=None) -> None:
    User.objects.filter(pk=user.pk).update(blocked_at=at, blocked_reason=reason)
    if event is not None:
        created = event_at or at
        row = services.record_event(Kind.BLOCKED, user, reason=event)
        SecurityEvent.objects.filter(pk=row.pk).update(created_at=created)


def test_the_migration_recognises_a_lockout_by_its_event(company_a, employee_a):
    now = timezone.now()
    lockout, manager, unknown, stale, counted = (
        make_user(f"c10001.m{letter}", company=company_a) for letter in "abcde"
    )
    _block(lockout, at=now, event="failed_sign_ins", event_at=now + timedelta(milliseconds=3))
    _block(manager, at=now, event="manager")
    _block(unknown, at=now)  # set in the admin's form: no event
    # Locked out last year (and unblocked), blocked in the admin's form today.
    _block(stale, at=now, event="failed_sign_ins", event_at=now - timedelta(days=300))
    # A manager's block with failed attempts counted on it afterwards.
    _block(counted, at=now, event="manager")
    User.objects.filter(pk=counted.pk).update(failed_login_count=settings.LOGIN_FAILURE_LIMIT)

    migration.infer_block_reasons(apps, None)

    reasons = dict(
        User.objects.filter(blocked_at__isnull=False).values_list("pk", "blocked_reason")
    )
    assert reasons == {
        lockout.pk: Reason.LOCKOUT,
        manager.pk: Reason.MANAGER,
        unknown.pk: Reason.MANAGER,
        stale.pk: Reason.MANAGER,
        counted.pk: Reason.MANAGER,
    }
    employee_a.refresh_from_db()
    assert employee_a.blocked_reason == ""  # not blocked: nothing to record


def test_the_migration_copies_the_user_name_onto_existing_events(employee_a):
    event = services.record_event(Kind.SIGNED_IN, employee_a)
    SecurityEvent.objects.filter(pk=event.pk).update(username="")
    migration.copy_usernames(apps, None)
    event.refresh_from_db()
    assert event.username == employee_a.username


# A block only a Security Manager can lift: the emails to the account's own address name the
# colleagues who can, not just "your Security Manager". The pages, which anyone may see
# signed out, name nobody.


@pytest.fixture
def colleagues_who_manage(company_a, company_b, manager_a):
    """manager_a ("C10001 Tester") and Sabine Meyer can act; the others cannot or are not
    the company's managers."""
    group = roles.SECURITY_MANAGERS
    make_user("c10001.sm", company=company_a, group=group, first_name="Sabine", last_name="Meyer")
    make_user("c10001.bl", company=company_a, group=group, first_name="Blocked", last_name="Boss")
    make_user("c10001.gn", company=company_a, group=group, first_name="Gone", last_name="Boss")
    make_user("c20002.ot", company=company_b, group=group, first_name="Other", last_name="Firm")
    User.objects.filter(username="c10001.bl").update(blocked_at=timezone.now())
    User.objects.filter(username="c10001.gn").update(is_active=False)
    return ["C10001 Tester", "Sabine Meyer"]


CANNOT_ACT = ["Blocked Boss", "Gone Boss", "Other Firm"]


def _assert_lists_exactly(mail, names: list[str]) -> None:
    """Both parts of ``mail`` list ``names`` and none of the managers who cannot act."""
    html = mail.alternatives[0][0]
    for name in names:
        assert f"- {name}\n" in mail.body
        assert f"<li>{name}</li>" in html
    for name in CANNOT_ACT:
        assert name not in mail.body and name not in html


@pytest.mark.parametrize("url", [FORGOT_URL, CHECK_URL])
def test_the_email_about_a_managers_block_names_who_can_lift_it(
    client, colleagues_who_manage, manager_blocked, mailoutbox, url
):
    response = client.post(url, {"identifier": manager_blocked.username}, follow=True)
    [mail] = mailoutbox
    assert "Only your company's Security Managers can unblock it" in mail.body
    _assert_lists_exactly(mail, colleagues_who_manage)
    for name in colleagues_who_manage:
        assert name not in response.text


def test_a_blocked_security_manager_is_told_the_other_managers_not_themselves(
    client, colleagues_who_manage, manager_a, agent, mailoutbox
):
    cs.block_employees([manager_a], actor=User.objects.get(username="c10001.sm"))
    client.post(FORGOT_URL, {"identifier": manager_a.username})
    [mail] = mailoutbox
    assert "- Sabine Meyer" in mail.body
    assert "C10001 Tester" not in mail.body.split("\n", 1)[1]  # only in the greeting


def test_with_no_colleague_who_can_act_it_says_what_it_said(
    client, employee_a, manager_a, mailoutbox
):
    cs.block_employees([employee_a], actor=manager_a)
    User.objects.filter(pk=manager_a.pk).update(is_active=False)
    client.post(FORGOT_URL, {"identifier": employee_a.username})
    [mail] = mailoutbox
    assert "Only they can unblock it: please contact them." in mail.body


def test_the_report_on_an_account_the_company_deactivated_names_who_can_reactivate_it(
    client, colleagues_who_manage, employee_a, manager_a, mailoutbox
):
    cs.deactivate_employees([employee_a], actor=manager_a)
    client.post(CHECK_URL, {"identifier": employee_a.username})
    [mail] = mailoutbox
    assert "can only be reactivated by your company's Security Managers" in mail.body
    _assert_lists_exactly(mail, colleagues_who_manage)
