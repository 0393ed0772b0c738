"""Authorization audit of the account pages: who may lift whose block, what a public form's
work tells about an address, what an old session may change without the password, and which
emailed link takes which token."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import company_services as cs
from accounts import email_change, sessions_service, tasks, tokens
from accounts.models import EmailChangeRequest, SecurityEvent, User, UserSession
from accounts.tests.manage_helpers import sign_in_verified
from conftest import PASSWORD

from .helpers import TIMING_BROWSER, manager_request

pytestmark = pytest.mark.django_db
ACTIONS = "/manage/employees/actions/"
NEW = "a-brand-new-passphrase-7"


# --- A block by provider staff is staff's to lift ---------------------------------------------


@pytest.fixture
def staff_blocked(employee_a, provider_admin):
    cs.block_employees([employee_a], actor=provider_admin)
    employee_a.refresh_from_db()
    assert employee_a.blocked_by_staff
    return employee_a


def test_a_security_manager_cannot_lift_a_block_by_provider_staff(client, manager_a, staff_blocked):
    sign_in_verified(client, manager_a)
    response = client.post(ACTIONS, {"action": "unblock", "ids": [staff_blocked.pk]}, follow=True)
    assert response.redirect_chain == [(f"/manage/employees/{staff_blocked.pk}/", 302)]
    assert "only our support team can unblock them" in response.content.decode()
    staff_blocked.refresh_from_db()
    assert staff_blocked.blocked_by_staff
    assert not SecurityEvent.objects.filter(user=staff_blocked, kind="unblocked").exists()


def test_the_employee_page_offers_no_unblock_for_a_block_by_provider_staff(
    client, manager_a, staff_blocked
):
    sign_in_verified(client, manager_a)
    body = client.get(f"/manage/employees/{staff_blocked.pk}/").content.decode()
    assert 'value="unblock"' not in body
    assert "Blocked by the provider: only our support team can unblock it." in body


def test_the_employee_page_says_nothing_of_the_provider_for_a_managers_block(
    client, manager_a, employee_a
):
    cs.block_employees([employee_a], actor=manager_a)
    sign_in_verified(client, manager_a)
    body = client.get(f"/manage/employees/{employee_a.pk}/").content.decode()
    assert 'value="unblock"' in body
    assert "Blocked by the provider" not in body


def test_provider_staff_still_lift_their_own_block(staff_blocked, provider_admin):
    assert cs.unblock_employees([staff_blocked], actor=provider_admin) == 1
    staff_blocked.refresh_from_db()
    assert not staff_blocked.is_blocked


# --- "Forgot your user name?": the same work for any address ----------------------------------

USERNAME_URL = "/account/username/forgot/"


@pytest.fixture
def queued(monkeypatch):
    """The reminder tasks the requests queue, not run."""
    calls = []
    monkeypatch.setattr(tasks.send_username_reminder, "delay", lambda *args: calls.append(args))
    return calls


def _username_request_work(client, email: str) -> tuple:
    events_before = SecurityEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(USERNAME_URL, {"email": email}, HTTP_USER_AGENT=TIMING_BROWSER)
    assert response["Location"] == "/account/username/forgot/sent/"
    templates = sorted(t.name for t in response.templates)
    return len(queries), templates, SecurityEvent.objects.count() - events_before


def test_the_username_reminder_does_the_same_work_whether_the_address_is_known(
    client, outsider, employee_a, queued, mailoutbox
):
    """The known address rendered its email and wrote the log in the request, about twice the
    time of an unknown one's: the answer's timing told which addresses have an account."""
    _username_request_work(client, "warm-up@example.org")  # the session exists from here on
    work = [
        _username_request_work(client, address)
        for address in (outsider.email, "nobody@example.org", employee_a.email)
    ]
    assert all(w == work[0] for w in work), work
    assert work[0][1] == [] and work[0][2] == 0  # nothing rendered, nothing logged
    assert mailoutbox == []
    assert [call[0] for call in queued] == [
        "warm-up@example.org",
        outsider.email,
        "nobody@example.org",
        employee_a.email,
    ]


def test_the_username_task_gets_the_requests_origin_and_language(client, outsider, queued):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    client.post(USERNAME_URL, {"email": outsider.email}, HTTP_USER_AGENT=TIMING_BROWSER)
    assert queued == [(outsider.email, "127.0.0.1", TIMING_BROWSER, "de")]


def test_the_username_task_sends_the_reminder_and_logs_the_requests_origin(outsider, mailoutbox):
    tasks.send_username_reminder(outsider.email, "203.0.113.9", TIMING_BROWSER, "en")
    assert mailoutbox[-1].to == [outsider.email]
    assert outsider.username in mailoutbox[-1].body
    event = SecurityEvent.objects.get(user=outsider, kind="username_reminder")
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", TIMING_BROWSER)


def test_the_username_task_writes_the_no_account_email_in_the_requests_language(mailoutbox):
    tasks.send_username_reminder("nobody@example.org", None, "", "de")
    [mail] = mailoutbox
    assert mail.to == ["nobody@example.org"]
    assert "Diese E-Mail-Adresse wird von keinem Konto verwendet." in mail.body


# --- A required password change from an old session needs the current password --------------

CHANGE_URL = "/account/password/initial/"


def test_a_password_that_expires_during_a_session_is_not_replaced_without_the_old_one(
    client, sign_in, employee_a
):
    """A session left open (an unattended browser, a stolen cookie) must not set a new password
    once the old one expires: the change page then asks for the current password, as "Update
    password" does after REAUTHENTICATION_MAX_AGE."""
    now = timezone.now()
    max_age = timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)
    changed_at = now - max_age + timedelta(minutes=10)  # expires ten minutes after sign-in
    User.objects.filter(pk=employee_a.pk).update(password_changed_at=changed_at)
    sign_in(employee_a)
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        assert client.get("/dashboard/")["Location"] == CHANGE_URL  # still signed in
        response = client.post(CHANGE_URL, {"new_password1": NEW, "new_password2": NEW})
        assert response.status_code == 400
        employee_a.refresh_from_db()
        assert employee_a.check_password(PASSWORD)
        response = client.post(
            CHANGE_URL,
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        )
        assert response.status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.check_password(NEW)


