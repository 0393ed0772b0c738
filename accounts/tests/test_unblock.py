"""Check and unblock your account: status report, unblock links, rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, tokens
from accounts.models import SecurityEvent, User
from conftest import PASSWORD
from mfa.services import regenerate_backup_codes

from .helpers import link_in, page_text

pytestmark = pytest.mark.django_db

URL = "/account/unblock/"


@pytest.fixture
def blocked(outsider):
    """Locked out after failed sign-ins: the block its owner may lift."""
    outsider.blocked_at = timezone.now()
    outsider.blocked_reason = User.BlockReason.LOCKOUT
    outsider.failed_login_count = 5
    outsider.save()
    return outsider


def _unblock_link(user) -> str:
    return f"/account/unblock/{tokens.encode_uid(user)}/{tokens.unblock_token.make_token(user)}/"


def test_it_answers_known_and_unknown_accounts_alike(client, outsider, mailoutbox):
    known = client.post(URL, {"identifier": outsider.username}, follow=True)
    unknown = client.post(URL, {"identifier": "c12345.zz"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert page_text(known) == page_text(unknown)
    assert [m.to for m in mailoutbox] == [[outsider.email]]


def test_unknown_email_address_gets_a_no_account_email(client, mailoutbox):
    response = client.post(URL, {"identifier": "nobody@example.org"})
    assert response["Location"] == "/account/unblock/sent/"
    assert mailoutbox[0].to == ["nobody@example.org"]
    assert "No account uses this email address." in mailoutbox[0].body


def test_the_report_of_an_active_account_has_no_unblock_link_and_no_secrets(
    client, outsider, mailoutbox
):
    TOTPDevice.objects.create(user=outsider, name="default", confirmed=True)
    regenerate_backup_codes(None, outsider)
    client.post(URL, {"identifier": outsider.email.upper()})
    body = mailoutbox[-1].body
    assert outsider.username in body
    assert "active, not blocked" in body
    assert "Authenticator app" in body
    assert "Backup codes" in body
    assert "/account/unblock/" not in body
    assert outsider.password not in body
    device = TOTPDevice.objects.get(user=outsider)
    assert device.key not in body
    assert SecurityEvent.objects.filter(user=outsider, kind="account_checked").count() == 1


def test_the_report_of_a_blocked_account_has_an_unblock_link(client, blocked, mailoutbox):
    client.post(URL, {"identifier": blocked.username})
    body = mailoutbox[0].body
    assert "Status: blocked" in body
    assert link_in(mailoutbox[0], "/account/unblock/")


def test_at_most_three_reports_per_account_and_hour(client, outsider, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            response = client.post(URL, {"identifier": outsider.username})
            assert response.status_code == 302
        assert len(mailoutbox) == 3
        traveller.shift(timedelta(minutes=61))
        client.post(URL, {"identifier": outsider.username})
        assert len(mailoutbox) == 4


def test_an_empty_identifier_is_a_form_error(client):
    response = client.post(URL, {"identifier": "   "})
    assert response.status_code == 400
    assert "identifier" in response.context["form"].errors


def test_the_unblock_link_opens_a_confirmation_page_that_changes_nothing(client, blocked):
    response = client.get(_unblock_link(blocked))
    assert response.status_code == 200
    assert b"Unblock my account" in response.content
    blocked.refresh_from_db()
    assert blocked.is_blocked


def test_confirming_unblocks_without_signing_in(client, blocked):
    response = client.post(_unblock_link(blocked), follow=True)
    assert response.redirect_chain[-1][0] == f"/account/login/?user={blocked.username}"
    assert "Your account is unblocked." in response.content.decode()
    # The account the link proved is filled in: only the password is left to type.
    assert f'name="identify-username" value="{blocked.username}"' in response.content.decode()
    blocked.refresh_from_db()
    assert not blocked.is_blocked
    assert blocked.failed_login_count == 0
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(user=blocked, kind="unblocked").exists()


def test_the_unblock_link_works_once(client, blocked):
    link = _unblock_link(blocked)
    client.post(link)
    assert client.get(link).status_code == 400
    # Blocked again later: the old link stays dead.
    blocked.blocked_at = timezone.now() + timedelta(seconds=5)
    blocked.save()
    assert client.post(link).status_code == 400


def test_the_unblock_link_expires_after_an_hour(client, blocked):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        link = _unblock_link(blocked)
        traveller.shift(timedelta(minutes=61))
        assert client.post(link).status_code == 400
    blocked.refresh_from_db()
    assert blocked.is_blocked


def test_further_failed_attempts_do_not_spoil_the_unblock_link(client, blocked):
    link = _unblock_link(blocked)
    services.check_sign_in_password(None, blocked.username, "wrong-password-1")
    assert client.post(link).status_code == 302


def test_after_unblocking_the_user_can_sign_in(client, blocked, sign_in):
    client.post(_unblock_link(blocked))
    response = sign_in(blocked, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(blocked.pk)