@pytest.fixture
def compromised_and_signed_in(client, sign_in, employee_a):
    """Signed in with a password marked compromised: the change page is the required action."""
    employee_a.password_compromised = True
    employee_a.save()
    sign_in(employee_a)
    return employee_a


def _post_change_after_reauthentication_period(client, fields: dict):
    with time_machine.travel(time.time() + settings.REAUTHENTICATION_MAX_AGE + 1, tick=False):
        return client.post(CHANGE_URL, fields)


def test_a_wrong_current_password_on_the_required_change_counts_as_a_failed_sign_in(
    client, compromised_and_signed_in, employee_a
):
    response = _post_change_after_reauthentication_period(
        client, {"old_password": "wrong-1", "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 400
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 1
    assert employee_a.check_password(PASSWORD)


def test_a_page_opened_right_after_sign_in_and_sent_later_asks_for_the_current_password(
    client, compromised_and_signed_in, employee_a
):
    assert 'name="old_password"' not in client.get(CHANGE_URL).content.decode()
    response = _post_change_after_reauthentication_period(
        client, {"new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert 'name="old_password"' in content
    assert "This page was open for a while" in content
    employee_a.refresh_from_db()
    assert employee_a.failed_login_count == 0
    assert employee_a.check_password(PASSWORD)


def test_the_initial_password_is_changed_right_after_sign_in_without_typing_it_again(
    client, sign_in, employee_a
):
    employee_a.must_change_password = True
    employee_a.save()
    sign_in(employee_a)
    response = client.post(CHANGE_URL, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    employee_a.refresh_from_db()
    assert employee_a.check_password(NEW)


# --- Emailed links: each purpose's token is refused by every other link -------------------------

UID_LINKS = {
    "verify": ("/account/verify/", "email_verification_token"),
    "unblock": ("/account/unblock/", "unblock_token"),
    "reset": ("/account/password/reset/", "password_reset_token"),
}


@pytest.fixture
def locked_out_unverified(employee_a):
    """An account every uid/token link applies to: unverified and locked out."""
    employee_a.email_verified = False
    employee_a.blocked_at = timezone.now()
    employee_a.blocked_reason = User.BlockReason.LOCKOUT
    employee_a.save()
    return employee_a


@pytest.mark.parametrize("made_for", list(UID_LINKS))
@pytest.mark.parametrize("opened_at", list(UID_LINKS))
def test_a_uid_token_link_works_only_for_its_own_purpose(
    client, locked_out_unverified, made_for, opened_at
):
    user = locked_out_unverified
    token = getattr(tokens, UID_LINKS[made_for][1]).make_token(user)
    path = f"{UID_LINKS[opened_at][0]}{tokens.encode_uid(user)}/{token}/"
    expected = 200 if made_for == opened_at else 400
    assert client.get(path).status_code == expected
    if made_for != opened_at:
        assert client.post(path, {"new_password1": NEW, "new_password2": NEW}).status_code == 400
    user.refresh_from_db()
    assert (user.is_locked_out, user.email_verified) == (True, False)
    assert user.check_password(PASSWORD)


def _signed_tokens(user, newcomer, manager_request) -> dict[str, str]:
    """One genuine token of each signed kind: ``user``'s, and ``newcomer``'s activation."""
    row = UserSession.objects.create(user=user, session_key_hash="x")
    change = EmailChangeRequest.objects.create(
        user=user, new_email="n@example.org", key_hash=email_change._hash("x")
    )
    newcomer.set_unusable_password()  # a new employee's, before activation
    newcomer.save()
    return {
        "report": signing.dumps({"s": row.pk, "u": user.pk}, salt=sessions_service.REPORT_SALT),
        "email": signing.dumps({"r": change.pk, "k": "x"}, salt=email_change.SALT),
        "activate": cs.make_activation_token(newcomer),
        "status": cs.request_status_token(manager_request),
    }


SIGNED_LINKS = {
    "report": ("/account/sign-in/report/{}/", 404),
    "email": ("/account/email/confirm/{}/", 404),
    "activate": ("/access/activate/{}/", 400),
    "status": ("/access/security-manager/status/{}/", 404),
}


def test_a_signed_link_refuses_the_tokens_of_the_other_links(
    client, sign_in, employee_a, employee_a2
):
    """Each kind is signed with its own salt: none opens another's page, even where the
    payloads would fit (a session row's id read as a request's)."""
    signed = _signed_tokens(employee_a, employee_a2, manager_request())
    sign_in(employee_a)  # the email change page needs a recent sign-in of the link's user
    for opened_at, (path, refused) in SIGNED_LINKS.items():
        for made_for, token in signed.items():
            expected = 200 if made_for == opened_at else refused  # its own page opens
            response = client.get(path.format(token))
            assert response.status_code == expected, (made_for, opened_at)
    employee_a2.refresh_from_db()
    assert not employee_a2.has_usable_password()


def test_the_this_wasnt_me_link_expires(client, sign_in, employee_a, mailoutbox):
    sign_in(employee_a)
    other = Client()
    sign_in(employee_a, c=other)  # a second browser: the alert with its link
    [alert] = [m for m in mailoutbox if "was this you" in m.subject]
    path = re.search(r"http://portal\.test(/account/sign-in/report/\S+/)", alert.body)[1]
    later = timezone.now() + timedelta(seconds=settings.SIGN_IN_REPORT_TIMEOUT + 1)
    with time_machine.travel(later, tick=False):
        assert Client().get(path).status_code == 404
        assert Client().post(path).status_code == 404
    assert not SecurityEvent.objects.filter(kind="sign_in_reported").exists()


def test_every_action_left_to_staff_has_its_warning():
    from accounts.company_views import _LEFT_TO_STAFF

    assert set(_LEFT_TO_STAFF) == set(cs.STAFF_ONLY_ACTIONS)
